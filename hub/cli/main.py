"""The ``omnihub`` command: serve, chat in the terminal, migrate, check config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from pydantic import ValidationError

from hub.app import HUB, Hub, SchemaOutOfDate, create_app
from hub.catalogue import CatalogueError
from hub.channels.cli import CliChannel
from hub.cli import dialogs as cli_dialogs
from hub.cli import email as cli_email
from hub.cli import keys as cli_keys
from hub.cli import nlu as cli_nlu
from hub.cli import officer as cli_officer
from hub.cli import purge as cli_purge
from hub.cli import token as cli_token
from hub.config import ConfigError, ServerConfig, Settings, load_config
from hub.logs import configure_logging
from hub.model import InboundMessage
from hub.store import Database, migrate

log = logging.getLogger("hub.cli")


def _default_config() -> str | None:
    explicit = os.environ.get("OMNIHUB_CONFIG")
    if explicit:
        return explicit
    return "config.yaml" if Path("config.yaml").is_file() else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnihub", description="MPP Badung omnichannel hub")
    parser.add_argument(
        "--config",
        default=None,
        help="YAML config file (default: $OMNIHUB_CONFIG, else ./config.yaml if present)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hub's HTTP server (webhooks, web chat, metrics)")
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=int, help="override server.port")

    chat = sub.add_parser("chat", help="talk to the bot in the terminal (reads stdin when piped)")
    chat.add_argument(
        "--as", dest="address", default="local-user", help="who you are: a phone number or a name"
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to this version's schema")
    db_sub.add_parser("current", help="print the schema revision of the database")

    cli_nlu.add_commands(sub)
    cli_token.add_commands(sub)
    cli_keys.add_commands(sub)
    cli_officer.add_commands(sub)
    cli_email.add_commands(sub)
    cli_purge.add_commands(sub)
    cli_dialogs.add_commands(sub)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("check", help="validate the configuration and print it (secrets hidden)")

    telegram = sub.add_parser("telegram", help="Telegram bot setup")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True)
    telegram_sub.add_parser(
        "set-webhook",
        help="register server.public_url + /webhooks/telegram (with the secret token) at Telegram",
    )
    return parser


def _hide_url_password(value: str) -> str:
    """``scheme://user:***@host/...`` for a URL that carries a password."""
    try:
        parts = urlsplit(value)
        if not parts.password:
            return value
    except ValueError:
        return "***"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _with_server_flags(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """Command-line flags beat file and environment, and are validated the same way."""
    flags = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if not flags:
        return settings
    try:
        server = ServerConfig.model_validate({**settings.server.model_dump(), **flags})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"--{error['loc'][0]}: {error['msg']}") from None
    return settings.model_copy(update={"server": server})


def _redacted(settings: Settings) -> dict[str, object]:
    def walk(value: object, key: str = "") -> object:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        secret = any(word in key for word in ("token", "secret", "password", "nik_keys"))
        if secret and value:
            return "***"
        return _hide_url_password(value) if isinstance(value, str) and "://" in value else value

    result = walk(settings.model_dump(mode="json"))
    assert isinstance(result, dict)
    return result


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(
        app, handle_signals=False, shutdown_timeout=settings.server.shutdown_grace_seconds
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    def on_sighup() -> None:
        task = asyncio.create_task(_reload_catalogue(app[HUB]))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    try:
        site = web.TCPSite(runner, settings.server.host, settings.server.port)
        await site.start()
        url = f"http://{settings.server.host}:{settings.server.port}/chat"
        log.info("omnihub serving", extra={"url": url})
        print(f"omnihub is running: web chat at {url}", file=sys.stderr, flush=True)
        await stop.wait()
        log.info("omnihub stopping: finishing in-flight messages")
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        # Stops accepting, lets handlers and the pipeline finish, then closes everything.
        await runner.cleanup()


async def _reload_catalogue(hub: Hub) -> None:
    """SIGHUP: take an edited services.yaml; a broken edit keeps the one in use."""
    try:
        await hub.reload_catalogue()
    except CatalogueError as error:
        log.warning("catalogue not reloaded, keeping the one in use: %s", error)
    except Exception:
        log.exception("catalogue not reloaded, keeping the one in use")


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
            await hub.gateway.accept(
                InboundMessage(
                    channel=channel.name,
                    sender=address,
                    provider_message_id=uuid.uuid4().hex,
                    text=line.rstrip("\n"),
                )
            )
            await hub.gateway.idle()
            await hub.dispatcher.drain()
    finally:
        await hub.close()


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


async def _db(settings: Settings, command: str) -> None:
    db = Database.open(settings.storage.url)
    try:
        if command == "upgrade":
            await migrate.upgrade(db)
        print(await migrate.current_revision(db) or "(empty)")
    finally:
        await db.close()


async def _telegram_set_webhook(settings: Settings) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_config(args.config or _default_config())
        if args.command == "serve":
            settings = _with_server_flags(settings, host=args.host, port=args.port)
    except ConfigError as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    quiet = args.command in (
        "chat",
        "db",
        "config",
        "telegram",
        "nlu",
        "token",
        "officer",
        "email",
        "purge",
        "dialogs",
    )
    configure_logging("WARNING" if quiet else settings.logging.level)
    try:
        if args.command == "serve":
            asyncio.run(_serve(settings))
        elif args.command == "chat":
            asyncio.run(_chat(settings, args.address))
        elif args.command == "db":
            asyncio.run(_db(settings, args.db_command))
        elif args.command == "config":
            print(json.dumps(_redacted(settings), indent=2))
        elif args.command == "telegram":
            return asyncio.run(_telegram_set_webhook(settings))
        elif args.command == "nlu":
            return cli_nlu.run(args, settings)
        elif args.command == "token":
            return cli_token.run(args, settings)
        elif args.command == "officer":
            return cli_officer.run(args, settings)
        elif args.command == "email":
            return cli_email.run(args, settings)
        elif args.command == "keys":
            return cli_keys.run(args, settings)
        elif args.command == "purge":
            return cli_purge.run(args, settings)
        elif args.command == "dialogs":
            return cli_dialogs.run(args, settings)
    except (SchemaOutOfDate, CatalogueError, ConfigError) as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"omnihub: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
