"""``omnihub config check``: the settings as the hub will use them, secrets hidden.

Validation is loading: a configuration that loads is valid, one that does not never
reaches this command (``omnihub`` says what is wrong and exits with 2).
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit, urlunsplit

from hub.cli.command import Handler, Subparsers
from hub.config import Settings


def add_commands(sub: Subparsers) -> None:
    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("check", help="validate the configuration and print it (secrets hidden)")
    config.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    del args  # "check" is the only subcommand
    print(json.dumps(_redacted(settings), indent=2))
    return 0


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
