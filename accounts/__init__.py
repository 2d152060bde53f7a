"""Staff accounts: users, roles, passwords, sign-in sessions and the audit log of staff actions."""
