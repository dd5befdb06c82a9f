"""Live news for the officers' console, over the coordinator's pub/sub.

In one process that is an in-memory fan-out; with Redis every hub process's
console sees what any process did. News is a nudge, not the truth: the console
reloads what it shows from the database, so a lost event costs only a refresh.

News carries ids and codes only, never a citizen's text or name: every officer's
stream gets it, and what each may see is decided when the page refetches.
(``hub.console.events`` drops any other field.)
"""

from __future__ import annotations

import json
import logging
from typing import Any

from hub.model import PubSub

log = logging.getLogger(__name__)

CONSOLE_TOPIC = "console"


async def announce(pubsub: PubSub, kind: str, **data: Any) -> None:
    """Tell open consoles that something happened (never raises: news is best effort)."""
    try:
        await pubsub.publish(CONSOLE_TOPIC, json.dumps({"type": kind, **data}, default=str))
    except Exception:
        log.warning("console news not published", extra={"kind": kind})
