"""Conversation flows: understood messages in, replies out."""
