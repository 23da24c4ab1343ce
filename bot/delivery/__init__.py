"""Delivery: the schedule (what is due), the outbox's messages, and the paced sender."""
