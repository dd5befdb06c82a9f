"""What a command group gives the ``omnihub`` parser: subcommands, each with its handler.

A group module (``hub.cli.serve``, ``hub.cli.token``, …) adds its subparsers in
``add_commands`` and puts a :class:`Handler` on them with ``set_defaults(handler=...)``;
:func:`hub.cli.dispatch.main` then runs whichever handler the arguments chose. So a new
group is one entry in ``hub.cli.dispatch.GROUPS``, never a new branch in the dispatch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from hub.config import Settings

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Run: TypeAlias = Callable[[argparse.Namespace, Settings], int]
Adjust: TypeAlias = Callable[[Settings, argparse.Namespace], Settings]


def as_configured(settings: Settings, args: argparse.Namespace) -> Settings:
    """Most commands take the settings as file and environment give them."""
    del args
    return settings


@dataclass(frozen=True)
class Handler:
    """How ``omnihub`` runs a command once the arguments are parsed.

    ``run`` returns the exit code. ``quiet`` logs warnings only, since what such a command
    prints is its answer; otherwise ``logging.level`` applies. ``adjust`` lets a
    command's flags override the loaded settings, validated as the settings are (a bad
    flag is a configuration error, exit code 2, before anything runs).
    """

    run: Run
    quiet: bool = True
    adjust: Adjust = as_configured


class CommandGroup(Protocol):
    """A module of ``hub.cli`` that adds one top-level command and its subcommands."""

    def add_commands(self, sub: Subparsers) -> None: ...
