"""Requests and their life: applicants, intake, tracking numbers, status history."""
