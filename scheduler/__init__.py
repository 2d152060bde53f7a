"""The official's audience calendar: templates, dated sessions, slots, appointments and the allocation."""
