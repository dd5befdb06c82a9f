"""The choices a conversation was last offered, kept in its dialog state.

A channel without buttons shows choices as a numbered menu; the citizen answers
"2". The digit means something only against what was offered last, so the
offered payloads are kept in the state under :data:`OFFERED_KEY`, set by every
turn or notice that offers choices and read (then dropped) by the next turn.
The key belongs to the dialogs: the pipeline stores the state, it never reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.model import Reply

OFFERED_KEY = "_choices"


def take_offered(state: dict[str, Any]) -> list[str] | None:
    """Remove and return what the last turn offered (None: nothing, or not a list)."""
    offered = state.pop(OFFERED_KEY, None)
    return [str(p) for p in offered] if isinstance(offered, list) else None


def numbered_choice(text: str, offered: list[str] | None) -> str | None:
    """A digit answering a numbered menu becomes that choice's payload."""
    if not offered:
        return None
    stripped = text.strip().rstrip(".")
    if stripped.isdigit() and 1 <= int(stripped) <= len(offered):
        return offered[int(stripped) - 1]
    return None


def remember_offered(state: dict[str, Any], replies: list[Reply]) -> None:
    """Keep what ``replies`` offer, for the digit that may answer them."""
    offered = [c.payload for reply in replies for c in reply.choices]
    if offered:
        state[OFFERED_KEY] = offered


def after_notice(
    state: Mapping[str, Any], replies: list[Reply], awaiting: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The state after a notice the citizen did not prompt: ``awaiting`` keys (a question
    the notice asks, e.g. a rating) and what it offers; None when nothing changes."""
    new_state = {**state, **(awaiting or {})}
    remember_offered(new_state, replies)
    return new_state if new_state != dict(state) else None
