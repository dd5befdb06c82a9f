"""The console's announcements through the real app: compose, preview per channel, the
roles (officers draft, supervisors and admins approve, pause, resume, cancel), live
progress, and the refusals for everyone else.

The hub runs with two recording channels, ``sms`` and ``whatsapp`` (with a 24-hour
window); citizens write through the inbound pipeline so their contacts and
conversations are real, and subscribe through the domain service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from hub.app import HUB, create_app
from hub.channels.base import Capabilities
from hub.channels.sms_text import segments
from hub.config import Settings
from hub.model import utcnow
from hub.store.tables import announcements
from tests.clock import Clock
from tests.test_announcements import Recorder, citizen, subscribe, until
from tests.test_console_auth import AiohttpClient, Console

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
LIST = "/console/announcements"
LONG_TEXT = (
    "Mulai Senin depan loket paspor Kantor Imigrasi di MPP Badung buka pukul 07.30 WITA "
    "dan antrean daring dibuka dua hari sebelumnya. Harap membawa KTP asli dan "
    "bukti pembayaran PNBP. Terima kasih atas pengertian Anda."
)


def channels() -> tuple[Recorder, Recorder]:
    return Recorder("sms"), Recorder("whatsapp", Capabilities(session_window_hours=24))


async def open_hub(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    url: str | None = None,
    **sections: Any,
) -> tuple[Console, Recorder, Recorder]:
    sms, whatsapp = channels()
    settings = make_settings(url, scheduler={"enabled": False}, **sections)
    clock = Clock(utcnow())  # citizens' messages carry the real time: the window counts from it
    client = await aiohttp_client(create_app(settings, extra_channels=[sms, whatsapp], clock=clock))
    return Console(client, client.app[HUB], clock), sms, whatsapp


async def as_officer(console: Console, username: str) -> str:
    """Log in as ``username`` (forgetting any other session); their CSRF token."""
    console.client.session.cookie_jar.clear()
    status, _body, _response = await console.login(username)
    assert status == 303
    page = await console.client.get(LIST)
    match = CSRF.search(await page.text())
    assert match is not None
    return match.group(1)


async def post(console: Console, path: str, token: str, **data: Any) -> Any:
    return await console.client.post(
        path, data={"csrf_token": token, **data}, allow_redirects=False
    )


async def text_of(console: Console, path: str, expect: int = 200) -> str:
    response = await console.client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == expect, (path, response.status, body[:400])
    return body


async def progress(console: Console, announcement_id: int) -> dict[str, Any]:
    response = await console.client.get(f"/console/api/announcements/{announcement_id}/progress")
    assert response.status == 200
    found: dict[str, Any] = await response.json()
    return found


async def audience(console: Console) -> None:
    """Three subscribers of ``jadwal``: two on SMS, one on WhatsApp (inside its window)."""
    hub = console.hub
    for channel, sender in [
        ("sms", "+6281100000001"),
        ("sms", "+6281100000002"),
        ("whatsapp", "+6281100000003"),
    ]:
        contact = await citizen(hub, channel, sender)
        await subscribe(hub, contact, channel, sender, "jadwal")


async def test_an_officer_drafts_a_supervisor_approves_and_the_progress_counts_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console, sms, whatsapp = await open_hub(aiohttp_client, make_settings, db_url)
    await console.add_officer("made", "officer")
    await console.add_officer("ketut", "supervisor")
    await audience(console)

    token = await as_officer(console, "made")
    page = await text_of(console, LIST)
    assert 'href="/console/announcements" aria-current="page"' in page
    assert "(3 pelanggan)" in page  # jadwal's subscribers next to its checkbox

    response = await post(
        console,
        LIST,
        token,
        title="Jam layanan paspor",
        text_id=LONG_TEXT,
        text_en="From next Monday the passport counter opens at 07:30.",
        target="topics",
        topic="jadwal",
        send_at="",
    )
    assert response.status == 303
    location = response.headers["Location"]
    announcement_id = int(location.split("/")[-1].split("?")[0])
    detail = await text_of(console, location)
    assert LONG_TEXT in detail and "From next Monday" in detail
    # The preview: SMS cut to the two-segment budget, the cost = segments × SMS recipients.
    assert 'data-channel="sms"' in detail and 'data-channel="whatsapp"' in detail
    assert "2 segmen" in detail
    assert re.search(r"Perkiraan biaya: <strong>4</strong> segmen SMS \(2 penerima\)", detail)
    # WhatsApp: the one recipient wrote just now; no template for announcement_jadwal.
    window = r"Dalam jendela 24 jam: <strong>1</strong> · di luar: <strong>0</strong>"
    assert re.search(window, detail)
    assert "Templat belum diatur" in detail and "announcement_jadwal" in detail
    # An officer sees no controls, and their approval is refused.
    assert 'id="approve"' not in detail and 'id="needs-approval"' in detail
    refused = await post(console, f"{LIST}/{announcement_id}/approve", token)
    assert refused.status == 403
    assert (await console.hub.announcements.get(announcement_id)).status == "draft"  # type: ignore[union-attr]

    token = await as_officer(console, "ketut")
    detail = await text_of(console, f"{LIST}/{announcement_id}")
    assert 'id="approve"' in detail
    approved = await post(console, f"{LIST}/{announcement_id}/approve", token)
    assert approved.status == 303 and approved.headers["Location"].endswith("?ok=approved")

    async def all_sent() -> bool:
        counts = (await progress(console, announcement_id))["progress"]
        return bool(counts["sent"] + counts["delivered"] == 3)

    await until(all_sent)
    found = await progress(console, announcement_id)
    assert found["progress"]["recipients"] == 3 and found["progress"]["failed"] == 0
    bulk_sms = [m for m in sms.sent if m.bulk]
    assert len(bulk_sms) == 2 and len([m for m in whatsapp.sent if m.bulk]) == 1
    assert all(segments(m.text) == 2 for m in bulk_sms)  # cut to the budget, as previewed
    listed = await text_of(console, LIST)
    assert f'data-announcement="{announcement_id}"' in listed
    actions = await console.audit_actions()
    assert [a for a in actions if a.startswith("announcement_")] == [
        "announcement_drafted",
        "announcement_approve_refused",
        "announcement_approved",
    ]


async def test_a_refused_draft_shows_the_form_again_with_what_was_typed(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, _sms, _wa = await open_hub(aiohttp_client, make_settings)
    await console.add_officer("made", "officer")
    token = await as_officer(console, "made")
    before = await console.count(announcements)
    response = await post(
        console,
        LIST,
        token,
        title="Judul <b>tebal</b>",
        text_id="   ",
        text_en="Only English here",
        target="topics",
        topic="jadwal",
    )
    assert response.status == 400
    page = await response.text()
    assert 'id="form-error"' in page and "Indonesian text" in page
    assert "Judul &lt;b&gt;tebal&lt;/b&gt;" in page and "Only English here" in page
    assert re.search(r'value="jadwal" checked', page)
    # No audience at all; a targeted notice without a date; a bad send time.
    for data in [
        {"text_id": "Halo", "target": "topics"},
        {"text_id": "Halo", "target": "booked", "service": "paspor", "day": ""},
        {"text_id": "Halo", "target": "topics", "topic": "jadwal", "send_at": "besok"},
    ]:
        refused = await post(console, LIST, token, **data)
        assert refused.status == 400, data
    assert await console.count(announcements) == before


async def test_a_scheduled_notice_to_the_booked_of_a_service_waits_for_its_time(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, _sms, _wa = await open_hub(aiohttp_client, make_settings)
    await console.add_officer("made", "officer")
    await console.add_officer("admin", "admin")
    token = await as_officer(console, "made")
    response = await post(
        console,
        LIST,
        token,
        text_id="Loket paspor tutup pukul 12.00 hari itu.",
        target="booked",
        service="paspor",
        day="2030-12-16",
        send_at="2030-12-15T09:30",
    )
    assert response.status == 303, await response.text()
    announcement_id = int(response.headers["Location"].split("/")[-1].split("?")[0])
    record = await console.hub.announcements.get(announcement_id)
    assert record is not None and record.audience == {"date": "2030-12-16", "service": "paspor"}
    assert record.send_at is not None and record.send_at.isoformat() == "2030-12-15T01:30:00+00:00"
    detail = await text_of(console, f"{LIST}/{announcement_id}")
    assert "16-12-2030" in detail and "15-12-2030 09:30 WITA" in detail
    assert "announcement_booking" in detail  # the template a targeted notice needs

    token = await as_officer(console, "admin")
    approved = await post(console, f"{LIST}/{announcement_id}/approve", token)
    assert approved.status == 303
    record = await console.hub.announcements.get(announcement_id)
    assert record is not None and record.status == "scheduled"
    again = await post(console, f"{LIST}/{announcement_id}/approve", token)
    assert again.status == 409


async def test_pause_resume_and_cancel_are_for_supervisors_and_admins(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, sms, _wa = await open_hub(aiohttp_client, make_settings)
    await console.add_officer("made", "officer")
    await console.add_officer("ketut", "supervisor")
    await audience(console)
    sms.hold.clear()  # SMS hangs: the announcement stays "sending"
    token = await as_officer(console, "made")
    response = await post(console, LIST, token, text_id="Info", target="topics", topic="jadwal")
    announcement_id = int(response.headers["Location"].split("/")[-1].split("?")[0])
    one = f"{LIST}/{announcement_id}"

    token = await as_officer(console, "ketut")
    assert (await post(console, one + "/approve", token)).status == 303
    detail = await text_of(console, one)
    assert 'id="pause"' in detail and 'id="cancel"' in detail
    assert (await post(console, one + "/resume", token)).status == 409  # not paused

    token = await as_officer(console, "made")
    for action in ("pause", "resume", "cancel"):
        refused = await post(console, f"{one}/{action}", token)
        assert refused.status == 403, action
    status = (await progress(console, announcement_id))["status"]
    assert status == "sending"

    token = await as_officer(console, "ketut")
    paused = await post(console, one + "/pause", token)
    assert paused.status == 303 and paused.headers["Location"].endswith("?ok=paused")
    assert (await progress(console, announcement_id))["status"] == "paused"
    assert 'id="resume"' in await text_of(console, one)
    assert (await post(console, one + "/resume", token)).status == 303
    assert (await progress(console, announcement_id))["status"] == "sending"
    assert (await post(console, one + "/cancel", token)).status == 303
    found = await progress(console, announcement_id)
    assert found["status"] == "cancelled" and found["status_label"] == "Dibatalkan"
    assert (await post(console, one + "/cancel", token)).status == 409
    sms.hold.set()

    actions = await console.audit_actions()
    for action in (
        "announcement_pause_refused",
        "announcement_resume_refused",
        "announcement_cancel_refused",
        "announcement_paused",
        "announcement_resumed",
        "announcement_cancelled",
    ):
        assert action in actions, action


async def test_without_a_session_every_announcement_route_is_refused(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, _sms, _wa = await open_hub(aiohttp_client, make_settings)
    await console.add_officer("made", "officer")
    token = await as_officer(console, "made")
    response = await post(console, LIST, token, text_id="Info", target="topics", topic="jadwal")
    one = response.headers["Location"].split("?")[0]
    console.client.session.cookie_jar.clear()
    before = await console.count(announcements)

    for path in (LIST, one):
        page = await console.client.get(path, allow_redirects=False)
        assert page.status == 303 and page.headers["Location"].startswith("/console/login?next=")
    for path in (LIST, one + "/approve", one + "/pause", one + "/resume", one + "/cancel"):
        sent = await console.client.post(
            path, data={"text_id": "x", "topic": "jadwal"}, allow_redirects=False
        )
        assert sent.status == 303 and sent.headers["Location"] == "/console/login", path
    api = await console.client.get(
        "/console/api/announcements/" + one.rsplit("/", 1)[1] + "/progress"
    )
    assert api.status == 401
    assert await console.count(announcements) == before
    record = await console.hub.announcements.get(int(one.rsplit("/", 1)[1]))
    assert record is not None and record.status == "draft"


async def test_a_post_without_csrf_and_an_unknown_announcement_are_refused(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console, _sms, _wa = await open_hub(aiohttp_client, make_settings)
    await console.add_officer("ketut", "supervisor")
    token = await as_officer(console, "ketut")
    response = await post(console, LIST, token, text_id="Info", target="topics", topic="jadwal")
    one = response.headers["Location"].split("?")[0]
    forged = await console.client.post(one + "/approve", allow_redirects=False)
    assert forged.status == 403
    record = await console.hub.announcements.get(int(one.rsplit("/", 1)[1]))
    assert record is not None and record.status == "draft"
    await text_of(console, LIST + "/999999", expect=404)
    await text_of(console, LIST + "/abc", expect=404)
    missing = await console.client.get("/console/api/announcements/999999/progress")
    assert missing.status == 404
