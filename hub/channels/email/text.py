"""Email text: HTML to plain text, and only the words the citizen just wrote.

A reply mail carries the whole earlier conversation (our own answer included)
below the new words, plus signatures and "Sent from my iPhone" footers. The
understanding pipeline and the officers' inbox must see only the new words, or
every reply would re-match the intent of our previous answer. Clients mark the
quoted part differently (Gmail's attribution line and ``>`` prefixes, Outlook's
header block, HTML ``blockquote`` / ``gmail_quote``), so each marker is cut
here. Whatever happens, the citizen's words are never lost: when cutting would
leave nothing, the whole text is kept.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text", "latest_reply"]

# --------------------------------------------------------------------------- HTML

_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_attr", "yahoo_quoted"})
_STOP_IDS = frozenset({"divrplyfwdmsg", "appendonsend"})
_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_LINE_TAGS = frozenset(
    {
        "div",
        "tr",
        "ul",
        "ol",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "dl",
        "dt",
        "dd",
        "center",
        "form",
        "hr",
        "caption",
        "figure",
        "figcaption",
    }
)
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})
_CELL_TAGS = frozenset({"td", "th"})
_WS = re.compile(r"[ \t\r\n\f\v]+")  # not U+00A0: an "&nbsp;" line is Outlook's blank line


class _TextExtractor(HTMLParser):
    """Collects visible text; one instance per document (nothing is shared)."""

    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._drop_quotes = drop_quotes
        self.parts: list[str] = []  # appended pieces; joined once at the end (big newsletters)
        self._skip_tag = ""  # tag whose subtree is being dropped
        self._skip_depth = 0
        self._stopped = False  # Outlook's reply header reached: nothing after counts
        self._pre = 0
        self._paragraphs: list[int] = []  # line breaks each open <p> ends with
        self._links: list[tuple[int, str]] = []  # (index in parts, href)

    # The parser calls these; the names are HTMLParser's.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skip_depth:
            if tag == self._skip_tag and tag not in _VOID_TAGS:
                self._skip_depth += 1
            return
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if self._drop_quotes:
            if attributes.get("id", "").strip().lower() in _STOP_IDS:
                self._stopped = True
                return
            classes = set(attributes.get("class", "").lower().split())
            if tag == "blockquote" or classes & _QUOTE_CLASSES:
                if tag not in _VOID_TAGS:
                    self._skip_tag, self._skip_depth = tag, 1
                return
        if tag in _SKIP_TAGS:
            self._skip_tag, self._skip_depth = tag, 1
            return
        self._open(tag, attributes)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <img/>, and XHTML-ish <div/>: nothing is nested, so never a skip.
        if self._stopped or self._skip_depth:
            return
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if self._drop_quotes and attributes.get("id", "").strip().lower() in _STOP_IDS:
            self._stopped = True
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _LINE_TAGS or tag in _PARAGRAPH_TAGS:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skip_depth:
            if tag == self._skip_tag:
                self._skip_depth -= 1
            return
        if tag == "p":
            self._break(self._paragraphs.pop() if self._paragraphs else 2)
        elif tag in _PARAGRAPH_TAGS:
            self._break(2)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINE_TAGS:
            self._break(1)
        elif tag in _CELL_TAGS:
            self._space()
        elif tag == "a" and self._links:
            start, href = self._links.pop()
            self._close_link(start, href)

    def handle_data(self, data: str) -> None:
        if self._stopped or self._skip_depth:
            return
        if self._pre:
            self.parts.append(data)
            return
        data = _WS.sub(" ", data)
        if data.startswith(" ") and self._last_char() in " \n":
            data = data[1:]
        if data:
            self.parts.append(data)

    def _last_char(self) -> str:
        """The last character written, "\n" when nothing was (so nothing leads with space)."""
        for piece in reversed(self.parts):
            if piece:
                return piece[-1]
        return "\n"

    def _break(self, count: int) -> None:
        """At least ``count`` line breaks here (never at the very start)."""
        while self.parts and not self.parts[-1].strip(" "):
            if "\n" in self.parts[-1]:
                break
            self.parts.pop()
        if self.parts:
            self.parts[-1] = self.parts[-1].rstrip(" ")
        existing = 0
        for piece in reversed(self.parts):
            stripped = piece.rstrip("\n")
            existing += len(piece) - len(stripped)
            if stripped:
                break
        if self.parts and count > existing:  # never at the very start
            self.parts.append("\n" * (count - existing))

    def _space(self) -> None:
        if self._last_char() not in " \n":
            self.parts.append(" ")

    def _open(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self._break(1)
            self.parts.append("- ")
        elif tag == "p":
            # Outlook writes one MsoNormal paragraph per line; empty ones make the gaps.
            breaks = 1 if "msonormal" in attributes.get("class", "").lower() else 2
            self._paragraphs.append(breaks)
            self._break(breaks)
        elif tag in _PARAGRAPH_TAGS:
            self._break(2)
            if tag == "pre":
                self._pre += 1
        elif tag in _LINE_TAGS:
            self._break(1)
        elif tag == "a":
            self._links.append((len(self.parts), attributes.get("href", "").strip()))

    def _close_link(self, start: int, href: str) -> None:
        text = re.sub(r"\s+", " ", "".join(self.parts[start:])).strip()
        if not re.match(r"https?://", href, re.IGNORECASE) or _same_url(text, href):
            return
        self.parts.append(f" ({href})" if text else href)


def _same_url(text: str, href: str) -> bool:
    """Whether the link text already shows the url (with or without scheme / slash)."""

    def norm(url: str) -> str:
        url = re.sub(r"^(https?://)?(www\.)?", "", url.strip(), flags=re.IGNORECASE)
        return url.rstrip("/").lower()

    return norm(text) == norm(href)


def html_to_text(html: str, *, drop_quotes: bool = True) -> str:
    """Readable text of an HTML mail body, without the quoted earlier mail.

    ``drop_quotes=False`` keeps blockquotes and Outlook's reply header: that
    is the "whole body" kept for the officer, next to the stripped new words.
    """
    parser = _TextExtractor(drop_quotes=drop_quotes)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this guards only its rare assertion errors
        pass
    text = "".join(parser.parts).replace("\u00a0", " ")
    lines = [re.sub(r" {2,}", " ", line).strip(" \t") for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --------------------------------------------------------------------------- replies

_QUOTE_LINE = re.compile(r"^[ \t]*>")
_ATTRIBUTION = re.compile(
    r"^(?:On\s.+\s(?:wrote|writes)|Pada\s.+\smenulis)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTION_START = re.compile(r"^(?:On|Pada)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Original Message|Pesan Asli|Pesan Awal)[ \t]*-{2,}[ \t]*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^[ \t]*_{20,}[ \t]*$")
_HEADER_FROM = re.compile(r"^\*?(?:From|Dari)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\*?(?:Sent|Date|To|Cc|Subject|Dikirim|Tanggal|Kepada|Subjek)\s*:", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^--[ ]?$")
_MOBILE_FOOTER = re.compile(
    r"^[ \t]*(?:"
    r"Sent from my [^\n]{1,60}"
    r"|Sent from (?:Yahoo Mail|Mail for Windows|Outlook)\b[^\n]{0,60}"
    r"|Get Outlook for (?:Android|iOS)\b[^\n]{0,40}"
    r"|Dikirim dari (?:iPhone|iPad|Android|ponsel|perangkat)\b[^\n]{0,40}"
    r"|Dikirim dari Yahoo Mail\b[^\n]{0,60}"
    r"|Dapatkan Outlook untuk (?:Android|iOS)\b[^\n]{0,40}"
    r")[ \t]*$",
    re.IGNORECASE,
)
_TRAILING_JUNK = re.compile(r"^[ \t]*(?:[-_]{3,}(?:.*[-_]{3,})?)?[ \t]*$")


def _attribution_at(lines: list[str], i: int) -> bool:
    """A Gmail-style "On … wrote:" / "Pada … menulis:" line, maybe wrapped over 3 lines."""
    if not _ATTRIBUTION_START.match(lines[i]):
        return False
    joined = ""
    for line in lines[i : i + 3]:
        if not line.strip():
            return False
        joined = f"{joined} {line.strip()}".strip()
        if len(joined) > 400:
            return False
        if _ATTRIBUTION.match(joined):
            return True
    return False


def _outlook_header_at(lines: list[str], i: int) -> bool:
    """Outlook's "From: …" with Sent/Date/To/Subject (or Indonesian) within 4 lines."""
    if not _HEADER_FROM.match(lines[i].strip()):
        return False
    return any(_HEADER_NEXT.match(line.strip()) for line in lines[i + 1 : i + 5])


def _rule_before_header(lines: list[str], i: int) -> bool:
    """Outlook's "____" rule, when a header block follows right after it."""
    if not _RULE.match(lines[i]):
        return False
    following = [j for j in range(i + 1, min(i + 4, len(lines))) if lines[j].strip()]
    return bool(following) and _HEADER_FROM.match(lines[following[0]].strip()) is not None


def _cut_index(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if (
            _QUOTE_LINE.match(line)
            or _ORIGINAL_MESSAGE.match(line)
            or _SIGNATURE.match(line)
            or _MOBILE_FOOTER.match(line)
            or _rule_before_header(lines, i)
            or _outlook_header_at(lines, i)
            or _attribution_at(lines, i)
        ):
            return i
    return len(lines)


def latest_reply(text: str) -> str:
    """Only what the citizen just wrote: quotes, signature and mobile footer cut."""
    whole = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = whole.split("\n")
    kept = lines[: _cut_index(lines)]
    # A forward marker or rule left just above the cut belongs to the quote.
    while kept and _TRAILING_JUNK.match(kept[-1]):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or whole.strip()
