"""NIKs and phone numbers: one detector, masked before anything is stored, a reporter's
NIK kept encrypted on the ticket, shown masked in the console and revealed (audited)
to supervisors only. Complaints go through the real app, on the web chat and by SMS."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from cryptography.fernet import Fernet, MultiFernet

from hub import pii
from hub.app import HUB, Hub, create_app
from hub.care.access import SYSTEM
from hub.care.service import TicketKind
from hub.config import Settings
from hub.logs import configure_logging
from hub.nlu.entities import EntityExtractor
from hub.security.vault import NikVault, SealedNikError
from hub.store import contacts
from hub.store.tables import audit_events, conversations, messages, outbox, ticket_events, tickets
from tests.chat_client import ChatClient
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.test_care_dialog import MONDAY, Chat, TwilioCitizen
from tests.test_console_auth import Console
from tests.test_twilio import settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

NIK = "5103011234560001"
PHONE = "081398765432"  # written in the complaint; not the sender's own number
PHONE_DIGITS = ("081398765432", "6281398765432", "81398765432")

# --- the detector ----------------------------------------------------------------------------

NIK_FORMS = [
    "5103011234560001",
    "5103 0112 3456 0001",
    "5103-0112-3456-0001",
    "5103.0112.3456.0001",
    "510301 123456 0001",
    "51.03.01.123456.0001",
]
PHONE_FORMS = [
    ("0812 3456 7890", "7890"),
    ("0812-3456-789", "6789"),
    ("081234567890", "7890"),
    ("0812.3456.7890", "7890"),
    ("+62 812 3456 7890", "7890"),
    ("+6281234567890", "7890"),
    ("6281234567890", "7890"),
    ("62 812-3456-7890", "7890"),
    ("(0361) 222333", "2333"),
]
NOT_PERSONAL = [
    "kode booking B-US8NEL",
    "kode B-7K2M9Q dan B-ABC234",
    "tiket CARE-20261130-0001",
    "tiket CARE-20261130-0001 dan CARE-20261201-0042",
    "tanggal 2026-12-03",
    "tanggal 03-12-2026 jam 10:30",
    "tanggal 08-12-2026 10.00",
    "dari 2026-12-03 2026-12-04",
    "buka 08.00-15.30 WITA",
    "antrian A-012, nomor 15",
    "biaya Rp 50.000",
    "biaya Rp 1.500.000 dan Rp 250.000",
    "tahun 2026, 3 jam",
    "17 digit 31710123456789012",
]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("written", NIK_FORMS)
def test_a_nik_written_any_way_is_found_and_masked(written: str) -> None:
    masked = pii.mask(f"NIK saya {written}, terima kasih")
    assert masked == "NIK saya 5103••••••••0001, terima kasih"
    assert pii.nik_values(f"nik {written}") == [NIK]


@pytest.mark.parametrize(("written", "last4"), PHONE_FORMS)
def test_a_phone_number_with_or_without_country_prefix_is_masked(written: str, last4: str) -> None:
    masked = pii.mask(f"hubungi {written} ya")
    assert masked == f"hubungi •••• {last4} ya"


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_codes_dates_times_queue_numbers_and_amounts_are_left_alone(text: str) -> None:
    assert pii.mask(text) == text
    assert not pii.has_personal_number(text)


def test_masking_is_idempotent_and_keeps_the_rest() -> None:
    text = f"NIK {NIK} hp 0812 3456 7890 tiket CARE-20261130-0001 Rp 50.000 pada 2026-12-03"
    once = pii.mask(text)
    assert once == (
        "NIK 5103••••••••0001 hp •••• 7890 tiket CARE-20261130-0001 Rp 50.000 pada 2026-12-03"
    )
    assert pii.mask(once) == once


def test_json_is_masked_at_any_depth_but_opaque_tokens_stay() -> None:
    token = Fernet(Fernet.generate_key()).encrypt(NIK.encode()).decode()
    value = {"a": [{"b": f"nik {NIK}"}], "msisdn": 6281234567890, "n": 3, "sealed": token}
    masked = pii.mask_json(value)
    assert masked == {
        "a": [{"b": "nik 5103••••••••0001"}],
        "msisdn": "•••• 7890",
        "n": 3,
        "sealed": token,
    }


def test_the_nlu_recognises_a_spaced_or_dashed_nik_as_sixteen_digits() -> None:
    extractor = EntityExtractor({"paspor": ["paspor"]}, warm_up=False)
    for written in ("5103 0112 3456 0001", "5103-0112-3456-0001"):
        found = [e for e in extractor.extract(f"nik saya {written}", date(2026, 12, 3))]
        assert [(e.type, e.value, e.text) for e in found] == [("nik", NIK, written)]


def test_the_vault_encrypts_decrypts_masks_and_rotates() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    vault = NikVault(MultiFernet([Fernet(old)]))
    token = vault.encrypt("5103 0112 3456 0001")
    assert NIK not in token and vault.decrypt(token) == NIK
    assert vault.mask(token) == "5103••••••••0001"
    rotated = NikVault(MultiFernet([Fernet(new), Fernet(old)]))  # the new key first
    assert rotated.decrypt(token) == NIK
    fresh = rotated.rotate(token)
    assert NikVault(MultiFernet([Fernet(new)])).decrypt(fresh) == NIK
    with pytest.raises(SealedNikError):
        NikVault(MultiFernet([Fernet(new)])).decrypt(token)
    with pytest.raises(ValueError):
        vault.encrypt("12345")


# --- through the real app ----------------------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log line the hub writes during the test (as configured in production)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


async def _everything_stored(hub: Hub) -> dict[str, list[str]]:
    """Each place a text may be kept, as JSON strings to search."""
    async with hub.db.engine.connect() as conn:

        async def dump(*columns: Any) -> list[str]:
            rows = await conn.execute(sa.select(*columns))
            return [json.dumps(list(row), default=str, ensure_ascii=False) for row in rows]

        return {
            "messages.text": await dump(messages.c.text),
            "messages.raw": await dump(messages.c.raw),
            "messages.entities": await dump(messages.c.entities, messages.c.processing_error),
            "outbox.payload": await dump(outbox.c.payload),
            "tickets": await dump(
                tickets.c.description,
                tickets.c.category,
                tickets.c.incident_when,
                tickets.c.incident_where,
                tickets.c.rating_comment,
            ),
            "ticket_events": await dump(ticket_events.c.note),
            "conversations.state": await dump(conversations.c.state, conversations.c.subject),
            "audit_events": await dump(audit_events.c.detail),
        }


def _assert_no_clear_nik_or_phone(where: str, text: str) -> None:
    digits = _digits(text)
    assert NIK not in digits, f"a NIK in clear in {where}: {text[:300]}"
    for phone in PHONE_DIGITS:
        assert phone not in digits, f"a phone number in clear in {where}: {text[:300]}"


async def _assert_nothing_clear(hub: Hub, logs: io.StringIO) -> None:
    for where, texts in (await _everything_stored(hub)).items():
        for text in texts:
            _assert_no_clear_nik_or_phone(where, text)
    _assert_no_clear_nik_or_phone("the logs", logs.getvalue())


async def _reporter_nik(hub: Hub) -> str | None:
    async with hub.db.engine.connect() as conn:
        return await conn.scalar(sa.select(tickets.c.reporter_nik))


STORY = (
    "mau komplain petugas loket paspor minta uang, NIK saya 5103 0112 3456 0001 hp 0813-9876-5432"
)


async def _to_summary(
    chat: Chat, reply: dict[str, Any], *, when: str = "-", privacy: str = "biasa"
) -> dict[str, Any]:
    """Answer the complaint's questions until the summary is read back; the summary."""
    answers = {
        "Dicatat. Ada lagi": "sudah",
        "Pengaduan ini tentang layanan apa?": "-",
        "Kapan dan di mana": when,
        "Ada foto atau dokumen": "lewati",
        "Bagaimana pengaduan ini ditangani?": privacy,
    }
    for _ in range(len(answers) + 1):
        answer = next((a for q, a in answers.items() if q in reply["text"]), None)
        if answer is None:
            break
        [reply] = await chat.say(answer)
    assert reply["text"].startswith("Mohon periksa pengaduan Anda"), reply["text"]
    return reply


async def test_a_web_chat_complaint_keeps_the_nik_only_encrypted_on_the_ticket(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    log_stream: io.StringIO,
) -> None:
    clock = Clock(MONDAY)
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat = Chat(await ChatClient.connect(client))
    [ask] = await chat.say(STORY)
    # Mid-flow, the dialog state holds the NIK only as ciphertext.
    async with hub.db.engine.connect() as conn:
        state = await conn.scalar(sa.select(conversations.c.state))
    assert NIK not in _digits(json.dumps(state))
    assert hub.vault.decrypt(state["care"]["reporter_nik"]) == NIK
    # Through the questions to the summary: it reads the NIK back masked.
    reply = await _to_summary(chat, ask, when="tadi pagi, telepon saya 0813 9876 5432")
    assert "5103••••••••0001" in reply["text"] and "•••• 5432" in reply["text"]
    _assert_no_clear_nik_or_phone("the summary", reply["text"])
    [filed] = await chat.say("ya")
    assert "Nomor tiket: CARE-" in filed["text"]
    # An officer's reply and a ticket note that repeat them are masked as well.
    [ticket] = await hub.care.search(SYSTEM)
    assert ticket.conversation_id is not None
    await hub.outbound.officer_reply(ticket.conversation_id, 1, f"NIK {NIK} hp {PHONE} dicek")
    [officer_reply] = await chat.chat.replies(1)
    assert officer_reply["text"] == "NIK 5103••••••••0001 hp •••• 5432 dicek"
    await hub.care.add_note(ticket.ticket_id, SYSTEM, f"ditelepon ke {PHONE}")
    await hub.inbound.idle()

    await _assert_nothing_clear(hub, log_stream)
    sealed = await _reporter_nik(hub)
    assert sealed is not None and NIK not in _digits(sealed)
    assert hub.vault.decrypt(sealed) == NIK


async def test_an_sms_complaint_is_masked_in_every_stored_copy(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
    log_stream: io.StringIO,
) -> None:
    clock = Clock(MONDAY)
    client = await aiohttp_client(create_app(settings_for(make_settings, twilio), clock=clock))
    hub = client.app[HUB]
    citizen = TwilioCitizen(client, twilio)
    await citizen.sms("mau komplain")
    await citizen.sms(
        "petugas loket paspor lama sekali. NIK 5103-0112-3456-0001, hp 0813 9876 5432"
    )
    [when] = await citizen.sms("sudah")  # "paspor" in the story named the service
    assert when.startswith("Kapan dan di mana")
    await citizen.sms("-")
    await citizen.sms("lewati")
    [summary] = await citizen.sms("1")
    assert "5103--------0001" in summary  # the bullets in GSM-7
    [filed] = await citizen.sms("1")
    assert "Tiket CARE-" in filed
    await hub.inbound.idle()

    await _assert_nothing_clear(hub, log_stream)
    sealed = await _reporter_nik(hub)
    assert sealed is not None and hub.vault.decrypt(sealed) == NIK


async def test_an_anonymous_complaint_keeps_no_nik(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=Clock(MONDAY)))
    hub = client.app[HUB]
    chat = Chat(await ChatClient.connect(client))
    [first] = await chat.say("mau komplain petugas loket paspor lama banget, NIK 5103011234560001")
    summary = await _to_summary(chat, first, privacy="anonim")
    assert "5103••••••••0001" in summary["text"]
    [filed] = await chat.say("ya")
    assert "Nomor tiket: CARE-" in filed["text"]
    assert await _reporter_nik(hub) is None


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


# --- the console -------------------------------------------------------------------------------


async def _console_with_ticket(
    aiohttp_client: AiohttpClient, settings: Settings, *, anonymous: bool = False
) -> tuple[Console, str]:
    clock = Clock(MONDAY)
    client = await aiohttp_client(create_app(settings, clock=clock))
    console = Console(client, client.app[HUB], clock)
    ticket = await console.hub.care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=await _contact(console.hub),
        channel="webchat",
        description="petugas minta uang",
        service_id="paspor",
        anonymous=anonymous,
        reporter_nik="5103 0112 3456 0001",
    )
    return console, ticket.ticket_id


async def _contact(hub: Hub) -> int:
    async with hub.db.begin() as conn:
        return await contacts.resolve_contact(hub.db, conn, "webchat", "visitor-1", "Budi")


async def _reveal(console: Console, ticket_id: str) -> tuple[int, str]:
    token = await console.csrf_token()
    response = await console.client.post(
        f"/console/tickets/{ticket_id}/nik", data={"csrf_token": token}, allow_redirects=False
    )
    return response.status, await response.text()


async def _audited(console: Console, action: str) -> list[Any]:
    async with console.hub.db.engine.connect() as conn:
        rows = await conn.execute(sa.select(audit_events).where(audit_events.c.action == action))
        return list(rows)


async def test_the_console_shows_the_nik_masked_and_reveals_it_to_a_supervisor_with_an_audit(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, ticket_id = await _console_with_ticket(aiohttp_client, make_settings())
    await console.add_officer("ketut", "supervisor")
    assert (await console.login("ketut"))[0] == 303
    page = await (await console.client.get(f"/console/tickets/{ticket_id}")).text()
    assert "5103••••••••0001" in page and NIK not in page
    assert 'id="reveal-nik"' in page

    status, revealed = await _reveal(console, ticket_id)
    assert status == 200
    assert f'<dd id="reporter-nik">{NIK}</dd>' in revealed
    [row] = await _audited(console, "ticket_nik_revealed")
    assert row.target_id == ticket_id and row.officer_id is not None
    # The next plain view is masked again.
    page = await (await console.client.get(f"/console/tickets/{ticket_id}")).text()
    assert NIK not in page


async def test_an_officer_sees_the_nik_masked_and_may_not_reveal_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, ticket_id = await _console_with_ticket(aiohttp_client, make_settings())
    await console.add_officer("wayan", "officer")
    assert (await console.login("wayan"))[0] == 303
    page = await (await console.client.get(f"/console/tickets/{ticket_id}")).text()
    assert "5103••••••••0001" in page and NIK not in page
    assert 'id="reveal-nik"' not in page

    status, body = await _reveal(console, ticket_id)
    assert status == 403 and NIK not in body
    assert await _audited(console, "ticket_nik_revealed") == []
    assert len(await _audited(console, "ticket_nik_revealed_refused")) == 1


async def test_an_anonymous_tickets_reporter_nik_is_neither_kept_nor_revealed(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, ticket_id = await _console_with_ticket(aiohttp_client, make_settings(), anonymous=True)
    assert await _reporter_nik(console.hub) is None
    await console.add_officer("ketut", "supervisor")
    assert (await console.login("ketut"))[0] == 303
    page = await (await console.client.get(f"/console/tickets/{ticket_id}")).text()
    assert "5103••••••••0001" not in page and 'id="reveal-nik"' not in page
    status, _body = await _reveal(console, ticket_id)
    assert status == 404
