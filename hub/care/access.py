"""Who may see and move which CARE ticket.

Officers work the tickets of their agencies (all agencies when they are tied to
none), only up to ``resolved`` and never confidential ones; supervisors and admins
may do every move the procedure allows; the system (SLA jobs, the mall's own
systems through the REST API) too. An anonymous ticket shows nobody who filed it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hub.care.status import TicketStatus


class ActorRole(enum.StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on a ticket: ``name`` goes into the ticket's history."""

    name: str
    role: ActorRole
    agencies: tuple[str, ...] = ()
    """An officer's agencies; empty means every agency."""
    officer_id: int | None = None

    @property
    def oversees(self) -> bool:
        """Supervisors, admins and the system: every ticket, every allowed move."""
        return self.role in (ActorRole.SUPERVISOR, ActorRole.ADMIN, ActorRole.SYSTEM)


SYSTEM = Actor("system", ActorRole.SYSTEM)

OFFICER_MOVES = frozenset(
    {
        (TicketStatus.RECEIVED, TicketStatus.VERIFIED),
        (TicketStatus.VERIFIED, TicketStatus.FORWARDED),
        (TicketStatus.FORWARDED, TicketStatus.IN_PROGRESS),
        (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED),
    }
)
"""The everyday moves; rejecting, closing and reopening are for supervisors."""


def can_see(actor: Actor, agency: str | None) -> bool:
    if actor.oversees:
        return True
    if actor.role is not ActorRole.OFFICER:
        return False
    return not actor.agencies or agency in actor.agencies


def can_read_content(actor: Actor, confidential: bool) -> bool:
    """Confidential tickets: their content is for supervisors only."""
    return actor.oversees or not confidential


def can_know_reporter(actor: Actor, confidential: bool, anonymous: bool) -> bool:
    """Who filed a ticket: never for an anonymous one (not even a supervisor), and for a
    confidential one only for those who may read its content."""
    return not anonymous and can_read_content(actor, confidential)


@dataclass(frozen=True, slots=True)
class Discretion:
    """What a contact's CARE tickets ask of anyone looking at the contact's conversations.

    A conversation is as discreet as the most discreet ticket its contact ever filed
    (any status, any channel): the console shows a contact's whole cross-channel
    history on each of their conversations, so guarding only the conversation a
    ticket was filed in would leave the same text one click away.
    """

    confidential: bool = False
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class ConversationAccess:
    """What ``actor`` may see of a conversation with a given :class:`Discretion`."""

    read: bool
    """The messages' text, and acting on the conversation (claim, reply, close)."""
    identity: bool
    """The citizen's name, addresses and their other conversations."""


def conversation_access(actor: Actor, discretion: Discretion) -> ConversationAccess:
    """The ticket page's rule applied to the conversations of the ticket's contact."""
    return ConversationAccess(
        read=can_read_content(actor, discretion.confidential),
        identity=can_know_reporter(actor, discretion.confidential, discretion.anonymous),
    )


def may_reveal_nik(actor: Actor) -> bool:
    """Who may see a reporter's NIK in full (an audited action): supervisors and admins.
    Officers see it masked; an anonymous ticket's by nobody."""
    return actor.role in (ActorRole.SUPERVISOR, ActorRole.ADMIN)


def may_move(
    actor: Actor, agency: str | None, confidential: bool, current: str, target: str
) -> bool:
    """Whether ``actor`` may make this move (the procedure's own rules are checked apart)."""
    if actor.oversees:
        return True
    return (
        actor.role is ActorRole.OFFICER
        and can_see(actor, agency)
        and not confidential
        and (TicketStatus(current), TicketStatus(target)) in OFFICER_MOVES
    )
