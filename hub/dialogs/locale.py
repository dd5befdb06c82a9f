"""Which language to answer in: the conversation's, until the citizen clearly writes another.

One English-looking word ("booking", "ok", a name) must not turn an Indonesian
conversation English, nor "terima kasih" an English one Indonesian: the message's
own language (the NLU's ``locale``) wins only when :func:`clearly_written_in` says
the text is evidence enough. Balinese counts as Indonesian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.nlu.language import clearly_written_in

if TYPE_CHECKING:
    from hub.dialogs.engine import Turn
    from hub.nlu.base import Parse


def pick_locale(understanding: Parse, turn: Turn, locale: str) -> str:
    """The language to answer in: the message's own when it is clearly written in it
    (and supported), else the conversation's (the default when that is unsupported)."""
    if locale not in turn.supported_locales:
        locale = turn.default_locale
    written = understanding.locale
    if (
        written is not None
        and written != locale
        and written in turn.supported_locales
        and clearly_written_in(turn.text or understanding.text, written)
    ):
        locale = written
    return locale
