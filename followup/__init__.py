"""After the audit or the audience: referral to departments, deadlines in their working time,
the daily follow-up, escalation up the ranks, and the applicant told until the request is done."""
