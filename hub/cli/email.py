"""``omnihub email check``: try the email settings before citizens depend on them.

Logs in to the relay and the mailbox, checks the listener's port is free, and with
``--send-to`` sends one mail through the same path answers take. Each part prints
one line, ``ok`` or what went wrong, so whoever deploys the hub sees a wrong
password or a firewall at once instead of in a log days later.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from datetime import UTC, datetime

from aiohttp import ClientSession

from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.model import OutboundMessage
from hub.resources import templates_dir

CHECK_TEXT = (
    "omnihub email check: the relay took this mail from the hub at {when}.\n"
    "Replies to this address reach the hub's mailbox; this one needs no answer."
)


def add_commands(sub: Subparsers) -> None:
    email = sub.add_parser("email", help="email channel: check the settings")
    email_sub = email.add_subparsers(dest="email_command", required=True)
    check = email_sub.add_parser(
        "check", help="log in to the SMTP relay and the IMAP mailbox, test the listener's port"
    )
    check.add_argument("--send-to", metavar="ADDRESS", help="also send one test mail there")
    email.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_check(settings, args.send_to))


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _port_free(host: str, port: int) -> str | None:
    """None when ``host:port`` can be bound (as the listener will), else why not."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


async def _check(settings: Settings, send_to: str | None) -> int:
    from hub.channels.email import EmailChannel

    config = settings.channels.email
    channel = EmailChannel(config, templates_dir(), settings.server.public_url)
    failures = 0
    if not config.enabled:
        print("email: channels.email.enabled is false (checking the settings anyway)")

    def report(part: str, problem: str | None, good: str) -> None:
        nonlocal failures
        failures += problem is not None
        print(f"{part}: {'FAILED: ' + problem if problem else 'ok, ' + good}")

    if not config.smtp.host:
        report("smtp", "channels.email.smtp.host is empty", "")
    else:
        try:
            await channel.check_relay()
            mode = "TLS" if config.smtp.ssl else "STARTTLS" if config.smtp.starttls else "plain"
            login = "logged in" if config.smtp.username else "no login"
            report("smtp", None, f"{config.smtp.host}:{config.smtp.port}, {mode}, {login}")
        except Exception as exc:
            report("smtp", _why(exc), "")
    if config.imap.enabled:
        try:
            waiting = await channel.check_mailbox()
            report("imap", None, f"{config.imap.folder} has {waiting} waiting mail(s)")
        except Exception as exc:
            report("imap", _why(exc), "")
    else:
        print("imap: not enabled")
    if config.listen.enabled:
        problem = _port_free(config.listen.host, config.listen.port)
        report("listen", problem, f"{config.listen.host}:{config.listen.port} is free")
    else:
        print("listen: not enabled")
    if send_to:
        async with ClientSession() as http:
            await channel.start_sending(http)
            message = OutboundMessage(
                channel="email",
                recipient=send_to,
                text=CHECK_TEXT.format(when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
                idempotency_key=f"check-{datetime.now(UTC).timestamp():.0f}",
                locale=settings.locale.default,
            )
            try:
                result = await channel.send(message)
                report("send", None, f"accepted by the relay as {result.provider_message_id}")
            except Exception as exc:
                report("send", _why(exc), "")
    return 1 if failures else 0
