"""Audience day: arrival at the reception centre, the hall queue, in-person audiences and their outcome,
special-care tasks for protocol, the kiosks at the entrances, and the day's report."""
