"""Triage: categories, urgency, the priority score, duplicates and the fairness record."""
