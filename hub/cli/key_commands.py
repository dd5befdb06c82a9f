"""``omnihub keys generate``: fresh keys for a deployment with several machines.

One machine needs nothing: the hub writes its keys to ``security.keys_file`` on
first start. Several machines must share the same keys, so the operator makes
them once with this command and puts them in every machine's configuration.
"""

from __future__ import annotations

import argparse
import json

from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.security.keys import generate_keys


def add_commands(sub: Subparsers) -> None:
    keys = sub.add_parser("keys", help="secrets: cookie signing key, NIK encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "generate", help="print a new secret_key and NIK key as environment settings"
    )
    keys.set_defaults(handler=Handler(run, quiet=False))


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print new keys; to rotate the NIK key, put the new one first and keep the old after it."""
    keys = generate_keys()
    print(f"OMNIHUB_SECURITY__SECRET_KEY={keys['secret_key']}")
    print(f"OMNIHUB_SECURITY__NIK_KEYS={json.dumps(keys['nik_keys'])}")
    return 0
