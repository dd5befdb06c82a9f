"""English speakers read the catalogue in English: requirements, fees, counters, agencies,
the mall's address, in answers, bookings and reminders; on SMS within the Indonesian budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.booking import Booking
from hub.catalogue import Service, default_catalogue_path, load_catalogue
from hub.channels.base import Capabilities
from hub.channels.sms_text import is_gsm7, segments, to_gsm7
from hub.channels.twilio import SMS_MAX_TEXT
from hub.dialogs.info import INFO_INTENTS, InfoFlow
from hub.dialogs.views import booking_view
from hub.model import AddressKind, Reply
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from hub.store.bookings import BookingStatus

CATALOGUE = load_catalogue()
FLOW = InfoFlow(CATALOGUE)
RENDERER = Renderer(templates_dir())
SMS = Capabilities(max_text_length=SMS_MAX_TEXT, buttons=False, address_kind=AddressKind.PHONE)
WEB = Capabilities(max_text_length=4000, buttons=True, max_buttons=10)
SERVICES = list(CATALOGUE.services.values())


def web_text(reply: Reply, locale: str) -> str:
    [message] = RENDERER.render(
        reply, locale=locale, channel="webchat", recipient="s", capabilities=WEB
    )
    return message.text


def sms_text(reply: Reply, locale: str) -> str:
    [message] = RENDERER.render(
        reply, locale=locale, channel="sms", recipient="+628123", capabilities=SMS
    )
    return to_gsm7(message.text)


def booking_of(service: Service, counter: str | None = None) -> Booking:
    """A booking as the booking service returns it: the sourced requirements and counter."""
    return Booking(
        code="B-7KQ2MX",
        service_id=service.id,
        day=date(2026, 12, 1),
        session="pagi",
        queue_number=12,
        queue_label=f"{service.queue_prefix}-012",
        counter=service.counter if counter is None else counter,
        status=BookingStatus.BOOKED,
        channel="sms",
        contact_id=1,
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        requirements=tuple(service.requirements),
        session_start=time(8),
        session_end=time(10),
    )


def test_english_requirements_are_the_translated_list() -> None:
    kk = CATALOGUE.services["kartu_keluarga"]
    [reply] = FLOW.answer("ask_requirements", kk, {}, "en")
    service = reply.context["service"]
    assert service["requirements"] == list(kk.wording("en").requirements)
    assert service["counter"] == "Disdukcapil counter" and service["fee"] == "Free"
    text = web_text(reply, "en")
    assert text.startswith("Requirements for Family card (new, update, lost, damaged, split):")
    assert "- Form F-1.02 / F-1.06 (change of data)" in text
    assert "Formulir" not in text and "in Indonesian" not in text


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_no_english_answer_shows_an_indonesian_requirement_or_counter(service: Service) -> None:
    english = service.wording("en")
    indonesian = {f"- {item}" for item in service.requirements} - {
        f"- {item}" for item in english.requirements
    }
    for intent in INFO_INTENTS:
        [reply] = FLOW.answer(intent, service, {}, "en")
        for text in (web_text(reply, "en"), sms_text(reply, "en")):
            assert not indonesian & set(text.splitlines()), (intent, text)
            # Counters are "Loket ..." in Indonesian (but "Gerai SIM", kept as a gloss).
            assert "Loket" not in text and "Gratis" not in text, (intent, text)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_english_sms_answers_fit_the_segments_of_the_indonesian_ones(service: Service) -> None:
    """Translations are worded to cost no more SMS segments than the Indonesian text."""
    for intent in INFO_INTENTS:
        english = sms_text(FLOW.answer(intent, service, {}, "en")[0], "en")
        indonesian = sms_text(FLOW.answer(intent, service, {}, "id")[0], "id")
        assert is_gsm7(english)
        assert segments(english) <= max(segments(indonesian), 1), (intent, english)
    booking = booking_of(service)
    views = {locale: booking_view(booking, CATALOGUE, locale) for locale in ("id", "en")}
    done = {
        locale: sms_text(Reply("booking_done", {"booking": view}), locale)
        for locale, view in views.items()
    }
    assert segments(done["en"]) <= segments(done["id"]), done["en"]
    for kind in ("day_before", "same_day"):
        reminder = sms_text(Reply("booking_reminder", {"booking": views["en"], "kind": kind}), "en")
        assert segments(reminder) == 1, (len(reminder), reminder)
        assert reminder.startswith("MPP Badung: ") and reminder.endswith("CANCEL B-7KQ2MX")


def test_a_booking_reads_in_the_citizens_language() -> None:
    skck = CATALOGUE.services["skck"]
    english = booking_view(booking_of(skck), CATALOGUE, "en")
    assert english["requirements"] == list(skck.wording("en").requirements)
    assert english["requirements_brief"][0] == "Photocopy of ID card or driving licence"
    assert english["counter"] == "Polres Badung counter"
    assert english["service"]["name"] == "Police clearance certificate"
    indonesian = booking_view(booking_of(skck), CATALOGUE, "id")
    assert indonesian["requirements"] == skck.requirements
    assert indonesian["counter"] == "Loket Polres Badung"
    # A counter the officers set by hand is shown as they wrote it.
    moved = booking_view(booking_of(skck, counter="Loket C2"), CATALOGUE, "en")
    assert moved["counter"] == "Loket C2"


def test_english_reminder_lists_english_requirements() -> None:
    paspor = CATALOGUE.services["paspor"]
    view = booking_view(booking_of(paspor), CATALOGUE, "en")
    text = web_text(Reply("booking_reminder", {"booking": view, "kind": "day_before"}), "en")
    assert "Counter: Immigration counter" in text
    assert "- Family Card (Kartu Keluarga, KK)" in text
    assert "- Old passport (for a replacement)" in text and "Paspor lama" not in text


def test_what_is_offered_and_where_name_agencies_and_the_address_in_english() -> None:
    [offer] = FLOW.answer("ask_service_info", None, {}, "en")
    assert offer.context["agencies"][:3] == ["Disdukcapil", "Immigration", "Badung Police"]
    assert offer.context["examples"] == [
        "New ID card (KTP)",
        "Family card (KK)",
        "Birth certificate",
    ]
    [where] = FLOW.answer("ask_location", CATALOGUE.services["paspor"], {}, "en")
    text = web_text(where, "en")
    assert text.startswith(
        "Indonesian passport (new or replacement) is served at Immigration counter"
    )
    assert "Address: Badung Regency Government Centre (Puspem)" in text
    assert "Kawasan Pusat Pemerintahan" not in text
    [info] = FLOW.answer("ask_service_info", CATALOGUE.services["pertanahan"], {}, "en")
    text = web_text(info, "en")
    assert "Agency: Land Office (ATR/BPN) of Badung Regency" in text
    assert "Completion: Transfer of title about 5-7 working days" in text


def test_indonesian_answers_read_the_research_written_in_english_in_indonesian() -> None:
    paspor = CATALOGUE.services["paspor"]
    hours = web_text(FLOW.answer("ask_hours", paspor, {}, "id")[0], "id")
    assert "Sabtu: tutup (Imigrasi kadang membuka sesi 'paspor simpatik'" in hours
    assert "sometimes" not in hours
    info = web_text(FLOW.answer("ask_service_info", paspor, {}, "id")[0], "id")
    assert "Sekitar 3-4 hari kerja" in info and "about" not in info
    english = web_text(FLOW.answer("ask_hours", paspor, {}, "en")[0], "en")
    assert "Saturday: closed (Imigrasi sometimes runs" in english


def test_a_service_without_english_is_answered_from_the_sourced_text(tmp_path: Path) -> None:
    document: dict[str, Any] = yaml.safe_load(default_catalogue_path().read_text("utf-8"))
    skck = next(s for s in document["services"] if s["id"] == "skck")
    del skck["translations"]["en"]["requirements"]
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    catalogue = load_catalogue(path)
    [reply] = InfoFlow(catalogue).answer("ask_requirements", catalogue.services["skck"], {}, "en")
    text = web_text(reply, "en")
    assert "- Fotokopi Kartu Keluarga" in text, "the Indonesian list, rather than none"
    [fee] = InfoFlow(catalogue).answer("ask_fee", catalogue.services["skck"], {}, "en")
    assert "Rp30.000 (state fee, PNBP" in web_text(fee, "en"), "other fields stay English"
