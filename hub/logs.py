"""JSON-lines logging that never writes a citizen's phone number or NIK.

Logs leave the mall's servers (shipping, support tickets, screenshots), so the
personal data they would otherwise carry is masked at the handler, whatever the
logger or the caller: message, ``extra=`` fields and tracebacks alike.

Masking format (stable, so grep and dashboards can rely on it):

* phone numbers become ``[phone …890]`` — only the last 3 digits survive;
* a NIK (16 digits, also grouped) becomes ``[nik …1234]`` — only the last 4 digits survive;
* an email address becomes ``[email …@example.co.id]`` — only the domain survives;
* a Telegram bot token (it sits in every Bot API URL) becomes ``[bot-token]``.

NIKs and phone numbers are found by :mod:`hub.pii`, the detector every stored text
goes through; only the masked form differs here, kept stable for grep.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from hub import pii

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")

# A Telegram bot token: "<bot id>:<35 url-safe characters>", often inside ".../bot<token>/...".
_BOT_TOKEN_RE = re.compile(r"(?<![\w])(bot)?\d{6,12}:[A-Za-z0-9_-]{30,}")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    [*logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__, "message", "asctime"]
)

# Keys the formatter writes itself; an extra with the same name is renamed, not lost.
_CORE_KEYS = frozenset({"ts", "level", "logger", "msg", "exc", "stack"})

# High volume, and httpx/httpcore write request URLs (with Telegram's token) at INFO.
# The mail libraries (aiosmtpd, aioimaplib) are kept quiet by
# hub.channels.email.listen.LibraryLogGuard while they are in use.
_NOISY_LOGGERS = ("aiohttp.access", "sqlalchemy.engine", "httpx", "httpcore")


def _mask_phone(digits: str) -> str:
    return f"[phone …{digits[-3:]}]"


def _mask_nik(digits: str) -> str:
    return f"[nik …{digits[-4:]}]"


def mask_sensitive(text: str) -> str:
    """Return ``text`` with NIKs, phone numbers and email addresses masked.

    Phones become ``[phone …890]`` (last 3 digits kept), a NIK (16 digits, in one
    piece or grouped) becomes ``[nik …1234]`` (last 4 kept) and an email address keeps only its
    domain, enough to tell two citizens apart in a log without being able to contact
    or identify them. Short numbers such as queue numbers, years, times, dates,
    ticket ids and rupiah amounts are left alone. Masking is idempotent.
    """
    text = _BOT_TOKEN_RE.sub("[bot-token]", text)
    text = _EMAIL_RE.sub(lambda m: f"[email …@{m.group(1)}]", text)
    return pii.mask(text, nik=_mask_nik, phone=_mask_phone)


def _scrub(value: Any) -> Any:
    """Mask ``value`` and turn it into something ``json.dumps`` accepts.

    Numbers are checked too: ``extra={"msisdn": 6281234567890}`` is still a phone.
    Unknown objects go through ``str()`` first, so their text is masked as well.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, int | float):
        text = str(value)
        masked = mask_sensitive(text)
        return value if masked == text else masked
    if isinstance(value, Mapping):
        return {mask_sensitive(str(key)): _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(item) for item in value]
    return mask_sensitive(str(value))


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS}


class MaskingFilter(logging.Filter):
    """Masks a record in place so no handler sharing it can leak the raw values.

    The message is resolved (``msg % args``) before masking, because a phone number
    usually arrives as an argument, not in the format string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_sensitive(record.getMessage())
        record.args = None
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, mask_sensitive(value))
            elif isinstance(value, Mapping | list | tuple):
                setattr(record, key, _scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so log shippers need no parsing rules.

    Fields: ``ts`` (UTC, milliseconds, ``Z``), ``level``, ``logger``, ``msg``, every
    ``extra=`` field, and ``exc``/``stack`` when present. Everything is masked here
    too, so the formatter is safe even on a handler without :class:`MaskingFilter`.
    """

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, tz=UTC)
        payload: dict[str, Any] = {
            "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": mask_sensitive(record.name),
            "msg": mask_sensitive(record.getMessage()),
        }
        for key, value in _extras(record).items():
            name = mask_sensitive(key)
            payload[f"extra_{name}" if name in _CORE_KEYS else name] = _scrub(value)
        if record.exc_info:
            payload["exc"] = mask_sensitive(self.formatException(record.exc_info))
        elif record.exc_text:
            payload["exc"] = mask_sensitive(record.exc_text)
        if record.stack_info:
            payload["stack"] = mask_sensitive(self.formatStack(record.stack_info))
        return json.dumps(payload, ensure_ascii=False)


class _HubHandler(logging.StreamHandler[TextIO]):
    """Marks the handler installed by :func:`configure_logging`, so a second call can
    replace it without touching handlers that others (pytest, a host app) installed."""


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr) as masked JSON lines.

    Idempotent: the handler from an earlier call is removed first, so reconfiguring
    (tests, a reload) never duplicates lines. Access and SQL echo logs are turned
    down to WARNING because they are high-volume and full of request details.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _HubHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _HubHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
