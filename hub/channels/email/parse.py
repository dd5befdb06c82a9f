"""Inbound mail: the raw bytes of one RFC 5322 message to a :class:`ParsedMail`.

Pure functions, no I/O: the SMTP and IMAP receivers hand over bytes and get
back everything the hub needs to thread, deduplicate and answer a mail. Mail
from the internet is routinely broken (wrong charsets, missing boundaries,
headers the stdlib's strict parser chokes on), and one bad mail must never stop
the mailbox from being read, so :func:`parse_mail` never raises: every field
is read on its own and falls back to a best-effort value.

``auto_reason`` is the mail-loop guard: bounces, out-of-office answers, lists
and our own mail coming back must never get an automatic answer (RFC 3834).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import unquote

from hub.channels.email.text import html_to_text, latest_reply

__all__ = ["Bounce", "MailAttachment", "ParsedMail", "parse_mail", "safe_filename"]

MAX_SUBJECT = 255
MAX_FILENAME = 120
MAX_DIAGNOSTIC = 300
MAX_REFERENCES = 30
_MAX_DEPTH = 40  # MIME nesting deeper than this is an attack, not a mail

_DAEMON_LOCALS = frozenset(
    {"mailer-daemon", "postmaster", "noreply-dmarc-support", "dmarc-noreply", "dmarcreport"}
)
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
        "message/global-headers",
    }
)
_RETURNED_MESSAGE = frozenset({"message/rfc822", "message/global"})
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:Automatic reply|Auto(?:matic)?[- ]?Reply|Out of Office|Balasan Otomatis)\s*:",
    re.IGNORECASE,
)
_ID = re.compile(r"<([^<>]*)>")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True, slots=True)
class MailAttachment:
    """A file that came with the mail (inline pasted photos included)."""

    content_type: str
    filename: str
    data: bytes
    inline: bool


@dataclass(frozen=True, slots=True)
class Bounce:
    """What a delivery status notification says about a mail we sent."""

    original_message_id: str
    recipient: str
    status: str
    diagnostic: str
    permanent: bool


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """One inbound mail, reduced to what the hub threads, dedupes and answers on."""

    message_id: str
    sender: str
    sender_name: str
    envelope_sender: str | None
    recipients: tuple[str, ...]
    subject: str
    in_reply_to: str
    references: tuple[str, ...]
    date: datetime | None
    text: str
    body: str
    attachments: tuple[MailAttachment, ...]
    skipped_attachments: tuple[str, ...]
    auto_reason: str
    bounce: Bounce | None
    reply_to: str = ""
    """The one ``Reply-To`` address when it differs from ``sender`` (a web form's mail
    from a no-reply address): where a person clicking Reply would answer."""
    auth_results: tuple[str, ...] = ()
    """Every ``Authentication-Results`` header, topmost first (``auth`` decides which
    one to believe)."""


# --------------------------------------------------------------------------- text helpers


def _clean(value: str) -> str:
    """Make header/body text safe to store: surrogates resolved, NULs gone.

    The parser keeps undecodable bytes as surrogate escapes; raw 8-bit UTF-8 in
    a header (common, though not allowed) is recovered from them here.
    """
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
        else:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError:
                only_bytes = all(ch < "\x80" or "\udc80" <= ch <= "\udcff" for ch in value)
                value = data.decode("cp1252" if only_bytes else "utf-8", "replace")
    return value.replace("\x00", "")


def _one_line(value: str) -> str:
    """Whitespace and control characters collapsed to single spaces."""
    value = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in _clean(value))
    return re.sub(r"\s+", " ", value).strip()


def _decode_bytes(data: bytes, charset: str) -> str:
    """Bytes in a declared charset; unknown or wrong charsets degrade, never raise."""
    charset = (charset or "").strip().strip("\"'").lower()
    if charset in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default"):
        charset = "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    if charset in ("utf-8", "utf8"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            # Undeclared 8-bit text from Windows mailers is cp1252 far more often than not.
            return data.decode("cp1252", "replace")
    try:
        return data.decode(charset, "replace")
    except Exception:  # a codec that is not a text encoding (e.g. "base64")
        return data.decode("utf-8", "replace")


def _part_text(part: Message) -> str:
    """The decoded text of a leaf part (transfer encoding and charset undone)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        try:
            raw = part.get_payload()
        except Exception:
            return ""
        return _clean(raw) if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset() or ""
    except Exception:
        charset = ""
    text = _decode_bytes(payload, charset)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed (Thunderbird, Apple Mail) so wrapped lines rejoin.

    A line ending in a space continues on the next one (at the same quote
    depth); the signature delimiter "-- " never flows.
    """
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0

    def emit(content: str, depth: int) -> None:
        out.append(f"{'>' * depth} {content}" if depth else content)

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pending is not None and depth != pending_depth:
            emit(pending, pending_depth)
            pending = None
        flowed = content.endswith(" ") and content != "-- "
        if flowed:
            piece = content[:-1] if delsp else content
            pending = piece if pending is None else pending + piece
            pending_depth = depth
            continue
        emit(content if pending is None else pending + content, depth)
        pending = None
    if pending is not None:
        emit(pending, pending_depth)
    return "\n".join(out)


def _plain_text(part: Message) -> str:
    """A text/plain part's text, with format=flowed undone."""
    text = _part_text(part)
    try:
        flowed = str(part.get_param("format", "") or "").lower() == "flowed"
        delsp = str(part.get_param("delsp", "") or "").lower() == "yes"
    except Exception:
        return text
    return _unflow(text, delsp=delsp) if flowed else text


# --------------------------------------------------------------------------- headers


def _raw_header(msg: Message, name: str) -> str:
    """The first raw value of a header, unparsed (the structured parser can fail)."""
    wanted = name.lower()
    try:
        for key, value in msg.raw_items():
            if key.lower() == wanted:
                return _clean(str(value))
    except Exception:
        pass
    return ""


def _all_raw_headers(msg: Message, name: str) -> tuple[str, ...]:
    """Every raw value of a header, in the mail's order (the topmost first)."""
    wanted = name.lower()
    try:
        return tuple(_clean(str(v)) for k, v in msg.raw_items() if k.lower() == wanted)
    except Exception:
        return ()


def _has_header(msg: Message, name: str) -> bool:
    wanted = name.lower()
    try:
        return any(key.lower() == wanted for key, _ in msg.raw_items())
    except Exception:
        return False


def _decoded_header(msg: Message, name: str) -> str:
    """A header with RFC 2047 encoded words decoded, best effort."""
    try:
        value = msg.get(name)
        if value is not None:
            return _clean(str(value))
    except Exception:
        pass
    raw = _raw_header(msg, name)
    try:
        return _clean(str(make_header(decode_header(raw))))
    except Exception:
        return raw


def _address_list(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header; address lowercased, may be odd."""
    pairs: list[tuple[str, str]] = []
    try:
        for header in msg.get_all(name) or []:
            for address in getattr(header, "addresses", ()):
                pairs.append((str(address.display_name), str(address.addr_spec)))
    except Exception:
        pairs = []
        raw = _raw_header(msg, name)
        try:
            decoded = str(make_header(decode_header(raw)))
        except Exception:
            decoded = raw
        try:
            pairs = list(getaddresses([decoded]))
        except Exception:
            pairs = []
    return [(_one_line(display), _one_line(addr).strip("<>").lower()) for display, addr in pairs]


def _valid_address(addr: str) -> bool:
    return "@" in addr and not re.search(r"\s", addr) and len(addr) <= 320


def _local_part(addr: str) -> str:
    addr = addr.strip().strip("<>").lower()
    return addr.rsplit("@", 1)[0] if "@" in addr else addr


def _normalize_id(value: str) -> str:
    """A message id as "<...>": whitespace removed, brackets added if a client forgot them."""
    compact = re.sub(r"\s+", "", _clean(value))
    found = _ID.search(compact)
    if found:
        return f"<{found.group(1)}>" if found.group(1) else ""
    compact = compact.strip("<>")
    return f"<{compact}>" if compact else ""


def _id_list(value: str) -> list[str]:
    ids = [re.sub(r"\s+", "", inner) for inner in _ID.findall(_clean(value))]
    return [f"<{inner}>" for inner in ids if inner]


def _references(references: str, in_reply_to: str) -> tuple[str, ...]:
    """Oldest first, deduplicated; a very long chain keeps its root and its recent end."""
    ids: list[str] = []
    seen: set[str] = set()
    for mid in [*_id_list(references), *([in_reply_to] if in_reply_to else [])]:
        if mid not in seen:
            seen.add(mid)
            ids.append(mid)
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


def _date(raw: str) -> datetime | None:
    if not raw.strip():
        return None
    try:
        parsed = parsedate_to_datetime(_one_line(raw))
    except Exception:
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, local zone unknown (RFC 5322 3.3)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def safe_filename(name: str) -> str:
    """A basename safe to show and store: no directories, no control or bidi characters."""
    name = _clean(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = name.strip().strip(".") if set(name.strip()) <= {"."} else name.strip()
    if len(name) > MAX_FILENAME:
        dot = name.rfind(".")
        ext = name[dot:] if dot > 0 and len(name) - dot <= 16 else ""
        name = name[: MAX_FILENAME - len(ext)] + ext
    return name


# --------------------------------------------------------------------------- MIME walking


def _leaves(
    part: MIMEPart, parent: MIMEPart | None = None, depth: int = 0
) -> Iterator[tuple[MIMEPart, MIMEPart | None]]:
    """Non-multipart parts with their parent; message/* parts are not entered."""
    try:
        container = part.get_content_maintype() == "multipart" and part.is_multipart()
    except Exception:
        container = False
    if not container:
        yield part, parent
        return
    if depth >= _MAX_DEPTH:
        return
    try:
        children = [child for child in part.iter_parts() if isinstance(child, MIMEPart)]
    except Exception:
        children = []
    for child in children:
        yield from _leaves(child, part, depth + 1)


def _find_body(msg: EmailMessage, kind: str) -> MIMEPart | None:
    try:
        return msg.get_body(preferencelist=(kind,))
    except Exception:  # a multipart whose boundary never appears trips get_body
        return None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return safe_filename(str(name)) if name else ""


def _content_id(part: Message) -> str:
    return re.sub(r"\s+", "", _raw_header(part, "Content-ID")).strip("<>").lower()


def _part_bytes(part: MIMEPart) -> bytes | None:
    """An attachment's bytes; a forwarded mail (message/rfc822) as its own bytes."""
    if _content_type(part) in _RETURNED_MESSAGE:
        try:
            inner = part.get_payload(0)
            return inner.as_bytes() if isinstance(inner, Message) else None
        except Exception:
            return None
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return None
    return data if isinstance(data, bytes) else None


@dataclass(frozen=True, slots=True)
class _Body:
    body: str
    text: str
    html_source: str
    parts: tuple[MIMEPart, ...]  # the parts that make up the body, not attachments


def _select_body(msg: EmailMessage) -> _Body:
    """The text/plain body if it says anything, else the HTML one as text."""
    plain = _find_body(msg, "plain")
    html = _find_body(msg, "html")
    html_source = _part_text(html) if html is not None else ""
    body_parts = tuple(p for p in (plain, html) if p is not None)
    plain_text = _plain_text(plain) if plain is not None else ""
    if plain is not None and plain_text.strip():
        # Apple Mail splits plain text around inline photos: mixed[text, image, text].
        leaves = list(_leaves(msg))
        plain_parent = next((parent for leaf, parent in leaves if leaf is plain), None)
        extra: list[MIMEPart] = []
        if plain_parent is not None and _content_type(plain_parent) == "multipart/mixed":
            extra = [
                leaf
                for leaf, parent in leaves
                if parent is plain_parent
                and leaf is not plain
                and _content_type(leaf) == "text/plain"
                and _disposition(leaf) != "attachment"
                and not _filename(leaf)
            ]
        whole = "\n".join([plain_text, *(_plain_text(p) for p in extra)]).strip()
        return _Body(whole, latest_reply(whole), html_source, body_parts + tuple(extra))
    if html_source.strip():
        whole = html_to_text(html_source, drop_quotes=False)
        new = html_to_text(html_source) or whole
        return _Body(whole, latest_reply(new), html_source, body_parts)
    lone_type = _content_type(msg)
    if not msg.is_multipart() and lone_type in ("text/plain", "text/html"):
        # A lone text part get_body refused (marked "attachment"): still the message.
        source = _part_text(msg)
        whole = html_to_text(source) if lone_type == "text/html" else source.strip()
        return _Body(whole, latest_reply(whole), "", (msg,))
    try:
        payload = msg.get_payload()
    except Exception:
        payload = None
    if isinstance(payload, str) and _content_type(msg).startswith("multipart/"):
        whole = _part_text(msg).strip()  # boundary missing: the payload is all there is
        return _Body(whole, latest_reply(whole), "", (msg,))
    return _Body("", "", html_source, body_parts)


def _attachments(
    msg: EmailMessage, body: _Body, *, is_bounce: bool, limit: int
) -> tuple[list[MailAttachment], list[str]]:
    cids = {
        unquote(cid).strip("<>").lower()
        for cid in re.findall(r"cid:([^\"'\s>)]+)", body.html_source, re.IGNORECASE)
    }
    kept: list[MailAttachment] = []
    skipped: list[str] = []
    for part, _parent in _leaves(msg):
        if any(part is body_part for body_part in body.parts):
            continue
        ctype = _content_type(part)
        if ctype in _REPORT_PARTS or (is_bounce and ctype in _RETURNED_MESSAGE):
            continue
        data = _part_bytes(part)
        if data is None:
            continue
        filename = _filename(part)
        if not data and not filename:
            continue  # an empty unnamed part (e.g. a blank alternative) is no attachment
        if len(data) > limit:
            skipped.append(filename or ctype)
            continue
        inline = _disposition(part) == "inline" or (
            bool(cids) and _content_id(part) in cids and _content_id(part) != ""
        )
        kept.append(MailAttachment(ctype, filename, data, inline))
    return kept, skipped


# --------------------------------------------------------------------------- bounces


def _field_blocks(text: str) -> list[dict[str, str]]:
    """RFC 3464 field groups ("Name: value", folded lines) of a delivery-status text."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for found in re.finditer(r"^([A-Za-z][\w-]*)[ \t]*:(.*(?:\n[ \t]+.*)*)", chunk, re.M):
            fields.setdefault(found.group(1).lower(), _one_line(found.group(2)))
        if fields:
            blocks.append(fields)
    return blocks


def _dsn_blocks(part: MIMEPart) -> list[dict[str, str]]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list):
        blocks: list[dict[str, str]] = []
        for block in payload:
            if not isinstance(block, Message):
                continue
            fields: dict[str, str] = {}
            for key, value in block.raw_items():
                fields.setdefault(key.lower(), _one_line(str(value)))
            if fields:
                blocks.append(fields)
        return blocks
    return _field_blocks(_part_text(part))


def _returned_id(part: MIMEPart) -> str:
    """Message-ID of the mail a bounce returned (whole message or headers only)."""
    ctype = _content_type(part)
    try:
        if ctype in _RETURNED_MESSAGE:
            inner = part.get_payload(0)
            if not isinstance(inner, Message):
                return ""
            return _normalize_id(_raw_header(inner, "Message-ID"))
        headers = BytesParser(policy=policy.default).parsebytes(
            _part_text(part).encode("utf-8", "replace"), headersonly=True
        )
        return _normalize_id(_raw_header(headers, "Message-ID"))
    except Exception:
        return ""


def _status_of(*texts: str) -> str:
    for text in texts:
        found = _STATUS.search(text)
        if found:
            return ".".join(found.groups())
    return ""


def _bounce(msg: EmailMessage, body: str, leaves: list[MIMEPart]) -> Bounce:
    blocks: list[dict[str, str]] = []
    original_id = ""
    for part in leaves:
        ctype = _content_type(part)
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks.extend(_dsn_blocks(part))
        elif (ctype in _RETURNED_MESSAGE or ctype in _REPORT_PARTS) and not original_id:
            original_id = _returned_id(part)
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    failed = [b for b in recipients if b.get("action", "").lower() == "failed"]
    block = (failed or recipients or [{}])[0]
    envelope_id = next(
        (b["original-envelope-id"] for b in blocks if "original-envelope-id" in b), ""
    )
    if not original_id:
        original_id = _normalize_id(_raw_header(msg, "X-Original-Message-ID"))
    if not original_id and envelope_id:
        original_id = _normalize_id(envelope_id)
    if not original_id:
        found = re.search(r"^[ \t]*Message-ID:[ \t]*(<[^<>\s]+>)", body, re.I | re.M)
        original_id = found.group(1) if found else ""

    recipient = block.get("final-recipient") or block.get("original-recipient") or ""
    if not recipient:
        recipient = _raw_header(msg, "X-Failed-Recipients").split(",")[0]
    recipient = re.sub(r"^[\w-]+;", "", recipient.strip()).strip().strip("<>").lower()

    diagnostic = block.get("diagnostic-code", "")
    if not diagnostic and not blocks:
        smtp_line = re.search(r"^.*\b[45]\d\d[ -][^\n]*$", body, re.M)
        diagnostic = smtp_line.group(0) if smtp_line else ""
    diagnostic = _one_line(re.sub(r"^\s*[\w-]+;", "", diagnostic))[:MAX_DIAGNOSTIC]

    status = _status_of(block.get("status", ""), diagnostic)
    if not status and not blocks:
        status = _status_of(body)
    action = block.get("action", "").lower()
    if action == "failed" or status.startswith("5"):
        permanent = True
    elif action or status:
        permanent = False
    else:  # no machine-readable hint: only a delay notice is not final
        permanent = not re.search(r"\bdelay|will (?:retry|be retried)|tertunda", body, re.I)
    return Bounce(original_id, recipient, status, diagnostic, permanent)


# --------------------------------------------------------------------------- loop guard


def _auto_submitted(msg: EmailMessage, subject: str) -> bool:
    auto = _raw_header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if _has_header(msg, "Auto-Submitted") and auto != "no":
        return True
    for name in ("X-Autoreply", "X-Autorespond"):
        if _has_header(msg, name) and _raw_header(msg, name).strip().lower() not in ("no", "false"):
            return True
    suppress = {
        token.strip().lower() for token in _raw_header(msg, "X-Auto-Response-Suppress").split(",")
    }
    if suppress & {"all", "oof"}:
        return True
    if _content_type(msg) == "multipart/report":  # read receipts and other reports
        return True
    return bool(_AUTO_SUBJECT.match(subject))


def _fallback_id(raw: bytes) -> str:
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"


# --------------------------------------------------------------------------- entry point


def parse_mail(
    raw: bytes,
    *,
    own_address: str,
    envelope_sender: str | None = None,
    max_attachment_bytes: int = 10 * 1024 * 1024,
) -> ParsedMail:
    """Parse one message; never raises, whatever the bytes.

    ``envelope_sender`` is the SMTP MAIL FROM ("" for the null sender ``<>``),
    ``None`` when unknown (mail fetched over IMAP).
    """
    raw = bytes(raw)
    for headers_only in (False, True):
        try:
            return _parse(raw, own_address, envelope_sender, max_attachment_bytes, headers_only)
        except Exception:  # e.g. RecursionError on absurd MIME nesting: retry flatter
            continue
    text = _decode_bytes(raw, "").replace("\r\n", "\n").strip()
    return ParsedMail(
        message_id=_fallback_id(raw),
        sender="",
        sender_name="",
        envelope_sender=envelope_sender,
        recipients=(),
        subject="",
        in_reply_to="",
        references=(),
        date=None,
        text=text,
        body=text,
        attachments=(),
        skipped_attachments=(),
        auto_reason="null-sender" if envelope_sender == "" else "",
        bounce=None,
    )


def _parse(
    raw: bytes,
    own_address: str,
    envelope_sender: str | None,
    limit: int,
    headers_only: bool = False,
) -> ParsedMail:
    """The real parse; ``headers_only`` keeps the whole body as one opaque text."""
    msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=headers_only)

    message_id = _normalize_id(_raw_header(msg, "Message-ID")) or _fallback_id(raw)
    senders = _address_list(msg, "From")
    from_name, from_addr = senders[0] if senders else ("", "")
    sender = from_addr if _valid_address(from_addr) else ""
    recipients: list[str] = []
    for name in ("To", "Cc"):
        for _display, addr in _address_list(msg, name):
            if _valid_address(addr) and addr not in recipients:
                recipients.append(addr)
    subject = _one_line(_decoded_header(msg, "Subject"))[:MAX_SUBJECT]
    in_reply_to = next(iter(_id_list(_raw_header(msg, "In-Reply-To"))), "")
    references = _references(_raw_header(msg, "References"), in_reply_to)

    body = _select_body(msg)
    leaves = [part for part, _ in _leaves(msg)]
    ctypes = {_content_type(part) for part in leaves}
    from_local = _local_part(from_addr)
    envelope_local = _local_part(envelope_sender) if envelope_sender else ""
    is_dsn = "message/delivery-status" in ctypes or "message/global-delivery-status" in ctypes
    if _content_type(msg) == "multipart/report":
        try:
            report_type = str(msg.get_param("report-type", "") or "").lower()
        except Exception:
            report_type = ""
        is_dsn = is_dsn or report_type in ("delivery-status", "global-delivery-status")
    returned = bool(ctypes & (_RETURNED_MESSAGE | _REPORT_PARTS)) or bool(
        _has_header(msg, "X-Failed-Recipients")
        or re.search(r"^[ \t]*Message-ID:[ \t]*<", body.body, re.I | re.M)
    )
    is_bounce = is_dsn or (bool({from_local, envelope_local} & _BOUNCE_SENDERS) and returned)
    bounce = _bounce(msg, body.body, leaves) if is_bounce else None
    attachments, skipped = _attachments(msg, body, is_bounce=is_bounce, limit=limit)

    own = own_address.strip().lower()
    if is_bounce:
        auto_reason = "bounce"
    elif envelope_sender is not None and envelope_sender.strip() in ("", "<>"):
        auto_reason = "null-sender"
    elif {from_local, envelope_local} & _DAEMON_LOCALS:
        auto_reason = "mailer-daemon"
    elif own and sender == own:
        auto_reason = "own-address"
    elif _auto_submitted(msg, subject):
        auto_reason = "auto-submitted"
    elif _raw_header(msg, "Precedence").strip().lower() in ("bulk", "junk", "list"):
        auto_reason = "precedence"
    elif _has_header(msg, "List-Id") or _has_header(msg, "List-Unsubscribe"):
        auto_reason = "list"
    else:
        auto_reason = ""

    reply_tos = [a for _d, a in _address_list(msg, "Reply-To") if _valid_address(a)]
    reply_to = reply_tos[0] if len(reply_tos) == 1 else ""
    if reply_to in (sender, own):
        reply_to = ""

    return ParsedMail(
        reply_to=reply_to,
        auth_results=_all_raw_headers(msg, "Authentication-Results"),
        message_id=message_id,
        sender=sender,
        sender_name=from_name,
        envelope_sender=envelope_sender,
        recipients=tuple(recipients),
        subject=subject,
        in_reply_to=in_reply_to,
        references=references,
        date=_date(_raw_header(msg, "Date")),
        text=body.text.strip(),
        body=body.body.strip(),
        attachments=tuple(attachments),
        skipped_attachments=tuple(skipped),
        auto_reason=auto_reason,
        bounce=bounce,
    )
