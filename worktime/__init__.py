"""Working calendars: the days and hours a body works, in its own time zone, and its days off.

One model serves the official's audience calendar (its days off), the
departments that answer referrals, and the missions abroad of the emergency line.
"""
