"""A real Chromium (Debian's package) driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.services import unavailable

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system Chromium; skips (or fails in CI) when it is not installed."""
    path = os.environ.get("OMNIHUB_TEST_CHROMIUM") or shutil.which("chromium") or ""
    if path and Path(path).exists():
        return path
    unavailable("Chromium not installed (apt-get install chromium)")
