"""Subscribing and unsubscribing a citizen, each change a consent record.

A citizen who never opted in is never in a broadcast's audience: the audience of a
topic announcement is drawn from these subscriptions only. ``source`` says how the
consent was given or taken back (``chat``, ``sms_stop``, ``email_link``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from hub.announcements.topics import Topic, all_topics, find_topics
from hub.catalogue import Catalogue, CurrentCatalogue, current
from hub.config import AnnouncementsConfig
from hub.model import utcnow
from hub.store import Database
from hub.store import subscriptions as store
from hub.store.subscriptions import ConsentRecord


class Subscriptions:
    def __init__(
        self,
        db: Database,
        config: AnnouncementsConfig,
        catalogue: Catalogue | CurrentCatalogue,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.config = config
        self.catalogues = current(catalogue)
        self.clock = clock

    def topics(self) -> list[Topic]:
        """Every topic, the agencies of the catalogue in use included."""
        return all_topics(self.config, self.catalogues.catalogue)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics() if t.id == topic_id), None)

    def named_in(self, text: str) -> list[Topic]:
        """The topics the citizen's words name ("info imigrasi", "jadwal libur")."""
        return find_topics(text, self.topics())

    def _known(self, topic_ids: Iterable[str]) -> list[str]:
        known = {t.id for t in self.topics()}
        unknown = [t for t in topic_ids if t not in known]
        if unknown:
            raise ValueError(f"unknown topic(s): {', '.join(unknown)}")
        return list(dict.fromkeys(topic_ids))

    async def subscribe(
        self,
        contact_id: int,
        topic_ids: Iterable[str],
        *,
        channel: str,
        address: str,
        words: str,
        source: str = "chat",
    ) -> list[Topic]:
        """Subscribe; returns the topics that are new (consent recorded for all)."""
        ids = self._known(topic_ids)
        async with self.db.begin() as conn:
            added = await store.subscribe(
                self.db,
                conn,
                contact_id=contact_id,
                topics=ids,
                channel=channel,
                address=address,
                source=source,
                words=words,
                at=self.clock(),
            )
        return [t for t in self.topics() if t.id in added]

    async def unsubscribe(
        self,
        contact_id: int,
        topic_ids: Iterable[str] | None,
        *,
        channel: str,
        words: str,
        source: str = "chat",
    ) -> list[Topic]:
        """Unsubscribe from ``topic_ids``, or from everything with None (STOP); returns
        the topics that were held. A topic no longer configured is still removed."""
        async with self.db.begin() as conn:
            removed = await store.unsubscribe(
                conn,
                contact_id=contact_id,
                topics=None if topic_ids is None else list(topic_ids),
                channel=channel,
                source=source,
                words=words,
                at=self.clock(),
            )
        by_id = {t.id: t for t in self.topics()}
        return [by_id.get(t) or Topic(t, t, t) for t in removed]

    async def held(self, contact_id: int) -> list[Topic]:
        """The topics the citizen is subscribed to."""
        async with self.db.engine.connect() as conn:
            ids = await store.topics_of(conn, contact_id)
        by_id = {t.id: t for t in self.topics()}
        return [by_id.get(t) or Topic(t, t, t) for t in ids]

    async def consents(self, contact_id: int) -> list[ConsentRecord]:
        async with self.db.engine.connect() as conn:
            return await store.consent_history(conn, contact_id)

    async def subscriber_counts(self) -> dict[str, int]:
        async with self.db.engine.connect() as conn:
            return await store.subscriber_counts(conn)
