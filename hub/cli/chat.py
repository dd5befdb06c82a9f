"""``omnihub chat``: talk to the bot in the terminal, through the same pipeline and store."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from hub.app import Hub
from hub.channels.terminal import CliChannel
from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.model import InboundMessage


def add_commands(sub: Subparsers) -> None:
    chat = sub.add_parser("chat", help="talk to the bot in the terminal (reads stdin when piped)")
    chat.add_argument(
        "--as", dest="address", default="local-user", help="who you are: a phone number or a name"
    )
    chat.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_chat(settings, args.address))
    return 0


async def _chat(settings: Settings, address: str) -> None:
    channel = CliChannel(sys.stdout)
    hub = Hub(settings, extra_channels=[channel], include_configured_channels=False)
    await hub.start(dispatch=False)
    interactive = sys.stdin.isatty()
    try:
        if interactive:
            print("omnihub chat: type a message, Ctrl-D to leave.", file=sys.stderr)
        while True:
            line = await asyncio.to_thread(_read_line, "you> " if interactive else "")
            if line is None:
                break
            if not line.strip():
                continue
            await hub.inbound.accept(
                InboundMessage(
                    channel=channel.name,
                    sender=address,
                    provider_message_id=uuid.uuid4().hex,
                    text=line.rstrip("\n"),
                )
            )
            await hub.inbound.idle()
            await hub.dispatcher.drain()
    finally:
        await hub.close()


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
