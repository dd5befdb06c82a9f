"""One outbound mail: plain text and HTML from templates, threaded, marked automatic.

Mail clients thread by ``In-Reply-To``/``References`` (and Gmail by subject too), so
an answer carries the conversation's Message-IDs and a ``Re:`` subject. Bot answers
say ``Auto-Submitted: auto-replied`` (RFC 3834), so well-behaved autoresponders never
answer them and two robots cannot talk to each other forever; an officer's own words
are not automatic and go without it. The Message-ID is derived from the outbox's
idempotency key, so a send retried after a timeout carries the same id and the
citizen's mail client shows it once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2

from hub.model import OutboundMessage, utcnow

REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|balas|bls|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
"""What clients put before a subject on a reply or forward (English, German, Nordic,
Indonesian Outlook's "Balas"), stripped so a thread keeps one subject."""

MAX_SUBJECT = 200


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, on one line."""
    return REPLY_PREFIX.sub("", " ".join(subject.split()))[:MAX_SUBJECT]


def message_id_for(key: str, recipient: str, text: str, domain: str) -> str:
    """A Message-ID stable for one outbox entry: the same on every retry, different
    for a different message even if a reset database reuses the key."""
    digest = hashlib.sha256(f"{key}\n{recipient}\n{text}".encode()).hexdigest()[:16]
    local = re.sub(r"[^A-Za-z0-9.-]", "-", key) or "mail"
    return f"<omnihub.{local}.{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class FilePart:
    """An attachment's bytes, fetched before the mail is built."""

    content_type: str
    filename: str
    data: bytes


class MailComposer:
    """Builds mails from ``templates/email/<locale>/``: ``subject.j2`` (a new
    conversation's subject), ``body.txt.j2`` and ``body.html.j2`` (autoescaped)."""

    def __init__(self, templates: Path, address: str, display_name: str) -> None:
        self.address = address
        self.display_name = display_name
        self.domain = address.rpartition("@")[2]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates / "email"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _render(self, name: str, locale: str, **context: object) -> str:
        template = self.env.select_template([f"{locale}/{name}", f"id/{name}"])
        return template.render(**context)

    def subject(self, message: OutboundMessage) -> str:
        if message.bulk and message.subject:
            return " ".join(message.subject.split())
        if message.subject:
            return f"Re: {base_subject(message.subject)}"
        return " ".join(self._render("subject.j2", message.locale).split())

    def compose(self, message: OutboundMessage, files: list[FilePart]) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = formataddr((self.display_name, self.address))
        mail["To"] = message.recipient
        mail["Subject"] = self.subject(message)
        mail["Date"] = format_datetime(utcnow())
        mail["Message-ID"] = message_id_for(
            message.idempotency_key or "mail", message.recipient, message.text, self.domain
        )
        references = [] if message.bulk else list(message.references)
        if not references and message.reply_to and not message.bulk:
            references = [message.reply_to]
        if references:
            mail["In-Reply-To"] = references[-1]
            mail["References"] = " ".join(references)
        if message.bulk:
            # RFC 3834: generated, not a reply; RFC 2369/8058: one click unsubscribes.
            mail["Auto-Submitted"] = "auto-generated"
            mail["Precedence"] = "bulk"
            if message.unsubscribe_url:
                mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
                mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        elif message.automated:
            mail["Auto-Submitted"] = "auto-replied"
            # Exchange and Outlook send no out-of-office answer to such a mail.
            mail["X-Auto-Response-Suppress"] = "All"
        paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", message.text) if p.strip()]
        context = {
            "text": message.text,
            "paragraphs": [p.split("\n") for p in paragraphs],
            "automated": message.automated,
        }
        mail.set_content(self._render("body.txt.j2", message.locale, **context))
        mail.add_alternative(
            self._render("body.html.j2", message.locale, **context), subtype="html"
        )
        for part in files:
            maintype, _, subtype = part.content_type.partition("/")
            mail.add_attachment(
                part.data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=part.filename or None,
            )
        # Last: building the body moves or clears Content-* headers set earlier.
        mail["Content-Language"] = message.locale
        return mail
