"""CARE in the conversation: complaints, appreciations, status, ratings and handoff.

Whole conversations through the real app. The hub's clock stands on Monday
30 November 2026, 10:00 WITA (officers at work) unless a test moves it, so the
first ticket of the day is CARE-20261130-0001 and its verification is due by the
end of Thursday 3 December (3 working days).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.care.access import SYSTEM, Actor, ActorRole
from hub.care.service import Change, TicketKind
from hub.catalogue import load_catalogue
from hub.channels.base import Capabilities
from hub.channels.sms_text import is_gsm7, segments, to_gsm7
from hub.config import Settings
from hub.dialogs.anger import is_angry
from hub.dialogs.care import RATING_STATE, STATE, notice_state, ticket_notice
from hub.dialogs.context import DialogContext
from hub.dialogs.engine import Turn
from hub.model import AddressKind, Reply
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from hub.store.tables import conversations, tickets
from tests.chat_client import ChatClient, Citizen, unread
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.test_twilio import WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=WITA)
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=WITA)
FIRST = "CARE-20261130-0001"
SUPERVISOR = Actor("Bu Sari", ActorRole.SUPERVISOR)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_settings(), clock=clock))


class Chat(Citizen):
    """A citizen on the web chat who can file a complaint the quick way."""

    async def file(self, story: str = "mau komplain petugas loket paspor lama banget") -> str:
        """A complaint filed the quick way: the story first, then every question skipped."""
        answers = {
            "Pengaduan ini tentang layanan apa?": "-",
            "Kapan dan di mana": "-",
            "Kapan kejadiannya?": "-",
            "Di mana kejadiannya?": "-",
            "Ada foto atau dokumen": "lewati",
            "Bagaimana pengaduan ini ditangani?": "biasa",
            "Mohon periksa pengaduan Anda": "ya",
        }
        [reply] = await self.say(story)
        for _ in answers:
            # A question may follow what the message filled unasked ("Dicatat: ...").
            answer = next((a for q, a in answers.items() if q in reply["text"]), None)
            if answer is None:
                break
            [reply] = await self.say(answer)
        assert "Nomor tiket: CARE-" in reply["text"], reply
        return str(reply["text"].split("Nomor tiket: ")[1].split()[0])


async def chat_on(client: TestClient[Any, Any]) -> Chat:
    return Chat(await ChatClient.connect(client))


def titles(reply: dict[str, Any]) -> list[str]:
    return [c["title"] for c in reply["choices"]]


def offered(reply: dict[str, Any]) -> dict[str, str]:
    return {c["title"]: c["payload"] for c in reply["choices"]}


async def conversation_of(hub: Hub, address: str) -> Any:
    async with hub.db.engine.connect() as conn:
        return (
            await conn.execute(sa.select(conversations).where(conversations.c.address == address))
        ).one()


async def ticket_count(hub: Hub) -> int:
    async with hub.db.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(tickets)) or 0)


# --- a complaint on the web chat --------------------------------------------------------------


async def test_a_whole_complaint_step_by_step(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [ask] = await chat.say("mau komplain")
    assert ask["text"].startswith("Silakan ceritakan apa yang terjadi")
    assert titles(ask) == ["Batal"]

    [more] = await chat.say("petugas di loket tidak ada selama 1 jam")
    assert more["text"].startswith("Dicatat. Ada lagi yang ingin diceritakan?")
    assert titles(more) == ["Lanjut", "Batal"]
    await chat.say("padahal antrean sudah panjang")

    [service] = await chat.choose("/affirm")
    assert service["text"].startswith("Pengaduan ini tentang layanan apa?")
    assert offered(service)["Paspor"] == '/inform{"service": "paspor"}'
    assert titles(service)[-1] == "Lainnya" and len(service["choices"]) == 8

    [when] = await chat.choose('/inform{"service": "paspor"}')
    assert when["text"].startswith("Kapan dan di mana kejadiannya?")
    assert offered(when) == {"Lewati": '/inform{"option": "skip"}'}

    [files] = await chat.say("kemarin jam 10 di loket 3")
    assert files["text"] == "Ada foto atau dokumen pendukung? Kirim sekarang, atau pilih Lewati."

    [privacy] = await chat.choose('/inform{"option": "skip"}')
    assert privacy["text"].startswith("Bagaimana pengaduan ini ditangani?")
    assert (
        "- Anonim: petugas tidak melihat siapa Anda; Anda tetap mendapat kabar."
        in (privacy["text"])
    )
    assert titles(privacy) == ["Biasa", "Anonim", "Rahasia"]

    [summary] = await chat.choose('/inform{"option": "anonymous"}')
    text = summary["text"]
    assert text.startswith("Mohon periksa pengaduan Anda:")
    assert "Kejadian: petugas di loket tidak ada selama 1 jam\npadahal antrean sudah panjang" in (
        text
    )
    assert "Layanan/instansi: Paspor" in text
    assert "Waktu & tempat: kemarin jam 10 di loket 3" in text
    assert "Lampiran: tidak ada" in text
    assert "Privasi: anonim (petugas tidak melihat identitas Anda)" in text
    assert titles(summary) == ["Ya", "Ubah", "Batal"]

    [filed] = await chat.choose("/affirm")
    assert "Nomor tiket: " + FIRST in filed["text"]
    assert "Identitas Anda tidak ditampilkan kepada petugas" in filed["text"]
    assert "dalam 3 hari kerja (paling lambat Kamis, 3 Desember 2026)" in filed["text"]
    assert titles(filed) == ["Cek status pengaduan"]

    hub = client.app[HUB]
    detail = await hub.care.get(FIRST)
    assert detail is not None
    ticket = detail.ticket
    assert (ticket.kind, ticket.status, ticket.channel) == ("complaint", "received", "webchat")
    assert (ticket.service_id, ticket.agency) == ("paspor", "imigrasi")
    assert ticket.description == (
        "petugas di loket tidak ada selama 1 jam\npadahal antrean sudah panjang"
    )
    assert ticket.incident_when == "kemarin jam 10 (2026-11-29)"
    assert ticket.incident_where == "loket 3"
    assert ticket.anonymous and not ticket.confidential
    assert ticket.sla_due_at == datetime(2026, 12, 4, 0, 0, tzinfo=WITA)  # end of Thursday
    row = await conversation_of(hub, chat.chat.session)
    assert ticket.conversation_id == row.id and ticket.contact_id == row.contact_id
    assert row.status == "bot" and STATE not in row.state
    await chat.chat.close()


async def test_a_first_message_with_the_story_and_service_skips_those_questions(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    [when] = await chat.say("mau komplain petugas loket paspor lama banget")
    assert when["text"].startswith("Kapan dan di mana kejadiannya?")
    await chat.say("-")
    [privacy] = await chat.say("tidak ada")
    assert privacy["text"].startswith("Bagaimana pengaduan ini ditangani?")
    [summary] = await chat.say("rahasia saja")
    assert "Kejadian: mau komplain petugas loket paspor lama banget" in summary["text"]
    assert "Layanan/instansi: Paspor\nWaktu & tempat: -" in summary["text"]
    assert "Privasi: rahasia (hanya dibaca pimpinan)" in summary["text"]
    [filed] = await chat.say("ya")
    assert "Isi pengaduan hanya dibaca pimpinan." in filed["text"]
    detail = await client.app[HUB].care.get(FIRST)
    assert detail is not None
    ticket = detail.ticket
    assert ticket.service_id == "paspor" and ticket.confidential and not ticket.anonymous
    assert (ticket.incident_when, ticket.incident_where) == ("", "")
    await chat.chat.close()


async def test_free_text_names_an_agency_or_stays_the_category_and_ubah_changes_a_part(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    await chat.say("mau lapor")
    await chat.say("pegawainya ngobrol terus, saya dicuekin")
    [service] = await chat.say("sudah")
    [typing] = await chat.choose('/inform{"option": "other"}')
    assert typing["text"].startswith("Ketik nama layanan atau instansinya")
    assert titles(typing) == ["Lewati"]
    [when] = await chat.say("samsat")
    assert when["text"].startswith("Kapan dan di mana")
    await chat.say("tadi pagi")
    await chat.say("lewati")
    [summary] = await chat.say("biasa")
    assert "Layanan/instansi: Samsat" in summary["text"]

    [which] = await chat.say("ubah")
    assert which["text"] == "Bagian mana yang ingin diubah?"
    assert titles(which) == ["Cerita", "Layanan", "Waktu & tempat", "Privasi"]
    [service] = await chat.choose('/inform{"option": "edit_service"}')
    assert service["text"].startswith("Pengaduan ini tentang layanan apa?")
    [summary] = await chat.say("parkiran motor")
    assert "Layanan/instansi: parkiran motor" in summary["text"], "kept as the category"
    await chat.say("ya")

    detail = await client.app[HUB].care.get(FIRST)
    assert detail is not None
    ticket = detail.ticket
    assert (ticket.service_id, ticket.agency, ticket.category) == (None, None, "parkiran motor")
    assert ticket.description == "pegawainya ngobrol terus, saya dicuekin"
    await chat.chat.close()


async def test_batal_leaves_at_any_step_and_files_nothing(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    await chat.say("mau komplain")
    await chat.say("antreannya kacau")
    left, menu = await chat.say("batal", count=2)
    assert left["text"] == "Baik, pengaduan tidak jadi dikirim. Tidak ada yang tersimpan."
    assert menu["text"].startswith("Saya bisa membantu:")
    [greet, _menu] = await chat.say("halo", count=2)
    assert greet["text"] == "Halo lagi! Ada yang bisa dibantu?", "the flow is gone"

    await chat.say("mau komplain petugas loket paspor lama banget")
    await chat.say("-")
    await chat.say("lewati")
    [summary] = await chat.say("anonim")
    assert titles(summary) == ["Ya", "Ubah", "Batal"]
    left, _menu = await chat.choose("/deny", count=2)
    assert left["text"].startswith("Baik, pengaduan tidak jadi dikirim.")
    assert await ticket_count(client.app[HUB]) == 0
    await chat.chat.close()


async def test_an_appreciation_is_short_and_gets_a_ticket(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [summary] = await chat.say("terima kasih untuk petugas ktp yang ramah")
    assert summary["text"].startswith("Apresiasi Anda:\nterima kasih untuk petugas ktp yang ramah")
    assert "Layanan/instansi: KTP-el baru" in summary["text"]
    assert titles(summary) == ["Ya", "Batal"]
    [thanks] = await chat.say("ya")
    assert thanks["text"].startswith("Terima kasih atas apresiasi Anda!")
    assert "Nomor tiket: " + FIRST in thanks["text"]

    [ask] = await chat.say("mau kasih apresiasi")
    assert ask["text"].startswith("Dengan senang hati kami sampaikan.")
    [service] = await chat.say("petugasnya sabar sekali menjelaskan syaratnya")
    assert service["text"].startswith("Apresiasi ini untuk layanan apa?")
    [summary] = await chat.choose('/inform{"service": "skck"}')
    assert "Layanan/instansi: SKCK" in summary["text"]
    await chat.choose("/affirm")

    hub = client.app[HUB]
    first, second = (await hub.care.get(FIRST)), (await hub.care.get("CARE-20261130-0002"))
    assert first is not None and second is not None
    assert (first.ticket.kind, first.ticket.service_id) == ("appreciation", "ktp_el_baru")
    assert (second.ticket.kind, second.ticket.service_id) == ("appreciation", "skck")
    assert second.ticket.description == "petugasnya sabar sekali menjelaskan syaratnya"
    await chat.chat.close()


# --- status -----------------------------------------------------------------------------------


async def test_status_by_id_shows_own_tickets_only_and_my_complaints_lists_them(
    client: TestClient[Any, Any],
) -> None:
    owner = await chat_on(client)
    ticket_id = await owner.file()
    assert ticket_id == FIRST

    stranger = await chat_on(client)
    [none] = await stranger.say(f"cek tiket {FIRST.lower()}")
    assert none["text"].startswith(f"Tiket {FIRST} tidak ditemukan di antara pengaduan Anda.")
    [empty] = await stranger.say("pengaduan saya gimana")
    assert empty["text"] == "Anda belum punya pengaduan atau apresiasi yang tercatat."

    [status] = await owner.say(f"cek tiket {FIRST}")
    assert status["text"].startswith(f"Pengaduan {FIRST} (Paspor)\nStatus: Diterima\n")
    assert "Dikirim: Senin, 30 November 2026" in status["text"]

    hub = client.app[HUB]
    await hub.care.change_status(FIRST, "verified", SUPERVISOR)
    await hub.care.change_status(FIRST, "rejected", SUPERVISOR, note="Bukan wewenang MPP")
    await owner.chat.replies(2)  # the two notices
    second = await owner.file("mau komplain toilet di lantai 2 kotor dan bau")
    [listed] = await owner.say("cek status pengaduan saya")
    assert listed["text"] == (
        "Pengaduan dan apresiasi Anda:\n"
        f"- {second} Toilet: Diterima (30 Nov)\n"  # a facility complaint: its facility
        f"- {FIRST} Paspor: Ditolak (30 Nov)\n"
        "Ketik nomor tiket untuk rinciannya."
    )
    [rejected] = await owner.say(FIRST)
    assert "Status: Ditolak" in rejected["text"]
    assert "Catatan petugas: Bukan wewenang MPP" in rejected["text"]
    await owner.chat.close()
    await stranger.chat.close()


# --- one citizen on WhatsApp and SMS ----------------------------------------------------------


class TwilioCitizen:
    """One phone number writing on WhatsApp and by SMS; every reply reaches one fake."""

    def __init__(self, client: TestClient[Any, Any], twilio: FakeTwilio) -> None:
        self.client = client
        self.twilio = twilio
        self.inbound = 0
        self.received = 0

    async def send(self, name: str, text: str, count: int = 1, **fields: str) -> list[str]:
        self.inbound += 1
        form = fixture(name, MessageSid=f"SM{self.inbound:032x}", Body=text, **fields)
        response = await post(self.client, WEBHOOK, form)
        assert response.status == 200
        self.received += count
        sent = (await self.twilio.wait_for_messages(self.received))[self.received - count :]
        bodies = [m.field("Body") for m in sent]
        for message, body in zip(sent, bodies, strict=True):
            if not message.field("To").startswith("whatsapp:"):
                assert is_gsm7(body) and segments(body) <= 3, body
        return bodies

    async def whatsapp(self, text: str, count: int = 1) -> list[str]:
        return await self.send("whatsapp_text", text, count)

    async def photo(self, caption: str = "", count: int = 1) -> list[str]:
        return await self.send("whatsapp_media", caption, count)

    async def sms(self, text: str, count: int = 1) -> list[str]:
        return await self.send("sms_text", text, count)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def test_a_whatsapp_photo_is_kept_and_sms_sees_the_same_contacts_tickets(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
    clock: Clock,
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, twilio), clock=clock))
    citizen = TwilioCitizen(client, twilio)
    [ask] = await citizen.whatsapp("mau komplain")
    assert "1. Batal" in ask, "no buttons on Twilio WhatsApp: a numbered menu"
    await citizen.whatsapp("antrean kacau, nomor saya dilewati petugas")
    [kept] = await citizen.photo()  # a photo without a caption: kept, not a fallback
    assert kept.startswith("Foto/dokumen diterima (1 tersimpan).\nDicatat. Ada lagi")
    [service] = await citizen.whatsapp("sudah")
    assert "Balas dengan angka:\n1. KTP-el baru" in service
    await citizen.whatsapp("paspor")
    [files] = await citizen.whatsapp("-")
    assert files.startswith("1 foto/dokumen sudah tersimpan. Ada lagi?")
    assert "1. Lanjut" in files
    [privacy] = await citizen.whatsapp("1")
    assert "1. Biasa\n2. Anonim\n3. Rahasia" in privacy
    [summary] = await citizen.whatsapp("1")
    assert "Lampiran: 1 file" in summary
    [filed] = await citizen.whatsapp("1")
    assert "Nomor tiket: " + FIRST in filed

    hub = client.app[HUB]
    detail = await hub.care.get(FIRST)
    assert detail is not None
    assert detail.ticket.channel == "whatsapp"
    [photo] = detail.attachments
    assert photo.content_type == "image/jpeg"
    assert photo.url.startswith("https://api.twilio.com/2010-04-01/Accounts/")

    [listed] = await citizen.sms("pengaduan saya gimana")
    assert listed == f"Tiket Anda:\n- {FIRST}: Diterima\nKetik nomor tiket untuk rincian."
    [status] = await citizen.sms(f"cek tiket {FIRST}")
    assert status.startswith(f"Tiket {FIRST} (Paspor): Diterima, dikirim 30 Nov.")


# --- rating -----------------------------------------------------------------------------------


async def resolve(hub: Hub, ticket_id: str, answer: str) -> None:
    for status in ("verified", "forwarded", "in_progress"):
        await hub.care.change_status(ticket_id, status, SUPERVISOR)
    await hub.care.change_status(ticket_id, "resolved", SUPERVISOR, note=answer)


async def test_a_resolution_asks_for_a_rating_that_closes_or_reopens_the_ticket(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    good = await chat.file()
    await resolve(hub, good, "Petugas loket sudah ditegur dan loket kedua dibuka.")
    verified, forwarded, progress, resolved = await chat.chat.replies(4)
    assert verified["text"] == f"Kabar pengaduan {good} (Paspor):\nStatus: Diverifikasi"
    assert forwarded["text"].endswith("Status: Diteruskan ke instansi")
    assert progress["text"].endswith("Status: Sedang ditindaklanjuti")
    text = resolved["text"]
    assert "Status: Selesai ditangani" in text
    assert "Jawaban: Petugas loket sudah ditegur dan loket kedua dibuka." in text
    assert "Beri nilai 1 (sangat buruk) sampai 5 (sangat baik)" in text
    assert titles(resolved) == ["Sangat buruk", "Buruk", "Cukup", "Baik", "Sangat baik"]
    five = offered(resolved)["Sangat baik"]
    assert five == '/inform{"ticket_id": "' + good + '", "rating": "5"}'

    [thanks] = await chat.choose(five)
    assert thanks["text"] == f"Terima kasih atas nilai 5! Tiket {good} kami tutup."
    detail = await hub.care.get(good)
    assert detail is not None
    assert (detail.ticket.status, detail.ticket.rating) == ("closed", 5)
    row = await conversation_of(hub, chat.chat.session)
    assert RATING_STATE not in row.state

    bad = await chat.file("mau komplain loket skck tutup sebelum jamnya")
    await resolve(hub, bad, "Jam loket sudah diumumkan ulang.")
    await chat.chat.replies(4)
    [sorry] = await chat.say("1 masih sering tutup cepat")
    assert sorry["text"].startswith("Terima kasih atas nilai 1. Maaf penanganannya")
    assert "pimpinan akan meninjaunya" in sorry["text"]
    detail = await hub.care.get(bad)
    assert detail is not None
    ticket = detail.ticket
    assert (ticket.status, ticket.rating, ticket.needs_supervisor) == ("in_progress", 1, True)
    assert ticket.rating_comment == "masih sering tutup cepat"

    [again] = await chat.choose(five)  # a late tap on the old buttons
    assert again["text"] == f"Tiket {good} tidak sedang menunggu penilaian. Terima kasih."
    await chat.chat.close()


async def test_anything_but_a_rating_clears_the_question(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    ticket_id = await chat.file()
    await resolve(hub, ticket_id, "Sudah ditindaklanjuti.")
    await chat.chat.replies(4)
    greet, _menu = await chat.say("halo", count=2)
    assert greet["text"] == "Halo lagi! Ada yang bisa dibantu?"
    row = await conversation_of(hub, chat.chat.session)
    assert RATING_STATE not in row.state
    [status] = await chat.say(f"cek {ticket_id}")
    assert "Beri nilai 1 (sangat buruk)" in status["text"], "the status check asks again"
    [thanks] = await chat.say("4 cukup cepat")
    assert thanks["text"] == f"Terima kasih atas nilai 4! Tiket {ticket_id} kami tutup."
    detail = await hub.care.get(ticket_id)
    assert detail is not None and detail.ticket.rating_comment == "cukup cepat"
    await chat.chat.close()


# --- handing over to officers -----------------------------------------------------------------


async def test_asking_for_a_person_in_office_hours(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [handoff] = await chat.say("mau bicara dengan petugas")
    assert handoff["text"] == (
        "Baik, percakapan ini saya teruskan ke petugas.\n"
        "Petugas akan membalas di chat ini sebentar lagi. Mohon tunggu."
    )
    hub = client.app[HUB]
    row = await conversation_of(hub, chat.chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "asked")
    await chat.chat.acknowledged(await chat.chat.say("halo?"))
    assert await unread(chat.chat, hub) == [], "officers answer now, not the bot"
    await chat.chat.close()


async def test_asking_for_a_person_on_saturday_says_when_officers_answer(
    client: TestClient[Any, Any], clock: Clock
) -> None:
    clock.now = SATURDAY
    chat = await chat_on(client)
    [handoff] = await chat.say("bisa ngobrol sama orang?")
    assert handoff["text"].endswith(
        "Saat ini di luar jam kerja. Petugas akan membalas di chat ini pada Senin, "
        "7 Desember 2026, mulai pukul 08.00 WITA. Pesan yang Anda kirim sekarang tetap "
        'tersimpan.\nSambil menunggu, Anda tetap bisa bertanya kepada saya, misalnya ketik "menu".'
    )
    english = await chat_on(client)
    [handoff] = await english.say("I want to talk to a human")
    assert handoff["text"] == (
        "All right, I am passing this chat to an officer.\n"
        "It is outside office hours now. An officer will answer in this chat on Monday "
        "7 December 2026, from 08:00 WITA. Messages you send meanwhile are kept.\n"
        'Meanwhile you can still ask me, for example type "menu".'
    )
    await chat.chat.close()
    await english.chat.close()


async def test_the_engine_decides_the_handoff_and_says_when(client: TestClient[Any, Any]) -> None:
    """DialogEngine.respond directly: Outcome.handoff carries the reason."""
    hub = client.app[HUB]
    engine = hub.inbound.dialogs
    assert engine.care is not None
    turn = Turn(
        text="",
        choice_payload="/talk_to_human",
        channel="webchat",
        default_locale="id",
        supported_locales=("id", "en"),
    )
    evening = datetime(2026, 11, 30, 16, 0, tzinfo=WITA)
    context = DialogContext(1, 1, "webchat", evening.date(), now=evening)
    state = {STATE: {"kind": "complaint", "stage": "privacy"}, "fallbacks": 1}
    outcome = await engine.respond(turn, state, "id", context)
    assert outcome.handoff == "asked"
    [reply] = outcome.replies
    assert reply.context["next"]["tomorrow"] and reply.context["next"]["time"] == "08:00"
    assert STATE not in outcome.state and "fallbacks" not in outcome.state


async def test_an_angry_complaint_is_filed_then_handed_over(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [service] = await chat.say("PELAYANAN PARAH!!! 2 JAM NUNGGU GA DIPANGGIL")
    assert service["text"].startswith("Pengaduan ini tentang layanan apa?")
    await chat.say("kk")
    await chat.say("tadi pagi")
    await chat.say("lewati")
    await chat.say("biasa")
    filed, handoff = await chat.say("ya", count=2)
    assert "Nomor tiket: " + FIRST in filed["text"] and filed["choices"] == []
    assert handoff["text"].startswith(
        f"Kami mohon maaf atas pengalaman Anda. Pengaduan {FIRST} kami teruskan langsung"
    )
    hub = client.app[HUB]
    row = await conversation_of(hub, chat.chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "angry")
    await chat.chat.close()


async def test_a_repeated_complaint_about_the_same_service_is_handed_over(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    await chat.file()
    await chat.say("mau komplain paspor saya belum jadi sudah dua minggu")
    await chat.say("-")
    await chat.say("lewati")
    await chat.say("biasa")
    filed, handoff = await chat.say("ya", count=2)
    assert "CARE-20261130-0002" in filed["text"]
    assert handoff["text"].startswith("Anda masih punya pengaduan yang berjalan tentang hal")
    row = await conversation_of(client.app[HUB], chat.chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "repeated")
    await chat.chat.close()


async def test_two_fallbacks_in_a_row_hand_over_and_an_understood_turn_resets(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    fallback, _menu = await chat.say("asdfgh qwerty", count=2)
    assert fallback["text"].startswith("Maaf, saya belum memahami pesan Anda.")
    await chat.say("halo", count=2)
    fallback, _menu = await chat.say("asdfgh qwerty", count=2)
    assert fallback["text"].startswith("Maaf, saya belum memahami"), "counting starts again"
    [handoff] = await chat.say("xyzzy")
    assert handoff["text"].startswith(
        "Maaf, saya belum bisa memahami pesan Anda. Percakapan ini saya teruskan ke petugas."
    )
    row = await conversation_of(client.app[HUB], chat.chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "failures")
    await chat.chat.close()


async def test_a_question_not_understood_in_the_flow_is_asked_again_never_handed_over(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    await chat.say("mau komplain petugas loket paspor lama banget")
    await chat.say("-")
    await chat.say("lewati")
    [again] = await chat.say("hmm gimana ya")
    assert again["text"].startswith("Maaf, belum jelas. Pilih salah satu:")
    [again] = await chat.say("entahlah")
    assert again["text"].startswith("Maaf, belum jelas. Pilih salah satu:")
    [again] = await chat.say("hmm")
    assert again["text"].startswith("Maaf, belum jelas. Pilih salah satu:")
    row = await conversation_of(client.app[HUB], chat.chat.session)
    assert row.status == "bot" and row.handoff_reason is None
    await chat.say("biasa")
    [filed] = await chat.say("ya")
    assert "Nomor tiket: " + FIRST in filed["text"], "the flow went on where it was"
    await chat.chat.close()


# --- English ----------------------------------------------------------------------------------


async def test_an_english_speaking_citizen(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [ask] = await chat.say("I want to file a complaint")
    assert ask["text"].startswith("Please tell us what happened")
    [more] = await chat.say("the officer at the counter ignored me for an hour")
    assert more["text"].startswith("Noted. Anything else?")
    assert titles(more) == ["Continue", "Cancel"]
    [service] = await chat.say("done")
    assert service["text"].startswith("Which service is this complaint about?")
    assert titles(service)[-1] == "Other"
    [when] = await chat.say("passport")
    assert when["text"].startswith("When and where did it happen?")
    await chat.say("yesterday at 10")
    [privacy] = await chat.say("skip")
    assert titles(privacy) == ["Normal", "Anonymous", "Confidential"]
    [summary] = await chat.say("anonymous")
    assert summary["text"].startswith("Please check your complaint:")
    assert "Service/agency: Passport" in summary["text"]
    assert "When & where: yesterday at 10" in summary["text"]
    assert titles(summary) == ["Yes", "Change", "Cancel"]
    [filed] = await chat.say("yes")
    assert filed["text"].startswith("We have received your complaint.\nTicket number: " + FIRST)
    assert "within 3 working days (by Thursday 3 December 2026)" in filed["text"]
    [status] = await chat.say("check my complaint status")
    assert status["text"] == (
        f"Your complaints and appreciations:\n- {FIRST} Passport: Received (30 Nov)\n"
        "Type a ticket number for its details."
    )
    await chat.chat.close()


# --- the notifier's helpers and the anger rules -------------------------------------------------


async def test_notices_for_officers_changes_only(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    await chat.file()
    detail = await hub.care.get(FIRST)
    assert detail is not None
    ticket = detail.ticket
    catalogue, zone = hub.catalogue, hub.care.working_days.timezone

    def notices(change: Change, locale: str = "id") -> list[Reply]:
        return ticket_notice(ticket, change, catalogue, locale, zone)

    citizen = Actor("citizen", ActorRole.CITIZEN)
    assert notices(Change("status", citizen, None, "received")) == []
    assert notices(Change("note", SUPERVISOR, note="x")) == []
    assert notices(Change("sla_breach", SYSTEM, "received")) == []

    rejected = Change("status", SUPERVISOR, "received", "rejected", "Bukan wewenang MPP")
    [notice] = notices(rejected, "en")
    assert notice.context["note"] == "Bukan wewenang MPP" and notice.choices == ()
    assert notice_state(ticket, rejected) == {}

    closed = Change("status", SYSTEM, "resolved", "closed", "auto")
    [notice] = notices(closed)
    assert notice.context["note"] == "", "the system's notes are not for citizens"

    resolved = Change("status", SUPERVISOR, "in_progress", "resolved", "Sudah beres")
    [notice] = notices(resolved)
    assert [c.title for c in notice.choices] == [f"@rating.{n}" for n in range(1, 6)]
    assert notice_state(ticket, resolved) == {RATING_STATE: FIRST}
    await chat.chat.close()


async def test_ticket_ids_and_notices_follow_the_configured_zone(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``server.timezone``, not WITA: filed at 23:30 on Monday in Jakarta (already 00:30
    on Tuesday in Bali), the ticket is Monday's, and so are the dates of its notices."""
    jakarta = make_settings(server={"timezone": "Asia/Jakarta"})
    clock = Clock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    client = await aiohttp_client(create_app(jakarta, clock=clock))
    hub = client.app[HUB]
    chat = await chat_on(client)
    assert await chat.file() == FIRST

    told: list[Reply] = []
    notice = hub.outbound.notice

    async def recording(
        conn: Any, conversation_id: int, make_replies: Callable[[str], list[Reply]], **kw: Any
    ) -> bool:
        def replies(locale: str) -> list[Reply]:
            made = make_replies(locale)
            told.extend(made)
            return made

        queued: bool = await notice(conn, conversation_id, replies, **kw)
        return queued

    monkeypatch.setattr(hub.outbound, "notice", recording)
    await hub.care.change_status(FIRST, "verified", SUPERVISOR)
    [notice] = told
    assert notice.context["ticket"]["filed"]["iso"] == "2026-11-30"
    # 3 working days: by the end of Thursday in Jakarta (Friday 01:00 in Bali).
    assert notice.context["ticket"]["due"]["iso"] == "2026-12-03"
    await chat.chat.close()


@pytest.mark.parametrize(
    ("text", "angry"),
    [
        ("PELAYANAN PARAH!!! 2 JAM NUNGGU", True),
        ("kenapa lama sekali!!!", True),
        ("SAYA SUDAH MENUNGGU DARI PAGI", True),
        ("petugasnya gak becus", True),
        ("saya kecewa berat sama mpp", True),
        ("ada pungli di loket sim", True),
        ("this is unacceptable", True),
        ("bangsat petugasnya", True),
        ("antreannya lama, tolong diperbaiki", False),
        ("KTP EL saya belum jadi", False),
        ("kenapa lama?!", False),
        ("saya kecewa", False),
    ],
)
def test_anger_rules(text: str, angry: bool) -> None:
    assert is_angry(text) is angry


# --- every CARE template for SMS ----------------------------------------------------------------


def care_sms_contexts() -> dict[str, list[dict[str, Any]]]:
    """Contexts like the CARE flow's, with long values, for the SMS template checks."""
    catalogue = load_catalogue()
    longest = max(catalogue.services.values(), key=lambda s: len(s.short_id)).short_id
    day = {"iso": "2026-12-30", "weekday": 2, "day": 30, "month": 12, "year": 2026}
    story = "Petugas di loket tidak ada selama satu jam padahal antrean sudah panjang. " * 6
    note = "Petugas sudah ditegur dan loket kedua dibuka mulai besok pagi. " * 6

    def ticket(status: str, kind: str = "complaint") -> dict[str, Any]:
        return {
            "id": "CARE-20261230-0042",
            "kind": kind,
            "status": status,
            "about": longest,
            "filed": day,
            "due": day,
            "anonymous": status == "received",
            "confidential": False,
            "rating": None,
            "priority": "high",
            "object": "facility",
            "late": status in ("received", "verified", "forwarded", "in_progress"),
            "escalated": status == "in_progress",
        }

    statuses = ("received", "verified", "forwarded", "in_progress", "resolved", "closed")
    noted = {
        "privacy": "confidential",
        "priority": "high",
        "facility": "Mesin antrean",
        "agency": longest,
        "when": "kemarin sore sekitar jam 15.30 wita",
        "where": "ruang tunggu, loket 12, lantai 2",
    }
    asked = [
        {"again": again, "received": received, "files": files, "noted": n}
        for again in (False, True)
        for received, files in ((0, 0), (1, 3))
        for n in ({}, noted)
    ]
    return {
        "care_ask_description": [{**a, "more": m} for a in asked for m in (False, True)],
        "appreciation_ask_description": asked,
        "care_ask_service": [
            {**a, "kind": k, "typing": t, "examples": ["ktp", "kk", "akta lahir"]}
            for a in asked
            for k in ("complaint", "appreciation")
            for t in (False, True)
        ],
        "care_ask_when_where": [{**a, "need": n} for a in asked for n in ("both", "when", "where")],
        "care_ask_attachments": [{**a, "waiting": w} for a in asked for w in (False, True)],
        "care_ask_privacy": asked,
        "care_ask_edit": asked,
        "care_summary": [
            {
                **a,
                "description": story,
                "about": longest,
                "when_where": w,
                "when": noted["when"],
                "where": noted["where"],
                "object": o,
                "facility": noted["facility"],
                "priority": "high",
                "privacy": p,
            }
            for a in asked
            for p in ("normal", "anonymous", "confidential")
            for w in (story, "")
            for o in ("facility", "officer")
        ],
        "appreciation_summary": [{**a, "description": story, "about": longest} for a in asked],
        "care_filed": [{"ticket": ticket("received"), "days": 3}],
        "appreciation_filed": [{"ticket": ticket("received", "appreciation")}],
        "care_left": [{"kind": "complaint"}, {"kind": "appreciation"}],
        "care_status": [
            {"ticket": ticket(s), "note": note, "rate": s == "resolved"} for s in statuses
        ],
        "care_list": [{"tickets": [ticket(s) for s in statuses][:5], "more": True}],
        "care_none": [{"id": ""}, {"id": "CARE-20261230-0042"}],
        "care_escalated": [
            {"ticket": ticket("in_progress"), "outcome": o}
            for o in ("escalated", "already", "not_late", "not_open")
        ],
        "care_rate_thanks": [
            {"ticket_id": "CARE-20261230-0042", "rating": r, "low": r < 3, "accepted": a}
            for r in (1, 5)
            for a in (True, False)
        ],
        "care_notice": [
            {"ticket": ticket(s), "status": s, "note": note, "rate": s == "resolved"}
            for s in (*statuses, "rejected")
        ],
        "handoff": [
            {"reason": r, "open": o, "ticket": t, "next": None if o else {**day, **n}}
            for r, t in (("asked", ""), ("failures", ""), ("angry", "CARE-20261230-0042"))
            for o in (True, False)
            for n in (
                {"time": "08:00", "today": False, "tomorrow": True},
                {"time": "08:00", "today": True, "tomorrow": False},
            )
        ]
        + [
            {
                "reason": "repeated",
                "open": False,
                "next": {**day, "time": "08:00", "today": False, "tomorrow": False},
                "ticket": "CARE-20261230-0042",
            }
        ],
    }


def test_every_care_reply_fits_an_sms() -> None:
    """GSM-7 and at most 3 segments, with the longest choices an SMS menu gets."""
    from hub.model import Choice

    renderer = Renderer(templates_dir())
    sms = Capabilities(max_text_length=459, buttons=False, address_kind=AddressKind.PHONE)
    nine = tuple(Choice("Pertanahan (BPN)", f"/x{i}") for i in range(8))
    for locale in ("id", "en"):
        for key, contexts in care_sms_contexts().items():
            for context in contexts:
                reply = Reply(key, context, choices=nine if key != "care_left" else ())
                [message] = renderer.render(
                    reply, locale=locale, channel="sms", recipient="+62812", capabilities=sms
                )
                body = to_gsm7(message.text)
                assert is_gsm7(body), (locale, key, body)
                assert segments(body) <= 3, (locale, key, segments(body), body)


def test_kinds_and_state_keys_are_what_the_notifier_expects() -> None:
    assert RATING_STATE == "care_rating"
    assert TicketKind.APPRECIATION.value == "appreciation"
