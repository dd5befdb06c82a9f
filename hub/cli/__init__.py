"""The ``omnihub`` command (``[project.scripts]`` points at :func:`main`)."""

from hub.cli.main import main

__all__ = ["main"]
