"""The WhatsApp desk: requests, complaints and status enquiries by WhatsApp, and the staff inbox behind it."""
