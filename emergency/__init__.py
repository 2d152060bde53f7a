"""The emergency line for citizens abroad: missions and their duty rosters, reports around the clock, alerts,
service levels by severity and escalation up the ranks until solved, and the monthly report to each mission."""
