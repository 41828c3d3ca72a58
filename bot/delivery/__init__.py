"""Sending: the outbox, progress messages, quiet hours, the rate limiter, outages and claims."""
