"""The terminal chat: ``omnihub chat`` talks to the same pipeline as every channel."""

from __future__ import annotations

from typing import TextIO

from hub.channels.base import Capabilities, Channel
from hub.model import AddressKind, OutboundMessage, SendResult


class CliChannel(Channel):
    name = "cli"
    capabilities = Capabilities(
        max_text_length=4000, buttons=False, address_kind=AddressKind.PHONE_OR_NAME
    )

    def __init__(self, output: TextIO, prefix: str = "bot> ") -> None:
        self.output = output
        self.prefix = prefix

    async def send(self, message: OutboundMessage) -> SendResult:
        lines = message.text.splitlines() or [""]
        self.output.write(self.prefix + ("\n" + " " * len(self.prefix)).join(lines) + "\n")
        self.output.flush()
        return SendResult(provider_message_id=message.idempotency_key)
