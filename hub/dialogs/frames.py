"""Flows as frames the engine can pause, resume, drop and time out.

A *flow* (a booking, a complaint) keeps its progress under its own key of the dialog
state and asks one question at a time. The engine never reaches into that state: it
talks to a flow through :class:`Flow` — is it under way, ask the current question
again, say in a few words what it is ("pemesanan antrean Paspor"), leave it.

This module keeps what is *around* the flows, in the dialog state too (plain JSON):

- ``paused``: flows set aside while another runs (a complaint started mid-booking
  and the citizen chose to keep the booking), newest last; the engine resumes the
  newest as soon as no flow is under way, saying so ("Kembali ke …").
- ``flow_switch``: the question "keep or drop the booking?" while the message that
  started another flow waits for the answer (its understanding, attachments and
  sealed NIKs, to be played once answered).
- ``flow_at``: when a flow last heard from the citizen, ISO; after
  ``dialogs.flow_timeout_minutes`` every flow is dropped and the citizen told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from hub.dialogs.care_words import folded_text, has_phrase
from hub.dialogs.context import DialogContext
from hub.model import Choice, Reply
from hub.nlu.results import Entity, IntentScore, Parse

PAUSED = "paused"
"""Dialog-state key of the flows set aside, each ``{"flow": name, "state": {...}}``."""

SWITCH = "flow_switch"
"""Dialog-state key of a pending keep-or-drop question."""

LAST_SEEN = "flow_at"
"""Dialog-state key of the time (ISO) a flow last heard from the citizen."""

FRAME_KEYS = (PAUSED, SWITCH, LAST_SEEN)
"""Everything this module keeps; dropped with the flows at a handoff."""

MAX_PAUSED = 3
"""Flows kept aside at once; an older one beyond this is dropped."""

Answer = Literal["keep", "drop", "back"]
KEEP: Answer = "keep"
DROP: Answer = "drop"
BACK: Answer = "back"
BY_BUTTON: dict[str, Answer] = {"flow_keep": KEEP, "flow_drop": DROP, "flow_back": BACK}

SWITCH_CHOICES = (
    Choice("@flow.keep", "/flow_keep"),
    Choice("@flow.drop", "/flow_drop"),
    Choice("@flow.back", "/flow_back"),
)
"""Keep the first flow for later, drop it, or go back to it (forgetting the new one)."""

DROP_WORDS = (
    "buang",
    "hapus",
    "yang baru",
    "baru saja",
    "tidak usah yang tadi",
    "tidak perlu yang tadi",
    "drop",
    "discard",
    "delete",
    "the new one",
    "new one",
)
BACK_WORDS = (
    "yang tadi",
    "lanjut tadi",
    "lanjutkan tadi",
    "kembali",
    "balik",
    "the old one",
    "the first one",
    "go back",
    "previous",
)
KEEP_WORDS = (
    "simpan",
    "keep",
    "nanti",
    "dua duanya",
    "duaduanya",
    "keduanya",
    "both",
    "later",
    "save",
)


class Flow(Protocol):
    """What the engine asks of a flow (booking, CARE) to pause, resume and leave it."""

    @property
    def state_key(self) -> str:
        """The dialog-state key its progress lives under."""
        ...

    def active(self, state: dict[str, Any]) -> bool:
        """True while it waits for the citizen's next answer."""
        ...

    async def reask(
        self, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """The current question again, with its options (buttons)."""
        ...

    def describe(self, state: dict[str, Any], locale: str) -> dict[str, Any]:
        """What the flow is, for "Kembali ke pemesanan antrean Paspor": ``flow``
        (booking, care), ``mode`` or ``kind``, ``service`` (a short name or "") and
        ``service_id`` (or "")."""
        ...

    def cancel(self, state: dict[str, Any]) -> list[Reply]:
        """Leave on the citizen's explicit cancel: what was dropped, and the menu."""
        ...

    def cancel_is_answer(self, state: dict[str, Any], text: str) -> bool:
        """Whether a cancel word answers the current question instead ("batalin aja"
        asked whether to cancel a booking, "ga usah" asked for optional photos)."""
        ...


def lead(why: str, about: dict[str, Any] | None) -> Reply:
    """The line said before a question asked again: why, and which flow it belongs to."""
    return Reply("flow_resume", {"why": why, "flow": about or {}})


def with_lead(replies: list[Reply], first: Reply) -> list[Reply]:
    """``replies`` with ``first`` said at the start of the first of them (one message)."""
    if not replies:
        return [first]
    head = replies[0]
    if head.lead is not None:
        return [first, *replies]
    return [
        Reply(head.template, head.context, head.choices, head.attachments, lead=first),
        *replies[1:],
    ]


def without_choices(replies: list[Reply]) -> list[Reply]:
    """A digression's answer without its buttons: the flow's question offers the next
    step, and one set of numbers on an SMS is all a digit can answer. ``digression`` tells
    the templates to leave out their own offer of a next step ("Ambil antrean?")."""
    return [
        Reply(r.template, {**r.context, "digression": True}, (), r.attachments, r.lead)
        for r in replies
    ]


def without_menu(replies: list[Reply]) -> list[Reply]:
    """The trailing main menu dropped: a flow comes back instead."""
    while replies and replies[-1].template == "menu":
        replies = replies[:-1]
    return replies


# --- pausing and resuming ----------------------------------------------------------------


def pause(flow: Flow, state: dict[str, Any], name: str) -> None:
    """Set ``flow`` aside: its state moves to the paused stack."""
    saved = state.pop(flow.state_key, None)
    if not isinstance(saved, dict):
        return
    stack = paused(state)
    stack.append({"flow": name, "state": saved})
    state[PAUSED] = stack[-MAX_PAUSED:]


def paused(state: dict[str, Any]) -> list[dict[str, Any]]:
    stack = state.get(PAUSED)
    if not isinstance(stack, list):
        return []
    return [f for f in stack if isinstance(f, dict) and isinstance(f.get("state"), dict)]


def unpause(state: dict[str, Any], flows: dict[str, Flow]) -> Flow | None:
    """Bring the newest paused flow back under way; None when there is none."""
    stack = paused(state)
    while stack:
        frame = stack.pop()
        flow = flows.get(str(frame.get("flow")))
        if flow is not None:
            state[flow.state_key] = frame["state"]
            _store(state, stack)
            return flow
    _store(state, stack)
    return None


def _store(state: dict[str, Any], stack: list[dict[str, Any]]) -> None:
    if stack:
        state[PAUSED] = stack
    else:
        state.pop(PAUSED, None)


# --- timing out ----------------------------------------------------------------------------


def expire(
    state: dict[str, Any],
    flows: dict[str, Flow],
    now: datetime | None,
    timeout: timedelta,
    locale: str,
) -> list[dict[str, Any]]:
    """Drop every flow (under way, paused, waiting for keep-or-drop) idle past
    ``timeout``; what was dropped, described for the citizen."""
    seen = _when(state.get(LAST_SEEN))
    if now is None or seen is None or now - seen <= timeout:
        return []
    dropped: list[dict[str, Any]] = []
    for flow in flows.values():
        if flow.active(state):
            dropped.append(flow.describe(state, locale))
            state.pop(flow.state_key, None)
    for frame in reversed(paused(state)):
        kept = flows.get(str(frame.get("flow")))
        if kept is not None:
            dropped.append(kept.describe({kept.state_key: frame["state"]}, locale))
    for key in FRAME_KEYS:
        state.pop(key, None)
    return dropped


def touch(state: dict[str, Any], flows: dict[str, Flow], now: datetime | None) -> None:
    """Note the time while any flow is under way, paused or asked about; else forget it."""
    busy = any(f.active(state) for f in flows.values()) or bool(paused(state))
    if busy or SWITCH in state:
        if now is not None:
            state[LAST_SEEN] = now.isoformat()
    else:
        state.pop(LAST_SEEN, None)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        seen = datetime.fromisoformat(value)
    except ValueError:
        return None
    return seen if seen.tzinfo is not None else None


# --- keep or drop ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    """The message that started another flow, kept while the citizen decides."""

    understanding: Parse
    attachments: tuple[dict[str, Any], ...]
    sealed_niks: tuple[str, ...]


def hold(
    state: dict[str, Any],
    understanding: Parse,
    attachments: tuple[dict[str, Any], ...],
    context: DialogContext,
) -> None:
    state[SWITCH] = {
        "parse": parse_to_json(understanding),
        "attachments": [dict(a) for a in attachments],
        "sealed_niks": list(context.sealed_niks),
    }


def held(state: dict[str, Any]) -> Waiting | None:
    """The waiting message, taken out of the state (None when nothing waits)."""
    saved = state.pop(SWITCH, None)
    if not isinstance(saved, dict):
        return None
    understanding = parse_from_json(saved.get("parse"))
    if understanding is None:
        return None
    attachments = tuple(a for a in saved.get("attachments") or () if isinstance(a, dict))
    niks = tuple(str(n) for n in saved.get("sealed_niks") or () if isinstance(n, str))
    return Waiting(understanding, attachments, niks)


def switch_answer(understanding: Parse) -> Answer | None:
    """Keep, drop or back, from a button or the citizen's words; None for anything else."""
    intent = understanding.intent.name
    if understanding.engine == "choice":
        return BY_BUTTON.get(intent)
    folded = folded_text(understanding.text)
    if not folded:
        return None
    readings: tuple[tuple[Answer, tuple[str, ...]], ...] = (
        (DROP, DROP_WORDS),
        (BACK, BACK_WORDS),
        (KEEP, KEEP_WORDS),
    )
    for answer, words in readings:
        if any(has_phrase(folded, w) for w in words):
            return answer
    if intent == "affirm" and len(folded.split()) <= 3:
        return KEEP  # "Saya simpan dulu?" "iya"
    if intent == "deny" and len(folded.split()) <= 3:
        return DROP
    return None


def parse_to_json(understanding: Parse) -> dict[str, Any]:
    return {
        "text": understanding.text,
        "intent": [understanding.intent.name, understanding.intent.confidence],
        "ranking": [[s.name, s.confidence] for s in understanding.ranking],
        "entities": [
            [e.type, e.value, e.text, e.start, e.end, e.confidence] for e in understanding.entities
        ],
        "locale": understanding.locale,
        "engine": understanding.engine,
    }


def parse_from_json(data: Any) -> Parse | None:
    """The understanding written by :func:`parse_to_json`; None when it is not one."""
    if not isinstance(data, dict):
        return None
    try:
        name, confidence = data["intent"]
        return Parse(
            text=str(data.get("text") or ""),
            intent=IntentScore(str(name), float(confidence)),
            ranking=tuple(IntentScore(str(n), float(c)) for n, c in data.get("ranking") or ()),
            entities=tuple(
                Entity(str(t), str(v), str(x), int(s), int(e), float(c))
                for t, v, x, s, e, c in data.get("entities") or ()
            ),
            locale=data.get("locale") if isinstance(data.get("locale"), str) else None,
            engine=str(data.get("engine") or "builtin"),
        )
    except (KeyError, TypeError, ValueError):
        return None
