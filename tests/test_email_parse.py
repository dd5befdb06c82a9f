"""Inbound mail parsing: real client fixtures, the loop guard, and hostile bytes."""

from __future__ import annotations

import hashlib
import io
import random
import re
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from PIL import Image

from hub.channels.email.parse import ParsedMail, parse_mail, safe_filename
from hub.channels.email.text import html_to_text, latest_reply

FIXTURES = Path(__file__).parent / "fixtures" / "email"
OWN = "layanan@mpp.example"
WITA = timezone(timedelta(hours=8))


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(
    raw: bytes, *, envelope_sender: str | None = None, max_attachment_bytes: int = 10 << 20
) -> ParsedMail:
    return parse_mail(
        raw,
        own_address=OWN,
        envelope_sender=envelope_sender,
        max_attachment_bytes=max_attachment_bytes,
    )


def html_part(name: str) -> str:
    """The text/html alternative of a fixture, decoded."""
    msg = BytesParser(policy=policy.default).parsebytes(load(name))
    body = msg.get_body(preferencelist=("html",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def mail(headers: str, body: str = "Halo, mau tanya.\n") -> bytes:
    """A small message for the cases no fixture covers."""
    head = textwrap.dedent(headers).strip("\n")
    return f"{head}\n\n{body}".encode()


# --------------------------------------------------------------------------- fixtures


def test_gmail_reply_in_indonesian() -> None:
    m = parse(load("gmail_reply_id.eml"))
    assert m.message_id == "<CAJx8r5T0kq2M9vQm3hP_bXy7uL4cN1dWz=oA6sE2fR+Lw@mail.gmail.com>"
    assert m.sender == "putu.ayu@example.co.id"
    assert m.sender_name == "Putu Ayu Lestari"
    assert m.envelope_sender is None
    assert m.recipients == ("layanan@mpp.example",)
    assert m.subject == "Re: Syarat bikin KTP"
    assert m.in_reply_to == "<omnihub.msg-7.3f9a1c2b4d5e@mpp.example>"
    assert m.references == ("<omnihub.msg-7.3f9a1c2b4d5e@mpp.example>",)
    assert m.date == datetime(2026, 11, 30, 17, 17, 31, tzinfo=WITA)
    assert m.text == (
        "Halo kak, makasih infonya.\nkalau akta kelahiran hilang gmn? trs jam buka hari sabtu?"
    )
    # The whole body still has the quote; the new words are only its start.
    assert "> Syarat membuat KTP-el di Mal Pelayanan Publik Badung:" in m.body
    assert m.body.startswith(m.text)
    assert m.attachments == ()
    assert m.auto_reason == ""
    assert m.bounce is None


def test_gmail_html_part_drops_the_quote() -> None:
    assert html_to_text(html_part("gmail_reply_id.eml")) == (
        "Halo kak, makasih infonya.\nkalau akta kelahiran hilang gmn? trs jam buka hari sabtu?"
    )
    whole = html_to_text(html_part("gmail_reply_id.eml"), drop_quotes=False)
    assert "- Akta kelahiran (asli dan fotokopi)" in whole
    assert "menulis:" in whole


def test_outlook_reply() -> None:
    m = parse(load("outlook_reply.eml"))
    assert m.message_id == (
        "<SG2PR06MB5321A8C7D6E5F4B3A2918ABCD@SG2PR06MB5321.apcprd06.prod.outlook.com>"
    )
    assert m.sender == "rina.hartono@example.com"
    assert m.sender_name == "Hartono, Rina"
    assert m.recipients == ("layanan@mpp.example", "made.wirawan@example.com")
    assert m.subject == "RE: Your appointment at MPP Badung"
    assert m.in_reply_to == "<omnihub.msg-21.9c8b7a6f5e4d@mpp.example>"
    assert m.references == (
        "<omnihub.msg-20.1a2b3c4d5e6f@mpp.example>",
        "<omnihub.msg-21.9c8b7a6f5e4d@mpp.example>",
    )
    assert m.date == datetime(2026, 12, 1, 2, 41, 9, tzinfo=UTC)
    assert m.text == (
        "Hi,\n\nCould I move my appointment to Thursday morning instead? "
        "I have to work on Wednesday.\n\nThanks,\nRina"
    )
    assert "Sent: Monday, November 30, 2026 4:05 PM" in m.body
    assert m.auto_reason == ""


def test_outlook_html_part_stops_at_the_reply_header() -> None:
    html = html_part("outlook_reply.eml")
    assert html_to_text(html) == (
        "Hi,\n\nCould I move my appointment to Thursday morning instead? "
        "I have to work on Wednesday.\n\nThanks,\nRina"
    )
    assert "Please bring your old passport" in html_to_text(html, drop_quotes=False)


def test_html_only_mail() -> None:
    m = parse(load("html_only.eml"))
    assert m.message_id == "<7f3c1e9a2b8d4c6e@webmail.example.co.id>"
    assert m.sender == "ketut.arya@example.co.id"
    assert m.subject == "Daftar NPWP dan BPJS"
    assert m.text == (
        "Selamat siang,\n\n"
        "Saya mau daftar NPWP & BPJS sekaligus. Dokumen yang saya bawa:\n\n"
        "- KTP asli\n"
        "- Kartu Keluarga\n\n"
        "Apakah perlu fotokopi?\n"
        "Info di website ini (https://www.example.com/info-npwp) kurang jelas, "
        "email saya ketut.arya@example.co.id.\n\n"
        "Suksma 🙏\nKetut"
    )
    assert "font-family" not in m.body and "trackOpen" not in m.body
    assert "Pesan dari formulir" not in m.body  # <title>
    assert m.attachments == ()


def test_latin1_quoted_printable() -> None:
    m = parse(load("latin1_qp.eml"))
    assert m.sender == "jose.fernandez@example.com"  # lowercased
    assert m.sender_name == "José María Fernández"
    assert m.subject == "Permiso para café (sí, en Kuta)"
    assert m.date == datetime(2026, 12, 2, 1, 12, 3, tzinfo=timezone(timedelta(hours=1)))
    assert m.text == (
        "Hola / Hello,\n\n"
        "I am José, I want to open a small café in Kuta. Sí, I already have the KITAS. "
        "Do I need a permit for the espresso machine (220 V ± 10%)? "
        "The fridge is kept at 4 °C.\n\n"
        "Gracias,\nJosé"
    )


def test_photo_attachment() -> None:
    m = parse(load("photo.eml"))
    assert m.text == (
        "jalan rusak depan kantor camat, sdh 3 bulan. tolong diperbaiki ya pak, "
        "kemarin ada yg jatuh dari motor\nlokasi: Jl. Raya Kapal, Mengwi (foto terlampir)"
    )
    assert "Dikirim dari Yahoo Mail di Android" in m.body
    assert len(m.attachments) == 1
    photo = m.attachments[0]
    assert photo.content_type == "image/jpeg"
    assert photo.filename == "IMG_20261201_153012.jpg"
    assert photo.inline is False
    assert photo.data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(photo.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (16, 16)
        red, green, blue = image.convert("RGB").getpixel((8, 8))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60
    assert m.skipped_attachments == ()


def test_photo_over_the_limit_is_skipped_and_named() -> None:
    m = parse(load("photo.eml"), max_attachment_bytes=100)
    assert m.attachments == ()
    assert m.skipped_attachments == ("IMG_20261201_153012.jpg",)
    assert m.text.startswith("jalan rusak depan kantor camat")


def test_out_of_office() -> None:
    m = parse(load("out_of_office.eml"))
    assert m.auto_reason == "auto-submitted"
    assert m.subject == "Automatic reply: Pengingat: antrean Anda besok pukul 09.00"
    assert m.in_reply_to == "<omnihub.msg-31.77aa88bb99cc@mpp.example>"
    assert m.bounce is None
    assert m.text.startswith("Terima kasih atas email Anda. Saya sedang cuti sampai 7 Desember")


def test_bounce() -> None:
    m = parse(load("bounce.eml"), envelope_sender="")
    assert m.auto_reason == "bounce"
    assert m.sender == "mailer-daemon@mx1.mpp.example"
    assert m.message_id == "<20261201060211.4XkF7k4Xz9z9tS3@mx1.mpp.example>"
    assert m.bounce is not None
    assert m.bounce.original_message_id == "<omnihub.msg-12.a1b2c3d4e5f6@mpp.example>"
    assert m.bounce.recipient == "budi.santoso@example.co.id"
    assert m.bounce.status == "5.1.1"
    assert m.bounce.diagnostic == (
        "550 5.1.1 <budi.santoso@example.co.id>: Recipient address rejected: User unknown"
    )
    assert m.bounce.permanent is True
    # Neither the delivery report nor the returned headers are attachments.
    assert m.attachments == ()
    assert m.skipped_attachments == ()
    assert m.text.startswith("This is the mail system at host mx1.mpp.example.")


def test_list_mail() -> None:
    raw = load("list_mail.eml")
    m = parse(raw)
    assert m.auto_reason == "precedence"
    assert m.sender == "buletin@example.com"
    assert m.text.startswith("Buletin Pelayanan Publik - Edisi Desember 2026")
    without_precedence = raw.replace(b"Precedence: list\n", b"")
    assert without_precedence != raw
    assert parse(without_precedence).auto_reason == "list"


def test_plain_first_mail_with_signature() -> None:
    m = parse(load("plain_new_id.eml"))
    assert m.message_id == "<8c1d5e2f-3a4b-4c6d-9e7f-0a1b2c3d4e5f@example.co.id>"
    assert m.sender == "wayan.sudarsana@example.co.id"
    assert m.sender_name == "I Wayan Sudarsana"
    assert m.subject == "Tanya SIM"
    assert m.in_reply_to == ""
    assert m.references == ()
    # format=flowed: the wrapped line is joined again; the signature is cut.
    assert m.text == (
        "Selamat pagi, mau tanya syarat perpanjangan SIM apa saja ya? Terima kasih.\n\n"
        "Salam,\nWayan"
    )
    assert m.body.endswith("-- \nI Wayan Sudarsana\nDenpasar")
    assert m.auto_reason == ""


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.eml")))
def test_every_fixture_has_its_own_id_and_a_date(name: str) -> None:
    m = parse(load(name))
    assert re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", m.message_id)
    assert not m.message_id.endswith("@no-message-id.invalid>")
    assert m.date is not None and m.date.tzinfo is not None
    assert m.text


# --------------------------------------------------------------------------- headers


def test_missing_message_id_gets_a_stable_fallback() -> None:
    raw = mail("From: a@example.com\nTo: layanan@mpp.example\nSubject: tanya")
    first = parse(raw).message_id
    expected = "<" + hashlib.sha256(raw).hexdigest()[:40] + "@no-message-id.invalid>"
    assert first == expected
    assert parse(raw).message_id == first
    assert parse(raw + b"lagi\n").message_id != first


def test_message_id_whitespace_removed_and_brackets_kept() -> None:
    raw = b"Message-ID: <abc\n def@example.com>\nFrom: a@example.com\n\nhalo\n"
    assert parse(raw).message_id == "<abcdef@example.com>"
    assert parse(mail("Message-ID: abc@example.com")).message_id == "<abc@example.com>"


def test_rfc2047_subject_and_name() -> None:
    raw = mail(
        """
        From: =?UTF-8?B?TmkgS29tYW5nIEF5dSDwn4y6?= <komang@example.co.id>
        Subject: =?UTF-8?B?VGFueWEgc3VyYXQga2V0ZXJhbmdhbiBwaW5kYWg=?=
         =?UTF-8?Q?_=E2=80=93_mendesak?=
        """
    )
    m = parse(raw)
    assert m.subject == "Tanya surat keterangan pindah – mendesak"
    assert m.sender_name == "Ni Komang Ayu 🌺"


def test_subject_whitespace_collapsed_and_capped() -> None:
    m = parse(mail("Subject: a\tb   c " + "x" * 400))
    assert m.subject.startswith("a b c x")
    assert len(m.subject) == 255


def test_references_order_dedupe_and_cap() -> None:
    ids = [f"<m{i}@example.com>" for i in range(40)]
    raw = mail(
        "References: " + " ".join(ids) + " <m3@example.com>\n"
        "In-Reply-To: <reply@example.com> (Budi's message of Monday)"
    )
    m = parse(raw)
    assert m.in_reply_to == "<reply@example.com>"
    assert len(m.references) == 30
    assert m.references[0] == "<m0@example.com>"
    assert m.references[-1] == "<reply@example.com>"
    assert m.references[1:] == (*ids[-28:], "<reply@example.com>")


def test_in_reply_to_not_repeated_in_references() -> None:
    m = parse(mail("References: <a@x.example> <b@x.example>\nIn-Reply-To: <a@x.example>"))
    assert m.references == ("<a@x.example>", "<b@x.example>")


def test_bad_and_missing_date() -> None:
    assert parse(mail("Subject: x")).date is None
    assert parse(mail("Date: kemarin sore")).date is None
    naive = parse(mail("Date: Mon, 30 Nov 2026 09:15:00 -0000")).date
    assert naive == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def test_recipients_to_and_cc_lowercased_without_duplicates() -> None:
    raw = mail(
        'To: "Layanan" <Layanan@MPP.example>, Budi <budi@example.co.id>\n'
        "Cc: budi@example.co.id, undisclosed-recipients:;"
    )
    assert parse(raw).recipients == ("layanan@mpp.example", "budi@example.co.id")


def test_unparseable_from_gives_empty_sender() -> None:
    m = parse(mail("From: just a name without address"))
    assert m.sender == ""


# --------------------------------------------------------------------------- loop guard


def test_own_address() -> None:
    m = parse(mail("From: Layanan MPP <LAYANAN@mpp.example>\nSubject: Re: x"))
    assert m.auto_reason == "own-address"


def test_null_sender() -> None:
    raw = mail("From: someone@example.com")
    assert parse(raw, envelope_sender="").auto_reason == "null-sender"
    assert parse(raw, envelope_sender="").envelope_sender == ""
    assert parse(raw, envelope_sender="someone@example.com").auto_reason == ""
    assert parse(raw).envelope_sender is None


@pytest.mark.parametrize(
    ("headers", "envelope", "reason"),
    [
        ("From: MAILER-DAEMON@mx.example.com", None, "mailer-daemon"),
        ("From: a@example.com", "postmaster@example.com", "mailer-daemon"),
        ("From: noreply-dmarc-support@example.com", None, "mailer-daemon"),
        ("From: a@example.com\nAuto-Submitted: auto-generated", None, "auto-submitted"),
        ("From: a@example.com\nAuto-Submitted: no", None, ""),
        ("From: a@example.com\nX-Autorespond: vacation", None, "auto-submitted"),
        ("From: a@example.com\nX-Auto-Response-Suppress: OOF", None, "auto-submitted"),
        ("From: a@example.com\nX-Auto-Response-Suppress: DR, RN", None, ""),
        ("From: a@example.com\nSubject: Balasan Otomatis: Tanya KTP", None, "auto-submitted"),
        ("From: a@example.com\nPrecedence: bulk", None, "precedence"),
        ("From: a@example.com\nPrecedence: junk", None, "precedence"),
        ("From: a@example.com\nList-Unsubscribe: <mailto:u@example.com>", None, "list"),
        ("From: a@example.com\nList-Id: <x.example.com>", None, "list"),
        ("From: a@example.com\nSubject: Re: jam buka", None, ""),
    ],
)
def test_auto_reasons(headers: str, envelope: str | None, reason: str) -> None:
    assert parse(mail(headers), envelope_sender=envelope).auto_reason == reason


def test_order_of_auto_reasons() -> None:
    # Null sender wins over an auto-submitted header; own address over a list.
    raw = mail("From: a@example.com\nAuto-Submitted: auto-replied")
    assert parse(raw, envelope_sender="").auto_reason == "null-sender"
    raw = mail("From: layanan@mpp.example\nList-Id: <x.example.com>")
    assert parse(raw).auto_reason == "own-address"


def test_non_standard_bounce_with_returned_message() -> None:
    raw = b"""From: Mail Delivery System <Mailer-Daemon@mx.example.com>
To: layanan@mpp.example
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tXyZ-000123-Ab@mx.example.com>
X-Failed-Recipients: Gusti.Ngurah@example.co.id
Date: Tue, 01 Dec 2026 10:00:00 +0800
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gusti.ngurah@example.co.id
    host mx.example.co.id [203.0.113.25]
    SMTP error from remote mail server after RCPT TO:<gusti.ngurah@example.co.id>:
    550 5.1.1 mailbox unavailable

--b1
Content-Type: message/rfc822

Message-ID: <omnihub.msg-40.0011aabbccdd@mpp.example>
From: layanan@mpp.example
To: gusti.ngurah@example.co.id
Subject: Jadwal

Halo
--b1--
"""
    m = parse(raw)
    assert m.auto_reason == "bounce"
    assert m.bounce is not None
    assert m.bounce.original_message_id == "<omnihub.msg-40.0011aabbccdd@mpp.example>"
    assert m.bounce.recipient == "gusti.ngurah@example.co.id"
    assert m.bounce.status == "5.1.1"
    assert m.bounce.diagnostic == "550 5.1.1 mailbox unavailable"
    assert m.bounce.permanent is True
    assert m.attachments == ()  # the returned mail is not the citizen's attachment


def test_delayed_dsn_is_not_permanent_and_uses_x_original_message_id() -> None:
    raw = b"""From: postmaster@mx.example.com
To: layanan@mpp.example
Subject: Delayed Mail (still being retried)
X-Original-Message-ID: <omnihub.msg-50.99@mpp.example>
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: text/plain

Your message is delayed.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Original-Envelope-Id: omnihub.msg-50.other@mpp.example

Final-Recipient: RFC822; Wayan@Example.co.id
Action: delayed
Status: 4.4.7
Diagnostic-Code: X-Postfix; connect to mx.example.co.id[203.0.113.25]:25:
    Connection timed out
--r--
"""
    m = parse(raw)
    assert m.auto_reason == "bounce"
    assert m.bounce is not None
    assert m.bounce.original_message_id == "<omnihub.msg-50.99@mpp.example>"
    assert m.bounce.recipient == "wayan@example.co.id"
    assert m.bounce.status == "4.4.7"
    assert m.bounce.diagnostic == (
        "connect to mx.example.co.id[203.0.113.25]:25: Connection timed out"
    )
    assert m.bounce.permanent is False


def test_dsn_falls_back_to_original_envelope_id() -> None:
    raw = b"""From: MAILER-DAEMON@mx.example.com
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: message/delivery-status

Original-Envelope-Id: omnihub.msg-51.ab@mpp.example

Final-Recipient: rfc822; a@example.com
Action: failed
--r--
"""
    m = parse(raw)
    assert m.bounce is not None
    assert m.bounce.original_message_id == "<omnihub.msg-51.ab@mpp.example>"
    assert m.bounce.status == ""
    assert m.bounce.permanent is True


def test_read_receipt_is_not_a_bounce_but_gets_no_answer() -> None:
    raw = b"""From: Ayu <ayu@example.co.id>
Subject: Read: Jadwal antrean Anda
Content-Type: multipart/report; report-type=disposition-notification; boundary="r"

--r
Content-Type: text/plain

Your message was read on Tuesday.
--r
Content-Type: message/disposition-notification

Final-Recipient: rfc822; ayu@example.co.id
Disposition: manual-action/MDN-sent-manually; displayed
--r--
"""
    m = parse(raw)
    assert m.bounce is None
    assert m.auto_reason == "auto-submitted"
    assert m.attachments == ()


def test_mailer_daemon_without_returned_message_is_not_a_bounce() -> None:
    m = parse(mail("From: MAILER-DAEMON@mx.example.com\nSubject: Warning"))
    assert m.bounce is None
    assert m.auto_reason == "mailer-daemon"


# --------------------------------------------------------------------------- attachments


def test_attachment_filenames_are_made_safe() -> None:
    raw = b"""From: a@example.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

lihat lampiran
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="../../etc/passwd"

cm9vdDp4OjA6MA==
--b
Content-Type: image/jpeg
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="C:\\\\x\\\\y.jpg"

/9j/4AAQ
--b--
"""
    m = parse(raw)
    assert [a.filename for a in m.attachments] == ["passwd", "y.jpg"]
    assert m.attachments[1].data == b"\xff\xd8\xff\xe0\x00\x10"
    assert m.text == "lihat lampiran"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.jpg", "y.jpg"),
        ("foto\x00ktp\r\n.jpg", "fotoktp.jpg"),
        ("\u202egpj.exe", "gpj.exe"),  # a right-to-left override hides the real extension
        ("..", ""),
        ("", ""),
        ("dir/", ""),
        ("a" * 200 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe
    assert len(safe_filename(name)) <= 120


def test_inline_image_referenced_by_content_id() -> None:
    raw = b"""From: Made <made@example.co.id>
Message-ID: <inline@example.co.id>
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=UTF-8

ini fotonya [image: foto.jpg]
--alt
Content-Type: text/html; charset=UTF-8

<div dir="ltr">ini fotonya<div><img src="cid:ii_m3x9k2ab0" alt="foto.jpg"></div></div>
--alt--
--rel
Content-Type: image/jpeg; name="foto.jpg"
Content-Transfer-Encoding: base64
Content-ID: <ii_m3x9k2ab0>

/9j/4AAQ
--rel
Content-Type: application/pdf; name="surat.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="surat.pdf"

JVBERi0=
--rel--
"""
    m = parse(raw)
    assert m.text == "ini fotonya [image: foto.jpg]"
    assert [(a.content_type, a.filename, a.inline) for a in m.attachments] == [
        ("image/jpeg", "foto.jpg", True),
        ("application/pdf", "surat.pdf", False),
    ]
    assert m.attachments[1].data == b"%PDF-"


def test_unnamed_attachment_over_limit_is_named_by_type() -> None:
    raw = b"""From: a@example.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

rekaman
--b
Content-Type: audio/ogg
Content-Disposition: attachment

0123456789
--b--
"""
    m = parse(raw, max_attachment_bytes=5)
    assert m.attachments == ()
    assert m.skipped_attachments == ("audio/ogg",)


def test_apple_mail_text_split_around_a_photo() -> None:
    raw = b"""From: a@example.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=us-ascii

ini fotonya:
--b
Content-Type: image/jpeg; name="IMG_0001.jpg"
Content-Disposition: inline; filename="IMG_0001.jpg"
Content-Transfer-Encoding: base64

/9j/4AAQ
--b
Content-Type: text/plain; charset=us-ascii

tolong dicek ya

Sent from my iPhone
--b--
"""
    m = parse(raw)
    assert m.text == "ini fotonya:\ntolong dicek ya"
    assert [(a.filename, a.inline) for a in m.attachments] == [("IMG_0001.jpg", True)]


# --------------------------------------------------------------------------- hostile bytes


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe" * 100,
        bytes(range(256)) * 4,
        b"garbage without any header at all",
        b"From: <<<@@@>>>\nTo: ,,,;;;\nSubject: =?utf-8?B?####?=\nDate: 99 Foo 99999\n\nx",
        b"Content-Type: multipart/mixed; boundary=never\n\nno boundary here\n",
        b"Content-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhi\n",
        b"Content-Type: text/plain; charset=base64\n\nhalo\n",
        b"Message-ID: <>\nIn-Reply-To: <\nReferences: <<>> < >\n\nx",
        b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64***\n",
        b"From: a@example.com\nContent-Type: " + b"multipart/mixed; boundary=b\n\n--b\n" * 300,
    ],
)
def test_garbage_does_not_raise(raw: bytes) -> None:
    m = parse(raw)
    assert m.message_id.startswith("<") and m.message_id.endswith(">")
    assert "\x00" not in m.text


def test_absurd_nesting_still_gives_the_headers() -> None:
    raw = b"From: Budi <budi@example.co.id>\nSubject: dalam\nMessage-ID: <deep@example.co.id>\n"
    for level in range(2000):  # deeper than the stdlib parser can recurse
        raw += b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level)
    m = parse(raw + b"Content-Type: text/plain\n\nhalo\n")
    assert (m.message_id, m.sender, m.subject) == (
        "<deep@example.co.id>",
        "budi@example.co.id",
        "dalam",
    )
    assert m.text.endswith("halo")


def test_forwarded_mail_is_an_attachment_of_a_citizen_mail() -> None:
    raw = b"""From: a@example.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

ini email dari kantor desa
--b
Content-Type: message/rfc822

Message-ID: <desa@example.co.id>
Subject: Surat

isi surat
--b--
"""
    m = parse(raw)
    assert m.auto_reason == "" and m.bounce is None
    assert [a.content_type for a in m.attachments] == ["message/rfc822"]
    assert b"Message-ID: <desa@example.co.id>" in m.attachments[0].data
    assert m.text == "ini email dari kantor desa"


def test_unknown_charset_is_replaced_not_raised() -> None:
    raw = b"""From: a@example.com
Subject: =?x-unknown?Q?caf=E9?=
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset="x-unknown"
Content-Transfer-Encoding: 8bit

halo caf\xe9 \xc3\xa9
--b
Content-Type: text/plain; charset="utf-8"; name="x.txt"
Content-Disposition: attachment; filename="x.txt"

lampiran
--b--
"""
    m = parse(raw)
    assert m.text.startswith("halo caf")
    assert m.subject.startswith("caf")
    assert [a.filename for a in m.attachments] == ["x.txt"]


def test_wrong_charset_label_degrades_to_replacement() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\nJos\xe9 di Kuta\n"
    assert parse(raw).text == "Jos\ufffd di Kuta" or parse(raw).text == "José di Kuta"


def test_undeclared_8bit_utf8_header_is_recovered() -> None:
    raw = "From: Nyoman Sukadana <n@example.co.id>\nSubject: Tanya soal café\n\nx\n"
    assert parse(raw.encode()).subject == "Tanya soal café"


def test_mutated_fixtures_do_not_raise() -> None:
    rng = random.Random(20261130)
    sources = [load(p.name) for p in sorted(FIXTURES.glob("*.eml"))]
    for _ in range(300):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[pos] = rng.randrange(256)
            elif action == 1:
                del data[pos : pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = rng.choice([b"\n", b"--", b"=?", b"<", b";", b"\r\n\r\n"])
        m = parse(bytes(data))
        assert isinstance(m.text, str)


# --------------------------------------------------------------------------- latest_reply


def test_latest_reply_english_attribution_wrapped() -> None:
    text = (
        "Yes, Thursday works for me.\n\n"
        "On Mon, 30 Nov 2026 at 09:15, Layanan MPP Badung <layanan@mpp.example>\n"
        "wrote:\n\n"
        "> Could you come on Thursday?\n"
    )
    assert latest_reply(text) == "Yes, Thursday works for me."


def test_latest_reply_english_attribution_one_line_without_quote_marks() -> None:
    text = "ok thanks\r\n\r\nOn 30 Nov 2026, at 09:15, Budi <budi@x.id> wrote:\r\nold text\r\n"
    assert latest_reply(text) == "ok thanks"


def test_latest_reply_indonesian_attributions() -> None:
    wrapped = (
        "siap, sy dtg jam 9\n\n"
        "Pada tanggal Sen, 30 Nov 2026 pukul 09.15 Budi <\n"
        "budi@x.id> menulis:\n\n"
        "> Jadwal Anda Senin.\n"
    )
    assert latest_reply(wrapped) == "siap, sy dtg jam 9"
    short = "oke\n\nPada Sen, 30 Nov 2026 09.15, Budi Santoso <budi@x.id>\nmenulis:\n\nlama\n"
    assert latest_reply(short) == "oke"


def test_latest_reply_quote_lines() -> None:
    assert latest_reply("jawab di bawah\n> pertanyaan lama\n> lagi\n") == "jawab di bawah"


def test_latest_reply_outlook_blocks() -> None:
    rule = (
        "Baik, terima kasih.\n\n________________________________\n"
        "From: Layanan <layanan@mpp.example>\nSent: Monday\nTo: me\nSubject: x\n\nold\n"
    )
    assert latest_reply(rule) == "Baik, terima kasih."
    original = "Noted.\n\n-----Original Message-----\nFrom: Layanan\nSent: Monday\nold\n"
    assert latest_reply(original) == "Noted."
    pesan_asli = "Oke pak.\n\n-----Pesan Asli-----\nDari: Layanan\nold\n"
    assert latest_reply(pesan_asli) == "Oke pak."
    pesan_awal = "Sip.\n-----Pesan Awal-----\nold\n"
    assert latest_reply(pesan_awal) == "Sip."
    indonesian = (
        "Sudah saya kirim berkasnya.\n\n"
        "Dari: Layanan MPP Badung <layanan@mpp.example>\n"
        "Dikirim: Senin, 30 November 2026 09.15\n"
        "Kepada: Ayu <ayu@example.co.id>\n"
        "Subjek: Berkas\n\nold\n"
    )
    assert latest_reply(indonesian) == "Sudah saya kirim berkasnya."
    header_without_rule = "mohon info\nFrom: Layanan\nDate: Mon\nSubject: x\n\nold"
    assert latest_reply(header_without_rule) == "mohon info"


def test_latest_reply_from_line_alone_is_kept() -> None:
    text = "From: Denpasar\nmau tanya jam buka\nterima kasih"
    assert latest_reply(text) == text


def test_latest_reply_signatures() -> None:
    assert latest_reply("Halo\n\nSalam,\nWayan\n-- \nI Wayan\nDenpasar\n") == (
        "Halo\n\nSalam,\nWayan"
    )
    assert latest_reply("Halo\n--\nI Wayan\n") == "Halo"
    # A dash line that is not exactly the delimiter is the citizen's text.
    assert latest_reply("Nomor antrean -- berapa?\n---\nok") == "Nomor antrean -- berapa?\n---\nok"


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Android",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Yahoo Mail on Android",
        "Get Outlook for Android",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Dikirim dari iPhone saya",
        "Dikirim dari Yahoo Mail di Android",
        "Dapatkan Outlook untuk Android",
    ],
)
def test_latest_reply_mobile_footers(footer: str) -> None:
    assert latest_reply(f"tolong dibantu\n\n{footer}\n\n> lama\n") == "tolong dibantu"


def test_latest_reply_never_loses_the_words() -> None:
    assert latest_reply("> hanya kutipan\n> saja\n") == "> hanya kutipan\n> saja"
    assert latest_reply("Sent from my iPhone") == "Sent from my iPhone"
    assert latest_reply("  \n\n") == ""
    plain = "Kapan jam buka hari Sabtu?\nOn the weekend I work."
    assert latest_reply(plain) == plain


def test_latest_reply_drops_forward_marker_before_header() -> None:
    text = (
        "tolong dibaca\n\n---------- Forwarded message ---------\n"
        "From: Budi <budi@x.id>\nDate: Mon, 30 Nov 2026\nSubject: x\nTo: y\n\nisi\n"
    )
    assert latest_reply(text) == "tolong dibaca"


# --------------------------------------------------------------------------- html_to_text


def test_html_to_text_blocks_lists_and_entities() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h1>Judul</h1><p>Satu &amp; dua&nbsp;tiga</p><ul><li>a</li><li>b</li></ul>"
        "<div>baris<br>baru</div><table><tr><td>x</td><td>y</td></tr></table>"
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(html) == "Judul\n\nSatu & dua tiga\n\n- a\n- b\nbaris\nbaru\nx y"


def test_html_to_text_links() -> None:
    assert html_to_text('<a href="https://example.com/a">lihat</a>') == (
        "lihat (https://example.com/a)"
    )
    assert html_to_text('<a href="https://example.com/">https://example.com</a>') == (
        "https://example.com"
    )
    assert html_to_text('<a href="http://www.example.com">www.example.com</a>') == (
        "www.example.com"
    )
    assert html_to_text('<a href="mailto:a@example.com">tulis</a>') == "tulis"
    assert html_to_text('<a href="javascript:alert(1)">klik</a>') == "klik"


def test_html_to_text_drops_quotes() -> None:
    html = (
        "<div>baru</div><blockquote><div>lama<blockquote>lebih lama</blockquote></div>"
        "</blockquote><div>setelah</div>"
        '<div class="yahoo_quoted">yahoo lama</div>'
        '<div class="gmail_attr">On Mon wrote:</div>'
    )
    assert html_to_text(html) == "baru\nsetelah"
    assert html_to_text('<p>ok</p><div id="appendonsend"></div><hr><p>lama</p>') == "ok"
    kept = html_to_text("<div>baru</div><blockquote>lama</blockquote>", drop_quotes=False)
    assert kept == "baru\nlama"


def test_html_to_text_collapses_blank_lines_and_survives_broken_html() -> None:
    assert html_to_text("<p>a</p><p></p><p></p><br><br><br><br><p>b</p>") == "a\n\nb"
    assert html_to_text("<div><p>tidak <b>ditutup") == "tidak ditutup"
    assert html_to_text("</div></blockquote>teks<") == "teks<"
    assert html_to_text("") == ""


def test_reply_to_is_kept_only_when_it_names_someone_else() -> None:
    def mail(reply_to: str) -> bytes:
        return (
            "From: Formulir <noreply@forms.example.go.id>\r\n"
            f"Reply-To: {reply_to}\r\n"
            "To: layanan@mpp.example\r\nMessage-ID: <f1@forms.example.go.id>\r\n"
            "Subject: Formulir\r\n\r\nhalo\r\n"
        ).encode()

    own = "layanan@mpp.example"
    assert parse_mail(mail("Ni Luh <NiLuh@Example.co.id>"), own_address=own).reply_to == (
        "niluh@example.co.id"
    )
    assert parse_mail(mail("noreply@forms.example.go.id"), own_address=own).reply_to == ""
    assert parse_mail(mail("a@example.com, b@example.com"), own_address=own).reply_to == ""
    assert parse_mail(mail("layanan@mpp.example"), own_address=own).reply_to == ""
