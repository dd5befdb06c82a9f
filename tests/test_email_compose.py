"""Building one outbound mail: headers that keep the thread and stop loops, both bodies."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import cast

import pytest

from hub.channels.email.compose import FilePart, MailComposer, base_subject, message_id_for
from hub.model import OutboundMessage
from hub.resources import templates_dir

ADDRESS = "layanan@mpp.example"


@pytest.fixture
def composer() -> MailComposer:
    return MailComposer(templates_dir(), ADDRESS, "MPP Badung")


def reparsed(mail: EmailMessage) -> EmailMessage:
    """As the receiving side reads it: the bytes on the wire, parsed again."""
    return email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)


def message(**fields: object) -> OutboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "recipient": "budi@example.co.id",
        "text": "Jam buka: Senin-Jumat 08.00-15.00.\n\nBalas dengan angka:\n1. Ya\n2. Tidak",
        "idempotency_key": "msg-42",
    }
    values.update(fields)
    return OutboundMessage(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "base"),
    [
        ("Re: Syarat KTP", "Syarat KTP"),
        ("RE: Re: Fwd: Syarat  KTP", "Syarat KTP"),
        ("Balas: Jam buka", "Jam buka"),
        ("AW: Termin", "Termin"),
        ("Re[2]: paspor", "paspor"),
        ("Pertanyaan: Re: bukan awalan", "Pertanyaan: Re: bukan awalan"),
        ("", ""),
    ],
)
def test_base_subject_strips_reply_prefixes_only(raw: str, base: str) -> None:
    assert base_subject(raw) == base


def test_message_id_is_stable_per_outbox_entry() -> None:
    first = message_id_for("msg-7", "a@example.com", "halo", "mpp.example")
    assert first == message_id_for("msg-7", "a@example.com", "halo", "mpp.example")
    assert first.startswith("<omnihub.msg-7.") and first.endswith("@mpp.example>")
    assert first != message_id_for("msg-7", "a@example.com", "halo lagi", "mpp.example")
    assert first != message_id_for("msg-8", "a@example.com", "halo", "mpp.example")


def test_a_bot_answer_is_threaded_automatic_and_has_both_bodies(composer: MailComposer) -> None:
    refs = ("<a@mail.example.co.id>", "<omnihub.msg-1.x@mpp.example>", "<b@mail.example.co.id>")
    mail = reparsed(composer.compose(message(subject="Jam buka", references=refs), []))
    assert mail["From"] == "MPP Badung <layanan@mpp.example>"
    assert mail["To"] == "budi@example.co.id"
    assert mail["Subject"] == "Re: Jam buka"
    assert mail["In-Reply-To"] == "<b@mail.example.co.id>"
    assert mail["References"].split() == list(refs)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Message-ID"] == message_id_for(
        "msg-42", "budi@example.co.id", message().text, "mpp.example"
    )
    assert mail.get_content_type() == "multipart/alternative"
    text = cast(EmailMessage, mail.get_body(preferencelist=("plain",))).get_content()
    page = cast(EmailMessage, mail.get_body(preferencelist=("html",))).get_content()
    assert text.startswith("Jam buka: Senin-Jumat 08.00-15.00.\n\nBalas dengan angka:\n1. Ya")
    assert "Email ini dijawab otomatis" in text
    assert "<p>Balas dengan angka:<br>1. Ya<br>2. Tidak</p>" in page


def test_an_officers_words_are_not_automatic_and_html_is_escaped(composer: MailComposer) -> None:
    text = 'Baik Pak, <b>besok</b> & "lusa" bisa.'
    mail = reparsed(composer.compose(message(text=text, automated=False, locale="en"), []))
    assert "Auto-Submitted" not in mail and "X-Auto-Response-Suppress" not in mail
    page = cast(EmailMessage, mail.get_body(preferencelist=("html",))).get_content()
    assert "&lt;b&gt;besok&lt;/b&gt; &amp; &#34;lusa&#34;" in page
    assert "<b>" not in page
    plain = cast(EmailMessage, mail.get_body(preferencelist=("plain",))).get_content()
    assert text in plain and "Reply to this email to continue the conversation." in plain


def test_a_new_conversation_gets_the_default_subject_per_locale(composer: MailComposer) -> None:
    mail = reparsed(composer.compose(message(), []))
    assert mail["Subject"] == "Mal Pelayanan Publik Kabupaten Badung"
    assert "In-Reply-To" not in mail and "References" not in mail
    english = reparsed(composer.compose(message(locale="en"), []))
    assert english["Subject"] == "Badung Public Service Mall"


def test_attachments_are_mime_parts(composer: MailComposer) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    mail = reparsed(composer.compose(message(), [FilePart("image/png", "B-7Q4M2X.png", png)]))
    assert mail.get_content_type() == "multipart/mixed"
    [part] = list(mail.iter_attachments())
    assert part.get_content_type() == "image/png"
    assert part.get_filename() == "B-7Q4M2X.png"
    assert part.get_content() == png


def test_an_announcement_has_its_own_subject_and_one_click_unsubscribe(
    composer: MailComposer,
) -> None:
    url = "https://mpp.example/unsubscribe/c7.0123456789abcdef0123456789abcdef"
    mail = reparsed(
        composer.compose(
            message(
                subject="Jam layanan baru",
                references=("<a@mail.example.co.id>",),
                reply_to="<a@mail.example.co.id>",
                bulk=True,
                unsubscribe_url=url,
            ),
            [],
        )
    )
    assert mail["Subject"] == "Jam layanan baru"  # not "Re:": it answers nothing
    assert mail["In-Reply-To"] is None and mail["References"] is None
    # A long value may be folded onto the next line; unfolded it is the link in brackets.
    assert mail["List-Unsubscribe"].strip() == f"<{url}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Precedence"] == "bulk"
    # A targeted notice (about a booking) has no unsubscribe: it is not a subscription.
    notice = reparsed(composer.compose(message(subject="Loket tutup", bulk=True), []))
    assert notice["List-Unsubscribe"] is None and notice["Subject"] == "Loket tutup"
