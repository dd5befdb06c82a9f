"""The ``omnihub`` command: one parser made of the command groups, and the dispatch.

Each group module adds its subcommands and their :class:`~hub.cli.command.Handler`;
this module only loads the settings, sets up logging, runs the chosen handler and
turns the errors an operator can fix into one line and an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hub.app import SchemaOutOfDate
from hub.catalogue import CatalogueError
from hub.cli import (
    chat,
    config_commands,
    db,
    dialogs,
    email,
    key_commands,
    nlu,
    officer,
    purge,
    serve,
    telegram_webhook,
    token,
)
from hub.cli.command import CommandGroup, Handler
from hub.config import ConfigError, load_config
from hub.logs import configure_logging

# The command groups, in the order ``omnihub --help`` lists them.
GROUPS: tuple[CommandGroup, ...] = (
    serve,
    chat,
    db,
    nlu,
    token,
    key_commands,
    officer,
    email,
    purge,
    dialogs,
    config_commands,
    telegram_webhook,
)


def _default_config() -> str | None:
    explicit = os.environ.get("OMNIHUB_CONFIG")
    if explicit:
        return explicit
    return "config.yaml" if Path("config.yaml").is_file() else None


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, each group adding its own part (tests parse with it too)."""
    parser = argparse.ArgumentParser(prog="omnihub", description="MPP Badung omnichannel hub")
    parser.add_argument(
        "--config",
        default=None,
        help="YAML config file (default: $OMNIHUB_CONFIG, else ./config.yaml if present)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        settings = handler.adjust(load_config(args.config or _default_config()), args)
    except ConfigError as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    configure_logging("WARNING" if handler.quiet else settings.logging.level)
    try:
        return handler.run(args, settings)
    except (SchemaOutOfDate, CatalogueError, ConfigError) as exc:
        print(f"omnihub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"omnihub: {exc.strerror or exc}", file=sys.stderr)
        return 1
