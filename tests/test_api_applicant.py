"""The applicant of a booking through the REST API: name and masked NIK for a token with
``bookings:applicant`` only, and the counter's check-in by the NIK on a KTP.

"Now" is Monday 14 December 2026, 07:00 WITA (tests/test_api.py); every answer is
checked against the OpenAPI document.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa

from hub.api.scopes import Scope
from hub.app import Hub
from hub.booking import Applicant, Booking
from hub.config import Settings
from hub.store.tables import bookings
from tests.test_api import KTP, MON, PASPOR, TUE, AiohttpClient, new_contact, start
from tests.test_api_scopes import call, token

NIK = "5103011204850001"
OTHER_NIK = "5103015506900002"


async def book_for(
    hub: Hub, service: str, day: str, name: str, nik: str | None, phone: str
) -> Booking:
    sealed = hub.bookings.applicants.seal(nik) if nik else None
    result = await hub.bookings.book(
        await new_contact(hub, phone),
        service,
        date.fromisoformat(day),
        "pagi",
        "whatsapp",
        applicant=Applicant(name, sealed),
    )
    assert isinstance(result, Booking), result
    return result


async def test_the_nik_is_stored_only_encrypted_and_shown_masked(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings(db_url))
    booking = await book_for(hub, KTP, MON.isoformat(), "Made Sudiarta", NIK, "+6281200000001")
    async with hub.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(bookings).where(bookings.c.code == booking.code))).one()
    assert row.applicant_name == "Made Sudiarta"
    assert NIK not in json.dumps(dict(row._mapping), default=str)
    assert hub.vault.decrypt(row.applicant_nik) == NIK

    status, answer = await api.get("/api/v1/bookings/{code}", code=booking.code)
    assert status == 200
    assert answer["applicant"] == {"name": "Made Sudiarta", "nik": "5103••••••••0001"}
    status, day = await api.get("/api/v1/bookings", params={"date": MON.isoformat()})
    assert [b["applicant"] for b in day["items"]] == [answer["applicant"]]


async def test_lookup_by_nik_finds_todays_bookings_of_that_applicant_only(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings(db_url))
    mine = await book_for(hub, KTP, MON.isoformat(), "Made Sudiarta", NIK, "+6281200000001")
    # Booked by someone else's phone for the same person: the counter sees it too.
    also = await book_for(hub, PASPOR, MON.isoformat(), "Made Sudiarta", NIK, "+6281200000002")
    await book_for(hub, KTP, MON.isoformat(), "Komang Ayu", OTHER_NIK, "+6281200000003")
    await book_for(hub, KTP, TUE.isoformat(), "Made Sudiarta", NIK, "+6281200000004")  # tomorrow
    await book_for(hub, KTP, MON.isoformat(), "Tanpa NIK", None, "+6281200000005")

    written = "5103 0112 0485 0001"  # as read off the card
    status, found, _headers = await call(
        api, "POST", "/api/v1/bookings/lookup", str(api.token), {"nik": written}
    )
    assert status == 200, found
    assert found["date"] == MON.isoformat()
    assert sorted(b["code"] for b in found["items"]) == sorted([mine.code, also.code])
    assert {b["applicant"]["nik"] for b in found["items"]} == {"5103••••••••0001"}
    assert NIK not in json.dumps(found)

    # Then the counter checks the citizen in by the code it found.
    status, checked = await api.post("/api/v1/bookings/{code}/check-in", code=mine.code)
    assert (status, checked["status"]) == (200, "checked_in")

    status, none, _headers = await call(
        api, "POST", "/api/v1/bookings/lookup", str(api.token), {"nik": "5103011204859999"}
    )
    assert (status, none["items"]) == (200, [])


@pytest.mark.parametrize(
    "body",
    [
        {"nik": "510301120485000"},  # 15 digits
        {"nik": 5103011204850001},
        {"nik": NIK, "name": "Made"},
        {},
        [NIK],
        "5103011204850001",
    ],
)
async def test_a_wrong_lookup_body_is_a_400_that_never_repeats_the_digits(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], body: object
) -> None:
    _hub, api, _clock = await start(aiohttp_client, make_settings())
    status, error, _headers = await call(
        api, "POST", "/api/v1/bookings/lookup", str(api.token), body
    )
    assert status == 400, error
    assert error["error"]["code"] == "bad_request"
    assert "510301120485000" not in json.dumps(error)


async def test_bookings_read_alone_never_sees_the_applicant(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hub, api, _clock = await start(
        aiohttp_client, make_settings(), scopes=frozenset({Scope.BOOKINGS_READ})
    )
    booking = await book_for(hub, KTP, MON.isoformat(), "Made Sudiarta", NIK, "+6281200000001")
    status, answer = await api.get("/api/v1/bookings/{code}", code=booking.code)
    assert status == 200 and "applicant" not in answer
    status, day = await api.get("/api/v1/bookings", params={"date": MON.isoformat()})
    assert all("applicant" not in b for b in day["items"])
    assert "Made Sudiarta" not in json.dumps(day)

    status, refused, _headers = await call(
        api, "POST", "/api/v1/bookings/lookup", str(api.token), {"nik": NIK}
    )
    assert status == 403 and refused["error"]["scope"] == "bookings:applicant"

    allowed = await token(hub, "counter", {Scope.BOOKINGS_APPLICANT})
    status, found, _headers = await call(
        api, "POST", "/api/v1/bookings/lookup", allowed, {"nik": NIK}
    )
    assert status == 200 and [b["code"] for b in found["items"]] == [booking.code]
    assert NIK not in caplog.text, "the NIK stays out of every log line"
