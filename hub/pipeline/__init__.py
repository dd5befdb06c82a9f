"""The way of a message: inbound, understanding, outbound, the outbox and the timed jobs."""
