"""The email channel: mail in by IMAP or an SMTP listener, answers out through a relay.

``channel`` is the Channel; ``parse`` and ``text`` read a raw mail, ``auth`` decides
who sent it, ``compose`` writes an answer, ``files`` keeps attachments, ``imap`` and
``listen`` take mail in.

Every import of a part (even ``hub.channels.email.parse``) runs this file first, so
the channel, and with it the SMTP libraries, is loaded only when a name here asks for
it: a hub without email never imports them, as with the other optional channels.
``MailFiles`` is light and needed by the app whether email is on or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.channels.email.files import MailFiles

if TYPE_CHECKING:
    from hub.channels.email.channel import EmailChannel, SenderRate

__all__ = ["EmailChannel", "MailFiles", "SenderRate"]

_FROM_CHANNEL = frozenset({"EmailChannel", "SenderRate"})


def __getattr__(name: str) -> object:
    """Load ``channel`` on the first use of a name it defines (PEP 562)."""
    if name in _FROM_CHANNEL:
        from hub.channels.email import channel

        return getattr(channel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
