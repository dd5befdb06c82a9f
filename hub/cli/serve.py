"""``omnihub serve``: the hub's HTTP server until SIGINT/SIGTERM; SIGHUP rereads services.yaml."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from aiohttp import web
from pydantic import ValidationError

from hub.app import HUB, Hub, create_app
from hub.catalogue import CatalogueError
from hub.cli.command import Handler, Subparsers
from hub.config import ConfigError, ServerConfig, Settings

# Named as before the command became a package: log lines keep their "logger" field.
log = logging.getLogger("hub.cli")


def add_commands(sub: Subparsers) -> None:
    serve = sub.add_parser("serve", help="run the hub's HTTP server (webhooks, web chat, metrics)")
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=int, help="override server.port")
    serve.set_defaults(handler=Handler(run, quiet=False, adjust=with_server_flags))


def with_server_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    """Command-line flags beat file and environment, and are validated the same way."""
    flags = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if not flags:
        return settings
    try:
        server = ServerConfig.model_validate({**settings.server.model_dump(), **flags})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"--{error['loc'][0]}: {error['msg']}") from None
    return settings.model_copy(update={"server": server})


def run(args: argparse.Namespace, settings: Settings) -> int:
    del args  # --host and --port are in the settings already (with_server_flags)
    asyncio.run(_serve(settings))
    return 0


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
