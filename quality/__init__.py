"""Service quality: ratings of the staff who served, their daily review, statistics and monthly reports."""
