"""SMS text: keeping messages in GSM-7 and counting the segments a carrier bills.

An SMS is 140 bytes. In GSM-7 (GSM 03.38) that is 160 characters, or 153 per
part once a message is split (the rest carries the concatenation header);
characters of the extension table (``€ [ ] { } ^ ~ | \\`` and form feed) take
an escape plus the character, so they count twice. One character outside
GSM-7 switches the whole message to UCS-2: 70 UTF-16 units, 67 per part, and an
emoji (a surrogate pair) takes two units. A character is never cut across two
parts, which is how Twilio counts (its open-source segment calculator packs
whole characters the same way).

Curly quotes, long dashes, ellipses or a non-breaking space pasted from a word
processor would silently turn a 1-segment text into a 3-segment UCS-2 one, so
:func:`to_gsm7` replaces them first.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (without the escape code itself)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters reached through the escape code: two septets each."""

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]

_REPLACEMENTS = {
    # quotes and apostrophes
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u00b4": "'",  # acute accent
    "`": "'",  # grave accent: not in GSM-7
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    "\u00ab": '"',  # left-pointing double angle quotation mark
    "\u00bb": '"',  # right-pointing double angle quotation mark
    "\u2039": "<",  # single left-pointing angle quotation mark
    "\u203a": ">",  # single right-pointing angle quotation mark
    # dashes and bullets
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u00b7": "-",  # middle dot
    "\u2026": "...",  # horizontal ellipsis
    # spaces and invisible characters
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
    "\t": " ",
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    "\u200b": "",  # zero width space
    "\u200c": "",  # zero width non-joiner
    "\u200d": "",  # zero width joiner
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero width no-break space (BOM)
    "\u00ad": "",  # soft hyphen
    # symbols
    "\u00d7": "x",  # multiplication sign
    "\u00f7": "/",  # division sign
    "\u2122": "TM",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
}
_REPLACEMENTS.update({chr(c): " " for c in range(0x2000, 0x200B)})  # en quad .. hair space


def is_gsm7(text: str) -> bool:
    """Whether every character has a GSM-7 code (basic or extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _without_marks(ch: str) -> str | None:
    """``ï`` -> ``i``, full-width ``Ａ`` -> ``A``: a GSM-7 look-alike, if there is one."""
    decomposed = unicodedata.normalize("NFKD", ch)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain if plain and plain != ch and is_gsm7(plain) else None


def to_gsm7(text: str) -> str:
    """``text`` with common non-GSM punctuation and spacing replaced by GSM-7 equivalents.

    Characters that have no equivalent (emoji, non-Latin scripts) are kept: the
    message then goes out as UCS-2 rather than losing what the writer meant.
    """
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            out.append(_without_marks(ch) or ch)
    return "".join(out)


def _sizes(text: str) -> tuple[list[int], int, int]:
    if is_gsm7(text):
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM7_SINGLE, GSM7_PART
    # UTF-16 code units: characters beyond the BMP (most emoji) are surrogate pairs.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text], UCS2_SINGLE, UCS2_PART


def segments(text: str) -> int:
    """How many SMS segments ``text`` is billed as, sent as it is (0 for no text)."""
    if not text:
        return 0
    sizes, single, part = _sizes(text)
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        # An escape sequence or a surrogate pair is never split between two parts.
        if used + size > part:
            count += 1
            used = 0
        used += size
    return count


ELLIPSIS = "..."
"""Three dots, not "…": the ellipsis character is not GSM-7 and would double the bill."""


def fit_segments(text: str, budget: int, suffix: str = "") -> str:
    """``text`` + ``suffix`` (made GSM-7 where they can be), ``text`` cut at a word end so
    the whole bills at most ``budget`` segments, marked with three dots when something
    was cut. The suffix (a menu to answer with) is never cut."""
    text, suffix = to_gsm7(text), to_gsm7(suffix)
    if segments(text + suffix) <= budget:
        return text + suffix
    low, high = 0, len(text)
    # The longest prefix that fits with the marker: segments grow with length.
    while low < high:
        middle = (low + high + 1) // 2
        if segments(text[:middle].rstrip() + ELLIPSIS + suffix) <= budget:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    word_end = cut.rfind(" ")
    if word_end > low // 2 and low < len(text) and not text[low].isspace():
        cut = cut[:word_end]
    return cut.rstrip() + ELLIPSIS + suffix
