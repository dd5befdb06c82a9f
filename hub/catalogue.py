"""The service catalogue: what each counter of the mall offers, read from services.yaml.

One typed view of the file, so dialogs and the NLU assembly never dig through raw
YAML; a malformed file fails at start-up with the service and field at fault,
not later in a conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_QUEUE_PREFIX = re.compile(r"[A-Z]{1,2}")


class CatalogueError(ValueError):
    """services.yaml is missing or malformed; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    name: str
    in_mpp_badung: str = ""
    short: str = ""
    """What citizens call it ("Disdukcapil"); the full ``name`` is too long for a list."""


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

    def synonyms(self) -> dict[str, list[str]]:
        """Service id -> every name a citizen may use: what ``hub.nlu`` matches."""
        return {s.id: [s.name_id, s.name_en, *s.synonyms] for s in self.services.values()}


def default_catalogue_path() -> Path:
    """``hub/_data/services.yaml`` inside a wheel, else the repository's ``services.yaml``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / "services.yaml", package.parent / "services.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("services.yaml not found next to the hub package")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check ``path`` (default: :func:`default_catalogue_path`)."""
    path = path or default_catalogue_path()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        agencies[str(slug)] = Agency(
            str(slug),
            citizen_text(value["name"]),
            str(value.get("in_mpp_badung", "")),
            short=str(value.get("short", "")),
        )
    return agencies


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
    )
