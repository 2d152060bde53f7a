"""Messages to applicants: the transactional outbox, message texts and senders."""
