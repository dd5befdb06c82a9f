"""The ``omnihub`` command (``[project.scripts]`` points at :func:`main`)."""

from hub.cli.dispatch import main

__all__ = ["main"]
