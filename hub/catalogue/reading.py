"""The service catalogue: what each counter of the mall offers, read from services.yaml.

One typed view of the file, so dialogs and the NLU assembly never dig through raw
YAML; a malformed file fails at start-up with the service and field at fault,
not later in a conversation.

The sourced fields stay as the research wrote them (Indonesian, mostly); a record's
``translations`` block holds them in other languages (``en``, and ``id`` where the
research wrote English). Citizens read a service, an agency or the mall through
``wording(locale)``: their language's translation field by field, else the sourced text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub.resources import default_catalogue_path

_QUEUE_PREFIX = re.compile(r"[A-Z]{1,2}")

YAML_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
"""libyaml's safe loader where PyYAML was built with it: services.yaml is read at every
start and reload, about ten times faster than the pure-Python ``SafeLoader`` it falls
back to. Both build the same document."""


class CatalogueError(ValueError):
    """services.yaml is missing or malformed; the message names the file and the place."""


LOCALES = ("id", "en")
"""The languages a ``translations`` block may hold."""


@dataclass(frozen=True, slots=True)
class AgencyWording:
    """An agency's name as a citizen reads it in one language."""

    name: str
    short: str


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    name: str
    in_mpp_badung: str = ""
    short: str = ""
    """What citizens call it ("Disdukcapil"); the full ``name`` is too long for a list."""
    translations: dict[str, AgencyWording] = field(default_factory=dict)
    """``translations`` by locale: ``name``/``short`` in that language; empty is missing."""

    def wording(self, locale: str) -> AgencyWording:
        """Name and short name in ``locale``, each falling back to the sourced one."""
        own = self.translations.get(locale)
        name = (own.name if own else "") or self.name
        short = (own.short if own else "") or self.short or name
        return AgencyWording(name=name, short=short)


@dataclass(frozen=True, slots=True)
class Translation:
    """One language of a service's ``translations``: the sourced fields in that language.

    ``None`` (or an empty ``hours``) means not translated: the sourced text is shown.
    """

    counter: str | None = None
    requirements: tuple[str, ...] | None = None
    fee: str | None = None
    completion_time: str | None = None
    hours: dict[str, str] = field(default_factory=dict)
    """Only the days whose sourced value is words ("closed (...)"), not hours."""


@dataclass(frozen=True, slots=True)
class ServiceWording:
    """Everything a citizen reads about a service, in one language."""

    name: str
    short: str
    counter: str
    requirements: tuple[str, ...]
    fee: str
    completion_time: str
    hours: dict[str, str]


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name_id: str
    name_en: str
    agency: str
    counter: str
    requirements: list[str]
    fee: str
    duration_minutes: int
    daily_quota: int
    hours: dict[str, str]
    synonyms: list[str]
    completion_time: str = ""
    sources: list[str] = field(default_factory=list)
    source_notes: str = ""
    queue_prefix: str = ""
    """The letter of this service's queue numbers ("A" in "A-012"); unique per service."""
    short_id: str = ""
    short_en: str = ""
    """Names short enough for a button or an SMS menu; empty means use the full name."""
    translations: dict[str, Translation] = field(default_factory=dict)
    """``translations`` by locale."""

    def wording(self, locale: str) -> ServiceWording:
        """What a citizen writing ``locale`` reads: its block's fields, else the sourced ones."""
        own = self.translations.get(locale) or Translation()
        english = locale == "en"
        name = self.name_en if english else self.name_id
        short = (self.short_en if english else self.short_id) or name
        return ServiceWording(
            name=name,
            short=short,
            counter=own.counter or self.counter,
            requirements=own.requirements or tuple(self.requirements),
            fee=own.fee or self.fee,
            completion_time=own.completion_time or self.completion_time,
            hours={**self.hours, **own.hours},
        )


@dataclass(frozen=True, slots=True)
class MallWording:
    """The mall as a citizen reads it in one language."""

    name: str
    address: str
    parking: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    services: dict[str, Service]
    agencies: dict[str, Agency]
    mall: dict[str, Any] = field(default_factory=dict)
    holidays: list[dict[str, Any]] = field(default_factory=list)

    def get(self, service_id: str) -> Service | None:
        return self.services.get(service_id)

    def popular(self, limit: int) -> list[Service]:
        """The services offered first when a citizen has not named one.

        ``mall.popular_services`` in services.yaml, else the catalogue's order.
        """
        ids = self.mall.get("popular_services") or list(self.services)
        return [self.services[i] for i in ids if i in self.services][:limit]

    def mall_wording(self, locale: str) -> MallWording:
        """The mall's name, address and parking note in ``locale`` (sourced text if missing)."""
        english = locale == "en"
        location = self.mall.get("location")
        address = str(location.get("text", "")) if isinstance(location, dict) else ""
        own = _block(self.mall, locale)
        if isinstance(own, dict) and isinstance(own.get("location"), str):
            address = own["location"]
        parking = self.mall.get("parking")
        parking_text = ""
        if isinstance(parking, dict):
            parking_text = str(parking.get("text_en" if english else "text_id") or "")
            parking_text = parking_text or str(parking.get("text_id") or "")
        return MallWording(
            name=str(self.mall.get("name_en" if english else "name_id") or "")
            or str(self.mall.get("name_id") or ""),
            address=address.strip(),
            parking=parking_text.strip(),
        )

    def synonyms(self) -> dict[str, list[str]]:
        """Service id -> every name a citizen may use: what ``hub.nlu`` matches."""
        return {s.id: [s.name_id, s.name_en, *s.synonyms] for s in self.services.values()}


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check ``path`` (default: :func:`default_catalogue_path`)."""
    path = path or default_catalogue_path()
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: expected a mapping with 'services' and 'agencies'")
    agencies = _agencies(path, document.get("agencies"))
    raw_services = document.get("services")
    if not isinstance(raw_services, list) or not raw_services:
        raise CatalogueError(f"{path}: 'services' must be a non-empty list")
    services: dict[str, Service] = {}
    prefixes: dict[str, str] = {}
    for index, raw in enumerate(raw_services):
        service = _service(path, index, raw)
        if service.id in services:
            raise CatalogueError(f"{path}: service {service.id!r} is listed twice")
        if service.queue_prefix:
            other = prefixes.setdefault(service.queue_prefix, service.id)
            if other != service.id:
                raise CatalogueError(
                    f"{path}: service {service.id!r}: queue_prefix "
                    f"{service.queue_prefix!r} is already used by {other!r}"
                )
        if service.agency not in agencies:
            raise CatalogueError(
                f"{path}: service {service.id!r}: unknown agency {service.agency!r}"
            )
        services[service.id] = service
    mall = document.get("mall") or {}
    holidays = (document.get("holidays_2026_bali") or {}).get("dates") or []
    if not isinstance(mall, dict) or not isinstance(holidays, list):
        raise CatalogueError(f"{path}: 'mall' must be a mapping, holiday 'dates' a list")
    popular = mall.get("popular_services", [])
    if not isinstance(popular, list) or not all(p in services for p in popular):
        raise CatalogueError(f"{path}: mall 'popular_services' must list known service ids")
    _check_translations(f"{path}: mall", mall)
    for locale in LOCALES:
        block = _block(mall, locale)
        if block is not None and (
            not isinstance(block, dict)
            or set(block) - {"location"}
            or not all(isinstance(v, str) and v.strip() for v in block.values())
        ):
            raise CatalogueError(
                f"{path}: mall translations {locale!r} may only hold a 'location' text"
            )
    return Catalogue(
        services=services,
        agencies=agencies,
        mall=mall,
        holidays=[h for h in holidays if isinstance(h, dict)],
    )


# Research notes in the data ("(placeholder: A1-A4)", "(typical, unverified)") are for the
# people who maintain services.yaml, not for citizens: they are dropped when the file is read.
_NOTES = (
    re.compile(r"\s*:\s*typical, unverified", re.IGNORECASE),
    re.compile(r"\s*\((?:placeholder|typical|unverified)\b[^()]*\)", re.IGNORECASE),
    re.compile(r"\s*\([^()]*\bunverified\)", re.IGNORECASE),
    re.compile(r"\s*;\s*Badung unverified", re.IGNORECASE),
)


def citizen_text(value: str) -> str:
    """``value`` without the maintainers' research notes."""
    for pattern in _NOTES:
        value = pattern.sub("", value)
    return value.strip()


def _agencies(path: Path, raw: object) -> dict[str, Agency]:
    if not isinstance(raw, dict) or not raw:
        raise CatalogueError(f"{path}: 'agencies' must be a non-empty mapping")
    agencies: dict[str, Agency] = {}
    for slug, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise CatalogueError(f"{path}: agency {slug!r} needs a 'name'")
        _check_translations(f"{path}: agency {slug!r}", value)
        translations: dict[str, AgencyWording] = {}
        for locale in LOCALES:
            block = _block(value, locale)
            if block is None:
                continue
            if (
                not isinstance(block, dict)
                or set(block) - {"name", "short"}
                or not all(isinstance(v, str) and v.strip() for v in block.values())
            ):
                raise CatalogueError(
                    f"{path}: agency {slug!r}: translations {locale!r} may only hold "
                    "'name' and 'short' texts"
                )
            translations[locale] = AgencyWording(
                name=citizen_text(block.get("name", "")), short=block.get("short", "").strip()
            )
        agencies[str(slug)] = Agency(
            str(slug),
            citizen_text(value["name"]),
            str(value.get("in_mpp_badung", "")),
            short=str(value.get("short", "")),
            translations=translations,
        )
    return agencies


_TRANSLATED = frozenset({"counter", "requirements", "fee", "completion_time", "hours"})
"""The sourced service fields a translation may give in another language."""


def _block(record: dict[str, Any], locale: str) -> object:
    """``record["translations"][locale]``, or None; a malformed ``translations`` is None
    here and an error where the record is checked."""
    translations = record.get("translations")
    return translations.get(locale) if isinstance(translations, dict) else None


def _check_translations(where: str, record: dict[str, Any]) -> None:
    """``translations``, when present, maps known locales to mappings."""
    translations = record.get("translations")
    if translations is None:
        return
    if (
        not isinstance(translations, dict)
        or not set(translations) <= set(LOCALES)
        or not all(isinstance(block, dict) and block for block in translations.values())
    ):
        raise CatalogueError(
            f"{where}: 'translations' must map {' or '.join(LOCALES)} to translated fields"
        )


def _translation(where: str, locale: str, raw: dict[str, Any]) -> Translation | None:
    """Read one language of ``raw``'s translations: every text it translates must exist in
    the record, and a translated list has as many items as the sourced one, in order."""
    block = _block(raw, locale)
    if block is None:
        return None
    at = f"{where}: translations {locale!r}"
    assert isinstance(block, dict)  # _check_translations ran first
    unknown = sorted(set(block) - _TRANSLATED)
    if unknown:
        raise CatalogueError(f"{at}: cannot translate {', '.join(unknown)}")
    texts: dict[str, str] = {}
    for key in ("counter", "fee", "completion_time"):
        if key not in block:
            continue
        value = block[key]
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{at}: {key!r} must be a non-empty string")
        if not str(raw.get(key) or "").strip():
            raise CatalogueError(f"{at}: {key!r} translates nothing (no sourced {key!r})")
        texts[key] = citizen_text(value)
    requirements: tuple[str, ...] | None = None
    if "requirements" in block:
        value = block["requirements"]
        sourced = raw.get("requirements")
        count = len(sourced) if isinstance(sourced, list) else 1
        if (
            not isinstance(value, list)
            or len(value) != count
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise CatalogueError(
                f"{at}: 'requirements' must list {count} texts, one per sourced requirement"
            )
        requirements = tuple(citizen_text(v) for v in value)
    hours: dict[str, str] = {}
    if "hours" in block:
        value = block["hours"]
        sourced_hours = raw.get("hours")
        if (
            not isinstance(value, dict)
            or not isinstance(sourced_hours, dict)
            or not set(value) <= set(sourced_hours)
            or not all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            raise CatalogueError(f"{at}: 'hours' must translate days of the sourced 'hours'")
        hours = {str(k): str(v) for k, v in value.items()}
    return Translation(
        counter=texts.get("counter"),
        requirements=requirements,
        fee=texts.get("fee"),
        completion_time=texts.get("completion_time"),
        hours=hours,
    )


def _service(path: Path, index: int, raw: object) -> Service:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: services[{index}] is not a mapping")
    where = f"{path}: service {raw.get('id', f'#{index}')!r}"

    def text(key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{where}: {key!r} must be a non-empty string")
        return value

    def number(key: str) -> int:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise CatalogueError(f"{where}: {key!r} must be a positive whole number")
        return value

    def strings(key: str, *, required: bool) -> list[str]:
        value = raw.get(key)
        if value is None and not required:
            return []
        if isinstance(value, str) and not required:
            return [value]
        if (
            not isinstance(value, list)
            or (required and not value)
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise CatalogueError(f"{where}: {key!r} must be a non-empty list of strings")
        return list(value)

    hours = raw.get("hours")
    if not isinstance(hours, dict) or not hours:
        raise CatalogueError(f"{where}: 'hours' must be a mapping of days to hours")
    prefix = raw.get("queue_prefix", "")
    if not isinstance(prefix, str) or (prefix and not _QUEUE_PREFIX.fullmatch(prefix)):
        raise CatalogueError(f"{where}: 'queue_prefix' must be one or two capital letters")
    _check_translations(where, raw)
    return Service(
        id=text("id"),
        name_id=text("name_id"),
        name_en=text("name_en"),
        agency=text("agency"),
        counter=citizen_text(text("counter")),
        requirements=[citizen_text(r) for r in strings("requirements", required=True)],
        fee=citizen_text(text("fee")),
        duration_minutes=number("duration_minutes"),
        daily_quota=number("daily_quota"),
        hours={str(k): str(v) for k, v in hours.items()},
        synonyms=strings("synonyms", required=True),
        completion_time=citizen_text(str(raw.get("completion_time", ""))),
        sources=strings("source", required=False),
        source_notes=str(raw.get("source_notes", "")).strip(),
        queue_prefix=prefix,
        short_id=str(raw.get("short_id", "")),
        short_en=str(raw.get("short_en", "")),
        translations={
            locale: found
            for locale in LOCALES
            if (found := _translation(where, locale, raw)) is not None
        },
    )
