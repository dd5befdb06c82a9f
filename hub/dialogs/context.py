"""Who is talking and when: shared by the engine and the flows that act for the citizen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DialogContext:
    """What flows that act on the citizen's behalf (booking) need beyond the message."""

    contact_id: int
    conversation_id: int
    channel: str
    today: date
    now: datetime | None = None
    """The hub's clock at this message (aware); flows that tell office hours need it."""
    sealed_niks: tuple[str, ...] = ()
    """The NIKs this message held, encrypted (hub.security.vault); its text has them masked.
    A flow that needs one (a complaint's reporter) keeps it in this form."""
    address: str = ""
    """The citizen's address on ``channel`` (E.164 phone, chat id, web chat visitor): where
    a subscription made in this conversation sends the announcements."""
