"""Fake provider servers that record what the hub sent them."""
