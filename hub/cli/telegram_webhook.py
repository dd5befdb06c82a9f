"""``omnihub telegram set-webhook``: point Telegram at this hub's webhook."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hub.cli.command import Handler, Subparsers
from hub.config import Settings


def add_commands(sub: Subparsers) -> None:
    telegram = sub.add_parser("telegram", help="Telegram bot setup")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True)
    telegram_sub.add_parser(
        "set-webhook",
        help="register server.public_url + /webhooks/telegram (with the secret token) at Telegram",
    )
    telegram.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    del args  # "set-webhook" is the only subcommand
    return asyncio.run(_set_webhook(settings))


async def _set_webhook(settings: Settings) -> int:
    """Point Telegram at this hub; Telegram then sends the secret token with every update."""
    from telegram.error import TelegramError

    from hub.channels.telegram import WEBHOOK_PATH, TelegramChannel

    config = settings.channels.telegram
    missing = [key for key in ("token", "secret_token") if not getattr(config, key)]
    if missing:
        names = ", ".join(
            f"channels.telegram.{key} (env OMNIHUB_CHANNELS__TELEGRAM__{key.upper()})"
            for key in missing
        )
        print(f"omnihub: set {names} first", file=sys.stderr)
        return 2
    if config.mode == "polling":
        print(
            "omnihub: channels.telegram.mode is polling; a webhook would stop getUpdates "
            "(set mode: webhook first)",
            file=sys.stderr,
        )
        return 2
    url = settings.server.public_url + WEBHOOK_PATH
    if not url.startswith("https://"):
        print(
            f"omnihub: warning: Telegram only calls https:// webhooks, not {url}", file=sys.stderr
        )
    channel = TelegramChannel(config)
    try:
        info = await channel.set_webhook(url)
    except TelegramError as exc:
        print(f"omnihub: Telegram refused: {channel.redact(str(exc))}", file=sys.stderr)
        return 1
    finally:
        await channel.stop()
    print(f"webhook set: {info.url or url}")
    print(f"allowed updates: {', '.join(info.allowed_updates or ())}")
    print(f"pending updates: {info.pending_update_count}")
    if info.last_error_message:
        print(f"last delivery error: {info.last_error_message}")
    return 0
