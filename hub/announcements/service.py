"""Announcements: drafted, approved, scheduled, sent, paused and cancelled.

Who may draft or approve is decided where the request comes in (the console's roles,
the API's scopes); this service keeps the rules of the thing itself: a draft has a
text and an audience, only a draft is approved, a scheduled one starts once (the
conditional status change is the claim, so every hub process may look for due ones),
and the audience is drawn in the same transaction that starts the sending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.announcements.subscribing import Subscriptions
from hub.catalogue import Catalogue, CurrentCatalogue, current
from hub.model import utcnow
from hub.store import Database
from hub.store import announcements as store
from hub.store.announcements import AnnouncementRecord

MAX_TEXT = 1600
"""Longest text a draft may hold: ten SMS segments' worth, a screen of WhatsApp."""


class AnnouncementError(ValueError):
    """A draft or a status change the rules refuse; the message says why."""


@dataclass(frozen=True, slots=True)
class Audience:
    """A targeted notice: everyone booked for ``service`` (or any service of
    ``agency``) on ``day``."""

    day: date
    service: str | None = None
    agency: str | None = None

    def as_json(self) -> dict[str, str]:
        found = {"date": self.day.isoformat()}
        if self.service:
            found["service"] = self.service
        if self.agency:
            found["agency"] = self.agency
        return found

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Audience:
        return cls(date.fromisoformat(data["date"]), data.get("service"), data.get("agency"))


class Announcements:
    def __init__(
        self,
        db: Database,
        subscriptions: Subscriptions,
        catalogue: Catalogue | CurrentCatalogue,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.subscriptions = subscriptions
        self.catalogues = current(catalogue)
        self.clock = clock

    # --- drafting ---------------------------------------------------------------------

    def _check(
        self, topics: Sequence[str], audience: Audience | None, text_id: str, text_en: str
    ) -> None:
        if bool(topics) == (audience is not None):
            raise AnnouncementError("give either topics or a targeted audience")
        known = {t.id for t in self.subscriptions.topics()}
        unknown = [t for t in topics if t not in known]
        if unknown:
            raise AnnouncementError(f"unknown topic(s): {', '.join(unknown)}")
        if audience is not None:
            catalogue = self.catalogues.catalogue
            if bool(audience.service) == bool(audience.agency):
                raise AnnouncementError("a targeted audience names a service or an agency")
            if audience.service and catalogue.get(audience.service) is None:
                raise AnnouncementError(f"unknown service: {audience.service}")
            if audience.agency and audience.agency not in catalogue.agencies:
                raise AnnouncementError(f"unknown agency: {audience.agency}")
        if not text_id.strip():
            raise AnnouncementError("the Indonesian text is required")
        for text in (text_id, text_en):
            if len(text) > MAX_TEXT:
                raise AnnouncementError(f"a text is longer than {MAX_TEXT} characters")

    async def draft(
        self,
        *,
        text_id: str,
        text_en: str = "",
        topics: Sequence[str] = (),
        audience: Audience | None = None,
        title: str = "",
        send_at: datetime | None = None,
        created_by: str,
    ) -> AnnouncementRecord:
        """A new draft, checked; nothing is sent before it is approved."""
        topics = list(dict.fromkeys(topics))
        self._check(topics, audience, text_id, text_en)
        if send_at is not None and send_at.tzinfo is None:
            raise AnnouncementError("send_at needs a time zone")
        now = self.clock()
        async with self.db.begin() as conn:
            new_id = await store.insert(
                conn,
                topics=topics,
                audience=audience.as_json() if audience else None,
                title=title.strip(),
                text_id=text_id.strip(),
                text_en=text_en.strip(),
                send_at=send_at,
                created_by=created_by,
                at=now,
            )
            found = await store.get(conn, new_id)
        assert found is not None
        return found

    # --- status changes ---------------------------------------------------------------

    async def approve(self, announcement_id: int, by: str) -> AnnouncementRecord:
        """Approve a draft: it starts now, or is scheduled when ``send_at`` is ahead."""
        now = self.clock()
        async with self.db.begin() as conn:
            found = await store.get(conn, announcement_id)
            if found is None:
                raise LookupError(announcement_id)
            if found.status != store.DRAFT:
                raise AnnouncementError(
                    f"only a draft can be approved (this one is {found.status})"
                )
            stamp = {"approved_by": by, "approved_at": now}
            if found.send_at is not None and found.send_at > now:
                moved = await store.move(
                    conn, announcement_id, [store.DRAFT], store.SCHEDULED, now, **stamp
                )
            else:
                moved = await self._start(conn, found, [store.DRAFT], now, **stamp)
            if not moved:
                raise AnnouncementError("it was changed meanwhile; look again")
            updated = await store.get(conn, announcement_id)
        assert updated is not None
        return updated

    async def start_due(self) -> list[int]:
        """Start every scheduled announcement whose time has come; each starts once however
        many processes call this (the status change is the claim)."""
        now = self.clock()
        started: list[int] = []
        async with self.db.engine.connect() as conn:
            due = await store.due_scheduled(conn, now)
        for announcement_id in due:
            async with self.db.begin() as conn:
                found = await store.get(conn, announcement_id)
                if found is not None and await self._start(conn, found, [store.SCHEDULED], now):
                    started.append(announcement_id)
        return started

    async def _start(
        self,
        conn: AsyncConnection,
        found: AnnouncementRecord,
        from_status: list[str],
        now: datetime,
        **values: object,
    ) -> bool:
        if not await store.move(
            conn, found.id, from_status, store.SENDING, now, started_at=now, **values
        ):
            return False
        if found.audience:
            audience = Audience.from_json(found.audience)
            routes = store.booked_routes(self.services_of(audience), audience.day)
        else:
            routes = store.subscriber_routes(found.topics)
        count = await store.draw(self.db, conn, found.id, routes, now)
        await store.move(conn, found.id, [store.SENDING], store.SENDING, now, recipients=count)
        return True

    def services_of(self, audience: Audience) -> list[str]:
        """The services a targeted audience covers: its service, or its agency's."""
        if audience.service:
            return [audience.service]
        return [
            s.id for s in self.catalogues.catalogue.services.values() if s.agency == audience.agency
        ]

    async def pause(self, announcement_id: int) -> bool:
        async with self.db.begin() as conn:
            return await store.move(
                conn, announcement_id, [store.SENDING], store.PAUSED, self.clock()
            )

    async def resume(self, announcement_id: int) -> bool:
        async with self.db.begin() as conn:
            return await store.move(
                conn, announcement_id, [store.PAUSED], store.SENDING, self.clock()
            )

    async def cancel(self, announcement_id: int) -> bool:
        """Stop it for good; what already left stays sent, the rest is taken back."""
        now = self.clock()
        async with self.db.begin() as conn:
            moved = await store.move(
                conn,
                announcement_id,
                [store.DRAFT, store.SCHEDULED, store.SENDING, store.PAUSED],
                store.CANCELLED,
                now,
                finished_at=now,
            )
            if moved:
                await store.cancel_remaining(conn, announcement_id, now)
            return moved

    async def finish_if_done(self, announcement_id: int) -> bool:
        """Mark a sending announcement sent once every message of it has left."""
        now = self.clock()
        async with self.db.begin() as conn:
            if await store.unsent(conn, announcement_id):
                return False
            return await store.move(
                conn, announcement_id, [store.SENDING], store.SENT, now, finished_at=now
            )

    # --- reading ----------------------------------------------------------------------

    async def get(self, announcement_id: int) -> AnnouncementRecord | None:
        async with self.db.engine.connect() as conn:
            return await store.get(conn, announcement_id)

    async def recent(self, limit: int = 50) -> list[AnnouncementRecord]:
        async with self.db.engine.connect() as conn:
            return await store.recent(conn, limit)

    async def sending(self) -> list[AnnouncementRecord]:
        async with self.db.engine.connect() as conn:
            return await store.with_status(conn, store.SENDING)

    async def progress(self, announcement_id: int) -> dict[str, int]:
        async with self.db.engine.connect() as conn:
            return await store.progress(conn, announcement_id)
