"""Service information: requirements, fees, hours and where to go, from the catalogue.

Every fact comes from services.yaml (through :class:`hub.catalogue.Catalogue`), so
an officer edits that file and reloads instead of waiting for a release. The flow
only picks facts and a template; the wording lives in ``templates/replies``.

Without a named service, the mall itself answers hours and location, "what is
there" lists the agencies, and requirements or fees ask which service was meant:
the question is remembered in the dialog state (``awaiting``) so that the next
message naming a service ("paspor") completes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from hub.catalogue import Catalogue, Service
from hub.model import Choice, Reply
from hub.nlu.language import is_sentence
from hub.nlu.results import Parse

INFO_INTENTS = ("ask_service_info", "ask_requirements", "ask_fee", "ask_hours", "ask_location")
"""The intents this flow answers."""

AWAITING = "awaiting"
"""Dialog-state key of a question waiting for its service: ``{"intent", "slot"}``."""

VISA_WORDS = re.compile(r"\b(?:visa|voa|kitas|kitap|izin tinggal|stay permit|overstay)\b")
"""An out-of-scope question about foreigners' stay: told where it is handled (Imigrasi)."""

TOPIC = "topic"
"""Dialog-state key of the service the citizen just asked about (``{"service", "turn"}``):
a booking asked for right after ("ok bisa antri jumat pagi?") is for that service."""

TOPIC_TURNS = 3
"""How many turns later a booking still means the service asked about."""


def topic_of(state: dict[str, Any]) -> str | None:
    """The id of the service asked about within the last :data:`TOPIC_TURNS` turns."""
    topic = state.get(TOPIC)
    if not isinstance(topic, dict):
        return None
    if int(state.get("turns", 0)) - int(topic.get("turn", 0)) > TOPIC_TURNS:
        return None
    return str(topic.get("service") or "") or None


MAX_SERVICE_CHOICES = 8
"""Telegram shows at most 8 buttons here; an SMS menu of 8 short names is ~2 segments."""

MAX_SERVICES_ANSWERED = 3
"""An information question naming several services ("syarat ktp sama kk") is answered
for each, up to this many."""

SWITCH_CONFIDENCE = 0.8
"""How sure the NLU must be that a reply to "which service?" asks something else instead."""

TEMPLATE_OF = {
    "ask_service_info": "info_service",
    "ask_requirements": "info_requirements",
    "ask_fee": "info_fee",
    "ask_hours": "info_hours",
    "ask_location": "info_location",
}

SHORTCUTS = {
    "ask_service_info": ("ask_requirements", "ask_location"),
    "ask_requirements": ("ask_fee", "ask_location"),
    "ask_fee": ("ask_requirements", "ask_location"),
    "ask_hours": ("ask_requirements", "ask_location"),
    "ask_location": ("ask_requirements", "ask_hours"),
}
"""After an answer, the two other questions most likely to follow about the same service.

Three choices in all, so WhatsApp shows reply buttons rather than a list."""

DAY_ORDER = ("mon_fri", "mon_thu", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
COVERS = {
    "mon_fri": {"mon", "tue", "wed", "thu", "fri"},
    "mon_thu": {"mon", "tue", "wed", "thu"},
}
"""Days a grouped key of an ``hours`` mapping stands for; any other key stands for itself."""

NOT_DAYS = frozenset({"timezone", "source", "note", "notes"})
"""Keys of the mall's ``default_hours`` that are not opening hours."""

BRIEF_LENGTH = 55
"""Requirements longer than this lose their remarks in brackets in the brief (SMS) list."""

_REMARK = re.compile(r"\s*\([^()]*\)")


def payload(intent: str, service_id: str | None = None) -> str:
    """A choice payload in Rasa's style: ``/ask_fee{"service": "paspor"}``."""
    if service_id is None:
        return f"/{intent}"
    return f"/{intent}{json.dumps({'service': service_id})}"


def opening_hours(own: Mapping[str, Any], default: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Opening hours as ordered lines for a template.

    A service's own hours win; days it does not mention (Sunday, usually) come
    from the mall's default hours, so a missing day never reads as "open".
    A closed Saturday and Sunday become one ``sat_sun`` line.
    """
    days = {str(k): str(v) for k, v in own.items() if str(k) not in NOT_DAYS}
    covered = set().union(*(COVERS.get(k, {k}) for k in days))
    for key, value in default.items():
        key = str(key)
        if key not in NOT_DAYS and not COVERS.get(key, {key}) & covered:
            days[key] = str(value)
            covered |= COVERS.get(key, {key})
    order = {key: index for index, key in enumerate(DAY_ORDER)}
    lines = [_hours_line(key, value) for key, value in days.items()]
    lines.sort(key=lambda line: order.get(line["days"], len(order)))
    weekend = [line for line in lines if line["days"] in ("sat", "sun")]
    if len(weekend) == 2 and all(line["closed"] and not line["note"] for line in weekend):
        lines = [line for line in lines if line not in weekend]
        lines.append({"days": "sat_sun", "hours": "", "closed": True, "note": ""})
    return lines


def _hours_line(key: str, value: str) -> dict[str, Any]:
    text = value.strip()
    lowered = text.lower()
    for word in ("closed", "tutup", "libur"):
        if lowered.startswith(word):
            note = text[len(word) :].strip().strip("()").strip()
            return {"days": key, "hours": "", "closed": True, "note": note}
    return {"days": key, "hours": text, "closed": False, "note": ""}


class InfoFlow:
    """Answers the five information intents from one catalogue (swapped on reload)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def service_in(self, understanding: Parse) -> Service | None:
        """The first service the message names that the catalogue knows."""
        for entity in understanding.entities:
            if entity.type == "service":
                found = self.catalogue.get(entity.value)
                if found is not None:
                    return found
        return None

    def services_in(self, understanding: Parse) -> list[Service]:
        """Every distinct service the message names that the catalogue knows, in order."""
        found: list[Service] = []
        for entity in understanding.entities:
            service = self.catalogue.get(entity.value) if entity.type == "service" else None
            if service is not None and service not in found:
                found.append(service)
        return found

    def about_several(self, understanding: Parse, locale: str) -> list[Reply] | None:
        """One answer per service when an information question names several of them
        ("info ktp sama kk"); None when it names one or none (:meth:`answer` then)."""
        intent = understanding.intent.name
        services = self.services_in(understanding)
        if intent not in INFO_INTENTS or len(services) < 2:
            return None
        return [self._about(intent, s, locale) for s in services[:MAX_SERVICES_ANSWERED]]

    def resume(
        self, understanding: Parse, state: dict[str, Any], locale: str
    ) -> list[Reply] | None:
        """Complete a pending "which service?" question, or clear it and return None.

        Any message naming a service completes it, whatever its intent: a bare
        "paspor" is often not classified as a question at all. Two exceptions:
        a pressed button says exactly what it means, and a confident different
        question about the service ("syarat paspor" while asked about fees) wins.
        """
        awaiting = state.get(AWAITING)
        if not isinstance(awaiting, dict) or awaiting.get("intent") not in INFO_INTENTS:
            return None
        del state[AWAITING]
        service = self.service_in(understanding)
        if service is None or understanding.engine == "choice":
            return None
        intent = str(awaiting["intent"])
        asked = understanding.intent
        if (
            asked.name in INFO_INTENTS
            and asked.name != "ask_service_info"
            and asked.confidence >= SWITCH_CONFIDENCE
        ):
            intent = asked.name
        return self.answer(intent, service, state, locale)

    def answer(
        self, intent: str, service: Service | None, state: dict[str, Any], locale: str
    ) -> list[Reply]:
        """The reply to one information intent, with the next steps as choices."""
        if service is not None:
            state[TOPIC] = {"service": service.id, "turn": int(state.get("turns", 0))}
            return [self._about(intent, service, locale)]
        if intent == "ask_hours":
            return [self._mall_hours(locale)]
        if intent == "ask_location":
            return [self._mall_location(locale)]
        state[AWAITING] = {"intent": intent, "slot": "service"}
        if intent == "ask_service_info":
            return [self._offer(locale)]
        return [
            Reply(
                "ask_which_service",
                {"intent": intent, "examples": self._examples(locale)},
                choices=self._service_choices(intent, locale),
            )
        ]

    def _about(self, intent: str, service: Service, locale: str) -> Reply:
        choices = [Choice("@intent.book_queue", payload("book_queue", service.id))]
        choices += [
            Choice(f"@intent.{other}", payload(other, service.id)) for other in SHORTCUTS[intent]
        ]
        context = {"service": self._service(service, locale), "mall": self._mall(locale)}
        return Reply(TEMPLATE_OF[intent], context, choices=tuple(choices))

    def out_of_scope(self, understanding: Parse) -> list[Reply] | None:
        """A real question about something the mall does not do (visas, weather, tourism,
        other offices) is told so; a random string is not: it stays "not understood"."""
        intent = understanding.intent
        if intent.name != "out_of_scope":
            return None
        words = len(understanding.text.split())
        if not is_sentence(understanding.text) and not (intent.confidence >= 0.8 and words >= 3):
            return None  # "asdfgh": not understood, rather than a question about elsewhere
        visa = VISA_WORDS.search(understanding.text.lower()) is not None
        return [Reply("out_of_scope", {"visa": visa})]

    def _mall_hours(self, locale: str) -> Reply:
        return Reply(
            "info_mall_hours",
            {"mall": self._mall(locale)},
            choices=(
                Choice("@intent.book_queue", payload("book_queue")),
                Choice("@intent.ask_location", payload("ask_location")),
                Choice("@intent.ask_service_info", payload("ask_service_info")),
            ),
        )

    def _mall_location(self, locale: str) -> Reply:
        return Reply(
            "info_mall_location",
            {"mall": self._mall(locale)},
            choices=(
                Choice("@intent.book_queue", payload("book_queue")),
                Choice("@intent.ask_hours", payload("ask_hours")),
                Choice("@intent.ask_service_info", payload("ask_service_info")),
            ),
        )

    def _offer(self, locale: str) -> Reply:
        agencies: list[str] = []
        for service in self.catalogue.services.values():
            name = agency_name(self.catalogue, service.agency, locale)
            if name not in agencies:
                agencies.append(name)
        return Reply(
            "info_offer",
            {
                "mall": self._mall(locale),
                "agencies": agencies,
                "examples": self._examples(locale),
            },
            choices=self._service_choices("ask_service_info", locale),
        )

    def _service_choices(self, intent: str, locale: str) -> tuple[Choice, ...]:
        return tuple(
            Choice(short_name(service, locale), payload(intent, service.id))
            for service in self.catalogue.popular(MAX_SERVICE_CHOICES)
        )

    def _examples(self, locale: str) -> list[str]:
        return typed_names(self.catalogue, locale, 3)

    def _service(self, service: Service, locale: str) -> dict[str, Any]:
        words = service.wording(locale)
        agency = self.catalogue.agencies.get(service.agency)
        return {
            "id": service.id,
            "name": words.name,
            "short": words.short,
            "agency": agency.wording(locale).name if agency is not None else service.agency,
            "counter": words.counter,
            "requirements": list(words.requirements),
            "requirements_brief": [brief_requirement(item) for item in words.requirements],
            "fee": words.fee,
            "duration_minutes": service.duration_minutes,
            "completion_time": words.completion_time,
            "hours": opening_hours(words.hours, self._default_hours()),
        }

    def _default_hours(self) -> Mapping[str, Any]:
        hours = self.catalogue.mall.get("default_hours")
        return hours if isinstance(hours, Mapping) else {}

    def _mall(self, locale: str) -> dict[str, Any]:
        words = self.catalogue.mall_wording(locale)
        default = self._default_hours()
        return {
            "name": words.name,
            "address": words.address,
            "parking": words.parking,
            "hours": opening_hours({}, default),
            "timezone": str(default.get("timezone") or "WITA"),
        }


def brief_requirement(requirement: str) -> str:
    """A long requirement without its remarks in brackets: an SMS has no room for them."""
    if len(requirement) <= BRIEF_LENGTH:
        return requirement
    return _REMARK.sub("", requirement).strip() or requirement


def short_name(service: Service, locale: str) -> str:
    """A name short enough for a button (WhatsApp clips titles at 20-24 characters)."""
    return service.wording(locale).short


def agency_name(catalogue: Catalogue, agency_id: str, locale: str) -> str:
    """What citizens call an agency ("Disdukcapil", "Immigration"), for lists and summaries."""
    agency = catalogue.agencies.get(agency_id)
    return agency.wording(locale).short if agency is not None else agency_id


def typed_names(catalogue: Catalogue, locale: str, limit: int) -> list[str]:
    """Popular services as a citizen would type them, for "for example ..." hints.

    Indonesian speakers get what they write ("ktp", "kk"), unlike the buttons' names;
    English speakers get the English short names ("Passport")."""
    popular = catalogue.popular(limit)
    if locale == "en":
        return [short_name(s, locale) for s in popular]
    return [s.synonyms[0] if s.synonyms else short_name(s, locale) for s in popular]
