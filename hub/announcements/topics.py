"""The topics a citizen may subscribe to: those of the config and, by default, one per
agency of the catalogue (its id: ``imigrasi``, ``disdukcapil``), so a new agency in
services.yaml is a topic without touching the config."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.catalogue import Catalogue
from hub.config import AnnouncementsConfig

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    name_id: str
    name_en: str
    keywords: tuple[str, ...] = ()
    agency: str | None = None
    """The agency this topic follows; None for the mall's own topics."""

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_id


def all_topics(config: AnnouncementsConfig, catalogue: Catalogue) -> list[Topic]:
    """The configured topics first, then one per agency (unless a topic has its id)."""
    topics = [
        Topic(t.id, t.name_id, t.name_en or t.name_id, tuple(k.lower() for k in t.keywords))
        for t in config.topics
    ]
    if config.agency_topics:
        taken = {t.id for t in topics}
        for agency in catalogue.agencies.values():
            if agency.id in taken:
                continue
            own, english = agency.wording("id"), agency.wording("en")
            words = {agency.id.lower(), own.short.lower(), english.short.lower()}
            topics.append(
                Topic(
                    agency.id,
                    own.short or own.name,
                    english.short or english.name,
                    tuple(sorted(w for w in words if w)),
                    agency=agency.id,
                )
            )
    return topics


def find_topics(text: str, topics: list[Topic]) -> list[Topic]:
    """The topics ``text`` names, by id or keyword (whole words, any case), in list order."""
    words = " ".join(_WORD.findall(text.lower()))
    padded = f" {words} "
    found: list[Topic] = []
    for topic in topics:
        names = (topic.id.replace("_", " "), *topic.keywords)
        for name in names:
            phrase = " ".join(_WORD.findall(name.lower()))
            if phrase and f" {phrase} " in padded:
                found.append(topic)
                break
    return found
