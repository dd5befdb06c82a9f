"""Email end to end through the real app: citizens' mail into the hub's SMTP listener
(stdlib smtplib, as an MX would deliver), answers out through a real SMTP relay
(aiosmtpd in the test), read back as the citizen's provider would receive them.

The hub's clock stands on Monday 30 November 2026, 08:00 WITA (see
``tests.test_booking_dialog``), so "besok" is a working day.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import re
import smtplib
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
import zxingcpp
from aiohttp.test_utils import TestClient
from PIL import Image

from hub.app import HUB, Hub, create_app
from hub.channels.email import EmailChannel, SenderRate
from hub.config import Settings
from hub.model import DeliveryStatus
from hub.store.tables import conversations, messages
from tests.fakes.smtp_relay import Received, SmtpRelay
from tests.services import bound_socket
from tests.test_booking_dialog import TUE, fixed_clock
from tests.test_console_inbox import Desk, add_officer

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]

HUB_ADDRESS = "layanan@mpp.example"
CITIZEN = "budi.santoso@example.co.id"
FIXTURES = Path(__file__).parent / "fixtures" / "email"
AUTHSERV_ID = "mx.mpp.example"
"""The MTA in front of the hub, as ``channels.email.authserv_ids`` names it."""


def vouch_for(raw: bytes, result: str = "dmarc=pass (p=none dis=none)") -> bytes:
    """A mail as the trusted MTA hands it on: its Authentication-Results on top,
    vouching (by default) for the From domain."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    domain = parsed["From"].addresses[0].domain.lower()
    header = f"Authentication-Results: {AUTHSERV_ID}; {result} header.from={domain}\r\n"
    return header.encode() + raw


def email_settings(
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    port: int,
    tmp_path: Path,
    storage_url: str | None = None,
    **email_keys: Any,
) -> Settings:
    return make_settings(
        storage_url,
        server={"public_url": f"http://127.0.0.1:{port}"},
        channels={
            "email": {
                "enabled": True,
                "address": HUB_ADDRESS,
                "smtp": {"host": "127.0.0.1", "port": relay.port, "starttls": False},
                "listen": {"enabled": True, "port": 0},
                "attachments_dir": str(tmp_path / "mail-files"),
                "authserv_ids": [AUTHSERV_ID],
                **email_keys,
            }
        },
        outbox={"backoff_base_seconds": 0.1, "backoff_max_seconds": 0.5},
    )


class MailHub:
    """The hub app on a known port (its public URL serves the QR images the mails attach)."""

    def __init__(self, client: TestClient[Any, Any], relay: SmtpRelay) -> None:
        self.client = client
        self.relay = relay

    @property
    def hub(self) -> Hub:
        return cast(Hub, self.client.app[HUB])

    @property
    def channel(self) -> EmailChannel:
        return cast(EmailChannel, self.hub.channels["email"])

    async def deliver(self, raw: bytes, mail_from: str = CITIZEN, to: str = HUB_ADDRESS) -> None:
        """As an MX delivers: SMTP to the hub's listener, from another thread, with the
        CRLF line ends SMTP requires (smtplib sends bytes as they are)."""
        port = self.channel.listen_port
        assert port is not None
        raw = re.sub(rb"\r?\n", b"\r\n", raw)

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                smtp.sendmail(mail_from, [to], raw)

        await asyncio.to_thread(send)

    async def settle(self) -> None:
        """Every accepted mail processed and every answer handed to the relay."""
        await self.hub.inbound.idle()
        await self.hub.dispatcher.drain()

    async def answers(self, count: int) -> list[Received]:
        return await self.relay.wait_for(count)


async def start_hub(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
    storage_url: str | None = None,
    **email_keys: Any,
) -> MailHub:
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    settings = email_settings(make_settings, relay, port, tmp_path, storage_url, **email_keys)
    client = await aiohttp_client(
        create_app(settings, clock=fixed_clock),
        server_kwargs={"port": port, "socket_factory": lambda *_: sock},
    )
    return MailHub(client, relay)


@pytest.fixture
async def mailhub(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> MailHub:
    return await start_hub(aiohttp_client, make_settings, relay, tmp_path)


def citizen_mail(
    text: str,
    *,
    subject: str = "Tanya layanan",
    answering: EmailMessage | None = None,
    sender: str = CITIZEN,
    name: str = "Budi Santoso",
    vouched: bool = True,
) -> EmailMessage:
    """A mail as a citizen's client writes it; ``answering`` a hub mail quotes it,
    Gmail style, and carries its thread headers. ``vouched``: as the trusted MTA hands
    it on, with DMARC passed for the sender's domain."""
    mail = EmailMessage()
    if vouched:
        domain = sender.rpartition("@")[2]
        mail["Authentication-Results"] = (
            f"{AUTHSERV_ID}; dkim=pass header.d={domain} header.s=s1;"
            f" dmarc=pass (p=none dis=none) header.from={domain}"
        )
    mail["From"] = formataddr((name, sender))
    mail["To"] = HUB_ADDRESS
    mail["Message-ID"] = make_msgid(domain="mail.example.co.id")
    mail["Date"] = "Mon, 30 Nov 2026 08:01:00 +0800"
    body = text
    if answering is not None:
        mail["Subject"] = str(answering["Subject"])
        earlier = str(answering.get("References", "")).split()
        mail["In-Reply-To"] = str(answering["Message-ID"])
        mail["References"] = " ".join([*earlier, str(answering["Message-ID"])])
        quoted = "\n".join("> " + line for line in plain(answering).splitlines())
        attribution = (
            f"Pada tanggal Sen, 30 Nov 2026 pukul 08.00 MPP Badung <{HUB_ADDRESS}> menulis:"
        )
        body = f"{text}\n\n{attribution}\n{quoted}\n"
    else:
        mail["Subject"] = subject
    mail.set_content(body)
    return mail


def plain(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(cast(EmailMessage, part).get_content())


def html(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(cast(EmailMessage, part).get_content())


async def conversation_ids(hub: Hub) -> list[int]:
    async with hub.db.begin() as conn:
        rows = await conn.execute(sa.select(conversations.c.id).order_by(conversations.c.id))
        return [int(r.id) for r in rows]


# --- one mail, one threaded answer ------------------------------------------------------


async def test_a_mail_gets_one_answer_in_the_same_thread(mailhub: MailHub) -> None:
    question = citizen_mail(
        "Selamat pagi, jam buka MPP hari ini jam berapa ya?", subject="Jam buka"
    )
    await mailhub.deliver(question.as_bytes())
    [answer] = await mailhub.answers(1)
    mail = answer.mail
    assert answer.rcpt_tos == [CITIZEN]
    assert mail["From"].addresses[0].addr_spec == HUB_ADDRESS
    assert mail["From"].addresses[0].display_name == "MPP Badung"
    assert mail["To"] == CITIZEN
    assert mail["Subject"] == "Re: Jam buka"
    assert mail["In-Reply-To"] == question["Message-ID"]
    assert mail["References"] == question["Message-ID"]
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Message-ID"].endswith("@mpp.example>")
    assert mail["Content-Language"] == "id"
    assert mail.get_content_type() == "multipart/alternative"
    text, page = plain(mail), html(mail)
    assert "08.00" in text, "the mall's hours"
    assert "Balas email ini untuk melanjutkan" in text
    assert "<p>" in page and "Balas email ini untuk melanjutkan" in page
    await mailhub.settle()
    assert len(mailhub.relay.received) == 1, "all of a turn's replies go in one mail"


async def test_html_is_escaped_and_english_gets_english(mailhub: MailHub) -> None:
    question = citizen_mail(
        "Hello, what are the opening hours? <script>alert(1)</script>",
        subject="Opening hours <b>",
        name="Jane <Doe>",
        sender="jane@example.com",
    )
    await mailhub.deliver(question.as_bytes(), mail_from="jane@example.com")
    [answer] = await mailhub.answers(1)
    mail = answer.mail
    assert mail["Subject"] == "Re: Opening hours <b>"
    assert mail["Content-Language"] == "en"
    assert "Reply to this email to continue" in plain(mail)
    assert "<script>" not in html(mail)


async def test_a_thread_of_three_mails_stays_one_conversation(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
    db_url: str,
) -> None:
    mailhub = await start_hub(aiohttp_client, make_settings, relay, tmp_path, db_url)
    first = citizen_mail("Halo, mau tanya syarat KTP-el baru apa saja?", subject="Syarat KTP")
    await mailhub.deliver(first.as_bytes())
    [one] = await mailhub.answers(1)
    second = citizen_mail("kalau biaya bikin ktp brp?", answering=one.mail)
    await mailhub.deliver(second.as_bytes())
    [_, two] = await mailhub.answers(2)
    third = citizen_mail("oke makasih ya", answering=two.mail)
    await mailhub.deliver(third.as_bytes())
    [_, _, three] = await mailhub.answers(3)

    assert await conversation_ids(mailhub.hub) == [await only_conversation(mailhub.hub)]
    for answer in (one, two, three):
        assert answer.mail["Subject"] == "Re: Syarat KTP"
    chain = [
        first["Message-ID"],
        one.mail["Message-ID"],
        second["Message-ID"],
        two.mail["Message-ID"],
        third["Message-ID"],
    ]
    assert two.mail["In-Reply-To"] == second["Message-ID"]
    assert two.mail["References"].split() == chain[:3]
    assert three.mail["References"].split() == chain
    assert "Rp" in plain(two.mail) or "gratis" in plain(two.mail).lower(), "the fee question"
    async with mailhub.hub.db.begin() as conn:
        texts = [
            r.text
            for r in await conn.execute(
                sa.select(messages.c.text)
                .where(messages.c.direction == "inbound")
                .order_by(messages.c.id)
            )
        ]
    assert texts[1] == "kalau biaya bikin ktp brp?", "the quoted mail is not what the citizen said"


async def not_answered(mailhub: MailHub) -> dict[str, float]:
    """The hub's /metrics count of mail taken without an answer, per reason."""
    text = await (await mailhub.client.get("/metrics")).text()
    found = re.findall(
        r'^omnihub_inbound_not_answered_total\{channel="email",reason="([^"]+)"\} (\S+)$',
        text,
        re.M,
    )
    return {reason: float(value) for reason, value in found}


async def only_conversation(hub: Hub) -> int:
    [conversation_id] = await conversation_ids(hub)
    return conversation_id


async def test_a_new_mail_continues_a_recent_conversation_and_a_stale_one_starts_anew(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    mailhub = await start_hub(
        aiohttp_client, make_settings, relay, tmp_path, thread_idle_hours=1 / 3600
    )
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    await mailhub.answers(1)
    [first] = await conversation_ids(mailhub.hub)
    await asyncio.sleep(1.2)  # longer than the idle hour of this hub (one second)
    await mailhub.deliver(citizen_mail("syarat paspor apa saja?", subject="Paspor").as_bytes())
    [_, later] = await mailhub.answers(2)
    assert await conversation_ids(mailhub.hub) == [first, first + 1]
    assert later.mail["Subject"] == "Re: Paspor"
    async with mailhub.hub.db.begin() as conn:
        status = await conn.scalar(
            sa.select(conversations.c.status).where(conversations.c.id == first)
        )
    assert status == "closed"
    # Answering an old mail keeps its thread even after the idle time.
    await asyncio.sleep(1.2)
    await mailhub.deliver(citizen_mail("lalu biayanya?", answering=later.mail).as_bytes())
    await mailhub.answers(3)
    assert await conversation_ids(mailhub.hub) == [first, first + 1]


async def test_recent_mail_without_thread_headers_continues(mailhub: MailHub) -> None:
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    await mailhub.answers(1)
    await mailhub.deliver(citizen_mail("syarat paspor?", subject="Paspor").as_bytes())
    [_, second] = await mailhub.answers(2)
    assert len(await conversation_ids(mailhub.hub)) == 1
    assert second.mail["Subject"] == "Re: Paspor", "answers follow the mail they answer"


async def test_a_mail_delivered_twice_is_answered_once(mailhub: MailHub) -> None:
    question = citizen_mail("jam buka mpp?", subject="Jam")
    await mailhub.deliver(question.as_bytes())
    await mailhub.deliver(question.as_bytes())  # the MX retried after a lost 250
    await mailhub.answers(1)
    await mailhub.settle()
    assert len(mailhub.relay.received) == 1
    async with mailhub.hub.db.begin() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(messages)
            .where(messages.c.direction == "inbound")
        )
    assert count == 1


# --- no mail loops ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "mail_from", "reason"),
    [
        ("out_of_office.eml", CITIZEN, "auto-submitted"),
        ("list_mail.eml", "news@example.com", "precedence"),
        ("plain_new_id.eml", "", "null-sender"),  # the null sender <>: only daemons use it
    ],
)
async def test_mail_no_person_wrote_gets_no_answer(
    mailhub: MailHub, fixture: str, mail_from: str, reason: str
) -> None:
    await mailhub.deliver((FIXTURES / fixture).read_bytes(), mail_from=mail_from)
    await mailhub.settle()
    assert mailhub.relay.received == []
    async with mailhub.hub.db.begin() as conn:
        stored = await conn.scalar(sa.select(sa.func.count()).select_from(messages))
    assert stored == 0
    assert await not_answered(mailhub) == {reason: 1.0}


async def test_our_own_mail_coming_back_gets_no_answer(mailhub: MailHub) -> None:
    echo = citizen_mail("jam buka?", sender=HUB_ADDRESS, name="MPP Badung")
    await mailhub.deliver(echo.as_bytes(), mail_from=HUB_ADDRESS)
    await mailhub.settle()
    assert mailhub.relay.received == []


async def test_a_bounce_marks_the_answer_failed(mailhub: MailHub) -> None:
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    [answer] = await mailhub.answers(1)
    await mailhub.settle()
    sent_id = str(answer.mail["Message-ID"])
    bounce = (FIXTURES / "bounce.eml").read_bytes()
    bounce = bounce.replace(b"<omnihub.msg-12.a1b2c3d4e5f6@mpp.example>", sent_id.encode())
    await mailhub.deliver(bounce, mail_from="")
    await mailhub.settle()
    async with mailhub.hub.db.begin() as conn:
        row = (
            await conn.execute(sa.select(messages).where(messages.c.direction == "outbound"))
        ).one()
    assert row.delivery_status == DeliveryStatus.FAILED.value
    assert "5.1.1" in (row.delivery_error or "")
    assert await not_answered(mailhub) == {"bounce": 1.0}
    assert len(mailhub.relay.received) == 1, "a bounce is never answered"


async def test_the_listener_refuses_other_recipients(mailhub: MailHub) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await mailhub.deliver(citizen_mail("halo").as_bytes(), to="someone@elsewhere.example")
    await mailhub.settle()
    assert mailhub.relay.received == []


# --- booking and complaints by mail -------------------------------------------------------


async def test_booking_by_mail_sends_the_qr_code_as_an_attachment(mailhub: MailHub) -> None:
    await mailhub.deliver(
        citizen_mail(
            "mau antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001",
            subject="Antrian",
        ).as_bytes()
    )
    [confirm] = await mailhub.answers(1)
    assert "1. Ya" in plain(confirm.mail), "no buttons in mail: a numbered menu"
    await mailhub.deliver(citizen_mail("1", answering=confirm.mail).as_bytes())
    [_, done] = await mailhub.answers(2)
    [booking] = await mailhub.hub.bookings.list(TUE)
    assert f"Kode booking: {booking.code}" in plain(done.mail)
    assert done.mail.get_content_type() == "multipart/mixed"
    [image] = list(done.mail.iter_attachments())
    assert image.get_content_type() == "image/png"
    png = cast(bytes, image.get_content())
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == [booking.code]
    assert done.mail["In-Reply-To"] == done.mail["References"].split()[-1]


async def test_a_complaint_with_a_photo_by_mail(mailhub: MailHub) -> None:
    photo = (FIXTURES / "photo.eml").read_bytes()
    parsed = email.message_from_bytes(photo, policy=email.policy.default)
    sender = parsed["From"].addresses[0].addr_spec
    first = citizen_mail("mau komplain petugas loket paspor lama banget", sender=sender)
    first.add_attachment(
        next(p.get_content() for p in parsed.iter_attachments()),
        maintype="image",
        subtype="jpeg",
        filename="loket.jpg",
    )
    await mailhub.deliver(first.as_bytes(), mail_from=sender)
    answers = [first]
    for count, reply in enumerate(["-", "lanjut", "biasa", "ya"], start=1):
        [*_, last] = await mailhub.answers(count)
        mail = citizen_mail(reply, answering=last.mail, sender=sender)
        await mailhub.deliver(mail.as_bytes(), mail_from=sender)
        answers.append(last.mail)
    [*_, filed] = await mailhub.answers(5)
    assert "CARE-20261130-0001" in plain(filed.mail)
    detail = await mailhub.hub.care.get("CARE-20261130-0001")
    assert detail is not None and detail.ticket.channel == "email"
    [kept] = detail.attachments
    assert kept.content_type == "image/jpeg"
    # The photo is served to the console by its unguessable URL.
    path = kept.url.split("127.0.0.1", 1)[1].partition("/")[2]
    response = await mailhub.client.get("/" + path)
    assert response.status == 200
    assert (await response.read()).startswith(b"\xff\xd8\xff")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- officers ------------------------------------------------------------------------------


async def test_an_officers_console_reply_goes_out_in_the_same_thread(mailhub: MailHub) -> None:
    question = citizen_mail("mau bicara dengan petugas", subject="Mohon bantuan")
    await mailhub.deliver(question.as_bytes())
    [handoff] = await mailhub.answers(1)
    assert handoff.mail["Auto-Submitted"] == "auto-replied"
    conversation_id = await only_conversation(mailhub.hub)

    await add_officer(mailhub.client.app, "made", name="Made")
    desk = Desk.on(mailhub.client)
    try:
        await desk.login("made")
        [row] = await desk.inbox()
        assert row["id"] == conversation_id
        assert (row["channel_label"], row["address"]) == ("Email", "bu••••@example.co.id")
        assert (await desk.act(conversation_id, "claim")).status == 303
        text = "Selamat pagi Pak Budi, <ya> bisa kami bantu."
        assert (await desk.act(conversation_id, "reply", text=text)).status == 303
    finally:
        await desk.close()
    [_, reply] = await mailhub.answers(2)
    mail = reply.mail
    assert "Auto-Submitted" not in mail, "a person wrote it"
    assert mail["Subject"] == "Re: Mohon bantuan"
    assert mail["In-Reply-To"] == question["Message-ID"]
    assert mail["References"] == question["Message-ID"]
    assert text in plain(mail)
    assert "&lt;ya&gt;" in html(mail) and "<ya>" not in html(mail)
    assert "Balas email ini untuk melanjutkan percakapan." in plain(mail)


# --- a relay in trouble ------------------------------------------------------------------------


async def test_a_relay_outage_delays_the_answer_but_never_drops_it(mailhub: MailHub) -> None:
    mailhub.relay.fail_next = 2
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    [answer] = await mailhub.answers(1)
    assert answer.mail["Subject"] == "Re: Jam"
    assert mailhub.relay.fail_next == 0


async def test_a_refused_recipient_fails_the_message_without_retrying(mailhub: MailHub) -> None:
    mailhub.relay.refuse.add(CITIZEN)
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    for _ in range(50):
        await mailhub.settle()
        async with mailhub.hub.db.begin() as conn:
            status = await conn.scalar(
                sa.select(messages.c.delivery_status).where(messages.c.direction == "outbound")
            )
        if status == "failed":
            break
        await asyncio.sleep(0.1)
    assert status == "failed"
    assert mailhub.relay.received == []


# --- bad input and attachments -------------------------------------------------------------


async def test_garbage_is_taken_without_an_answer_or_a_crash(mailhub: MailHub) -> None:
    await mailhub.deliver(b"\x00\xff\xfe not a mail at all\r\n\r\n--\r\n")
    await mailhub.deliver(b"From: <<<>>>\r\nSubject: =?bogus?Q?x?=\r\n\r\nhalo\r\n")
    await mailhub.settle()
    assert mailhub.relay.received == []
    # The hub still answers the next citizen.
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    await mailhub.answers(1)


async def test_attachment_urls_serve_only_their_file_and_never_run_html(
    mailhub: MailHub, tmp_path: Path
) -> None:
    files = mailhub.channel.files
    page = files.save("<m1@example.co.id>", 0, "surat.html", "text/html", b"<script>x</script>")
    photo = files.save(
        "<m1@example.co.id>", 1, "../../foto jalan.jpg", "image/jpeg", b"\xff\xd8\xff"
    )
    assert photo.endswith("/foto%20jalan.jpg"), "the name is one path segment"
    assert (
        files.save("<m1@example.co.id>", 1, "../../foto jalan.jpg", "image/jpeg", b"\xff\xd8\xff")
        == photo
    )

    def path_of(url: str) -> str:
        return "/" + url.split("//", 1)[1].partition("/")[2]

    html_file = await mailhub.client.get(path_of(page))
    assert html_file.status == 200
    assert html_file.headers["Content-Type"] == "application/octet-stream"
    assert html_file.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in html_file.headers["Content-Security-Policy"]
    image = await mailhub.client.get(path_of(photo))
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Content-Disposition"].startswith("inline;")
    token = path_of(photo).split("/")[3]
    for wrong in (
        f"/media/mail/{token}/surat.html",  # another mail's file under this token
        f"/media/mail/{'0' * 32}/foto%20jalan.jpg",
        f"/media/mail/{token}/..%2F..%2Fomnihub.db",
        f"/media/mail/{token[:-1]}/foto%20jalan.jpg",
    ):
        assert (await mailhub.client.get(wrong)).status == 404, wrong


async def test_a_web_forms_mail_is_answered_to_its_reply_to(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    """Only for the operator's own form (``form_senders``), vouched for by its domain."""
    mailhub = await start_hub(
        aiohttp_client, make_settings, relay, tmp_path, form_senders=["forms.example.go.id"]
    )
    form = citizen_mail(
        "Nama: Ni Luh Putu\nPesan: jam buka mpp hari sabtu?",
        subject="Formulir kontak",
        sender="noreply@forms.example.go.id",
        name="Formulir Website",
    )
    form["Reply-To"] = "Ni Luh Putu <niluh@example.co.id>"
    await mailhub.deliver(form.as_bytes(), mail_from="noreply@forms.example.go.id")
    [answer] = await mailhub.answers(1)
    assert answer.rcpt_tos == ["niluh@example.co.id"]
    assert answer.mail["To"] == "niluh@example.co.id"
    assert answer.mail["In-Reply-To"] == form["Message-ID"]


async def test_a_sender_writing_like_a_robot_goes_to_officers_unanswered(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    """A robot that answers without Auto-Submitted would loop with ours: past the hourly
    limit its mail is kept for officers and the bot stays silent."""
    mailhub = await start_hub(
        aiohttp_client, make_settings, relay, tmp_path, max_answered_per_hour=2
    )
    last = None
    for n in range(2):
        mail = (
            citizen_mail(f"Terima kasih, tiket {n} diterima.", answering=last)
            if last
            else citizen_mail("Tiket 0 diterima.", subject="Auto ack")
        )
        await mailhub.deliver(mail.as_bytes())
        last = (await mailhub.answers(n + 1))[-1].mail
    assert last is not None
    third = citizen_mail("Terima kasih, tiket 2 diterima.", answering=last)
    await mailhub.deliver(third.as_bytes())
    await mailhub.deliver(citizen_mail("jam buka?", sender="jane@example.com").as_bytes())
    await mailhub.answers(3)  # the other sender is answered
    await mailhub.settle()
    assert [r.rcpt_tos for r in mailhub.relay.received] == [
        [CITIZEN],
        [CITIZEN],
        ["jane@example.com"],
    ]
    conversation_id = await only_conversation_of(mailhub.hub, CITIZEN)
    async with mailhub.hub.db.begin() as conn:
        row = (
            await conn.execute(
                sa.select(conversations).where(conversations.c.id == conversation_id)
            )
        ).one()
        texts = [
            r.text
            for r in await conn.execute(
                sa.select(messages.c.text).where(
                    messages.c.conversation_id == conversation_id,
                    messages.c.direction == "inbound",
                )
            )
        ]
    assert (row.status, row.handoff_reason) == ("handoff", "flood")
    assert await not_answered(mailhub) == {"flood": 1.0}
    assert texts[-1] == "Terima kasih, tiket 2 diterima.", "kept for the officers"


async def only_conversation_of(hub: Hub, address: str) -> int:
    async with hub.db.begin() as conn:
        [conversation_id] = [
            int(r.id)
            for r in await conn.execute(
                sa.select(conversations.c.id).where(conversations.c.address == address)
            )
        ]
    return conversation_id


def test_the_sender_rate_forgets_after_an_hour() -> None:
    now = [0.0]
    rate = SenderRate(clock=lambda: now[0])
    assert [rate.count("a@example.com") for _ in range(3)] == [1, 2, 3]
    assert rate.count("b@example.com") == 1
    now[0] = 3599.0
    assert rate.count("a@example.com") == 4
    now[0] = 3600.5  # the first three are older than an hour now
    assert rate.count("a@example.com") == 2
    now[0] = 9000.0
    assert rate.count("a@example.com") == 1
    assert "b@example.com" not in rate._seen, "quiet senders are forgotten"
