"""Every JSON body of ``/api/v1``, answered or accepted, defined once as a pydantic model.

The handlers build these and answer ``model_dump(mode="json")``; ``hub.api.openapi``
turns the same classes into the document's schemas, so what the server sends and
what the document promises cannot drift. A class's name is its schema's name in the
document (``ScopeError`` here is the 403 body, not ``hub.api.scopes.ScopeError``),
its docstring the schema's description, a field's docstring the field's.

Answers check their types when built; what the document adds about their values
(lengths, patterns, ranges, enums) is a promise about the hub's own data, kept in
the schema only (``documented``), so an odd stored value is never a 500. Request
bodies (``RequestShape``) are validated in full: their constraints are the refusals.
Dates are WITA calendar days, timestamps ISO 8601 in UTC.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict, JsonValue
from pydantic_core import ErrorDetails

from hub.announcements.service import MAX_TEXT
from hub.api.scopes import Scope
from hub.care.classify import ObjectKind, Priority
from hub.care.service import TicketKind
from hub.care.status import TicketStatus
from hub.store import announcements as announcement_store
from hub.store.bookings import BookingStatus

MAX_NOTE = 2000
"""The longest note a status change may carry."""
MAX_TITLE = 200
"""The longest title an announcement may have (its column's length)."""
ANNOUNCEMENT_STATUSES = (
    announcement_store.DRAFT,
    announcement_store.SCHEDULED,
    announcement_store.SENDING,
    announcement_store.PAUSED,
    announcement_store.SENT,
    announcement_store.CANCELLED,
)


def documented(**schema: Any) -> Any:
    """Schema keywords that describe a value without refusing it (see the module doc)."""
    return Field(json_schema_extra=schema)


def enum_of(kind: type[enum.StrEnum], *, description: str = "") -> WithJsonSchema:
    """The values of ``kind`` inline (no shared schema), so each field shows its choices."""
    schema: dict[str, Any] = {"type": "string", "enum": [k.value for k in kind]}
    if description:
        schema["description"] = description
    return WithJsonSchema(schema)


def utc_text(value: datetime) -> str:
    """An aware datetime as ISO 8601 in UTC with ``Z``: every timestamp of the API."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


Text = Annotated[str, documented(minLength=1)]
Count = Annotated[int, documented(minimum=0)]
Day = Annotated[date, Field(description="A WITA calendar day, YYYY-MM-DD.")]
UtcTime = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}),
]
Hhmm = Annotated[
    time,
    PlainSerializer(_hhmm, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}$", "examples": ["08:00"]}),
]
StatusName = Annotated[str, enum_of(TicketStatus)]
"""A ticket status in an answer (the stored text; the document lists the procedure's)."""


class Shape(BaseModel):
    """A JSON object of the API: no other fields; a field is always present unless its
    default is ``MISSING`` (then it is left out when not given)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --- errors -------------------------------------------------------------------------------------


class ErrorDetail(Shape):
    code: str
    """Machine-readable: unauthorized, bad_request, forbidden, not_found, method_not_allowed,
    status_conflict, wrong_day, booking_past, internal_error, care_unavailable,
    announcements_unavailable (insufficient_scope has its own shape, ScopeError)."""
    message: str
    """For people, in English."""


class Error(Shape):
    """Every error of the API has this shape, except a missing scope (ScopeError)."""

    error: ErrorDetail


class ScopeErrorDetail(Shape):
    code: Literal["insufficient_scope"]
    message: str
    """For people, in English."""
    scope: Annotated[str, enum_of(Scope)] | None
    """The scope the route needs and the token lacks."""


class ScopeError(Shape):
    """The token is valid but lacks the scope this operation needs."""

    error: ScopeErrorDetail


class TransitionErrorDetail(Shape):
    code: Literal["illegal_transition"]
    message: str
    """For people, in English."""
    status: Annotated[str, enum_of(TicketStatus, description="The ticket's status now.")]
    allowed: list[StatusName]
    """The statuses it may move to now; empty once closed or rejected."""


class TransitionError(Shape):
    """A move the CARE procedure does not allow from the ticket's current status."""

    error: TransitionErrorDetail


# --- the catalogue and sessions -----------------------------------------------------------------


class Agency(Shape):
    id: Text
    name: Text
    short: Text


class Service(Shape):
    """A service of the mall, from the catalogue (services.yaml)."""

    id: Annotated[str, documented(minLength=1, examples=["ktp_el_baru"])]
    name_id: Text
    name_en: Text
    short_id: Text
    """Short enough for a button or a display."""
    short_en: Text
    agency: Agency
    counter: Text
    queue_prefix: str
    """Its queue numbers' letter ("A" in "A-012"); may be empty."""
    requirements: list[Text]
    fee: Text
    duration_minutes: Annotated[int, documented(minimum=1)]
    completion_time: str
    daily_quota: Annotated[int, documented(minimum=1)]
    hours: dict[str, str]
    """Opening hours by weekday key (mon_thu, fri, ...): "08:00-15:00" or "closed", WITA."""


class ServiceList(Shape):
    """Every service of the catalogue."""

    items: list[Service]


class Slot(Shape):
    """One session of a service on a day."""

    session: Annotated[str, documented(minLength=1, examples=["pagi"])]
    start: Annotated[Hhmm, Field(description="WITA.")]
    end: Annotated[Hhmm, Field(description="WITA.")]
    capacity: Count
    taken: Count
    free: Count
    """capacity - taken, never below 0."""
    bookable: bool
    """Free places left, the day open for booking now, and the session not yet over."""


class SlotList(Shape):
    """The sessions of a day; empty when the service is closed that day."""

    service: Text
    date: Day
    items: list[Slot]


# --- bookings -----------------------------------------------------------------------------------


class BookingApplicant(Shape):
    """Who comes to the counter: the citizen or someone they booked for."""

    name: Text
    """As the citizen gave it for the booking."""
    nik: (
        Annotated[
            str, documented(pattern="^[0-9]{4}•{8}[0-9]{4}$|^•{16}$", examples=["5103••••••••0001"])
        ]
        | None
    )
    """The NIK masked: first and last four digits; null when the service asked for no NIK;
    all bullets when no configured key opens it."""


class Booking(Shape):
    """A queue booking. Who made it (phone, name, address) is never shown."""

    code: Annotated[str, documented(pattern="^B-[A-Z2-9]{6}$", examples=["B-7Q4M2X"])]
    service: Text
    """The catalogue id of the service."""
    service_name: str | None
    """Its Indonesian name; null if it left the catalogue."""
    date: Day
    session: Text
    session_start: Hhmm | None
    session_end: Hhmm | None
    queue_number: Annotated[int, documented(minimum=1)]
    queue_label: Annotated[str, documented(minLength=1, examples=["A-012"])]
    counter: str
    status: Annotated[str, enum_of(BookingStatus)]
    channel: Text
    """Where it was made: whatsapp, telegram, sms, webchat, ..."""
    created_at: UtcTime
    applicant: BookingApplicant | MISSING | None = MISSING
    """Who comes to the counter; only for a token with bookings:applicant (absent
    otherwise), null for a booking that names none."""


class BookingList(Shape):
    """Bookings in queue order, per service."""

    items: list[Booking]


class BookingLookup(Shape):
    """Today's bookings of the applicant with that NIK."""

    date: Day
    items: list[Booking]


# --- CARE tickets -------------------------------------------------------------------------------

_WITHHELD = ("category", "description", "incident_when", "incident_where", "rating_comment")
"""A redacted ticket's texts: null; otherwise strings (a rating comment may be null)."""
_SUMMARY_RULES: list[JsonValue] = [
    {
        "if": {"properties": {"anonymous": {"const": True}}},
        "then": {"not": {"required": ["contact_id"]}},
    },
    {
        "if": {"properties": {"redacted": {"const": True}}},
        "then": {
            "properties": {
                "confidential": {"const": True},
                **{name: {"type": "null"} for name in _WITHHELD},
            },
            "not": {"required": ["contact_id"]},
        },
        "else": {
            "properties": {
                name: {"type": "string"} for name in _WITHHELD if name != "rating_comment"
            }
        },
    },
    {
        "if": {"properties": {"anonymous": {"const": False}, "redacted": {"const": False}}},
        "then": {"required": ["contact_id"]},
    },
]
_DETAIL_RULE: JsonDict = {
    "if": {"properties": {"redacted": {"const": True}}},
    "then": {
        "properties": {
            "attachments": {"type": "null"},
            "history": {"items": {"properties": {"note": {"type": "null"}}}},
        }
    },
    "else": {"properties": {"attachments": {"type": "array"}}},
}


class TicketSummary(Shape):
    """A CARE ticket without its attachments and history."""

    model_config = ConfigDict(json_schema_extra={"allOf": _SUMMARY_RULES})

    id: Annotated[str, documented(pattern=r"^CARE-\d{8}-\d{4}$", examples=["CARE-20261214-0001"])]
    """CARE-YYYYMMDD-NNNN: the WITA day it was filed, that day's number."""
    kind: Annotated[str, enum_of(TicketKind)]
    status: StatusName
    category: str | None
    """What it is about, maybe in the citizen's words; may be empty."""
    service: str | None
    """The catalogue id of the service it is about, or null."""
    agency: str | None
    """The agency id it belongs to, or null if not yet known."""
    description: str | None
    """The citizen's own words."""
    incident_when: str | None
    """When it happened, as told; may be empty."""
    incident_where: str | None
    """Where it happened; may be empty."""
    anonymous: bool
    """The citizen asked not to be named: then there is no contact_id."""
    confidential: bool
    """Only supervisors handle it; officers cannot move it. Its text and reporter reach
    only a token with tickets:read-confidential."""
    redacted: bool
    """The text and reporter of this confidential ticket are withheld from this token (no
    tickets:read-confidential): category, description, incident_when, incident_where,
    rating_comment, attachments and the history's notes are null, and there is no
    contact_id."""
    channel: Text
    """Where it was filed: whatsapp, telegram, sms, ..."""
    created_at: UtcTime
    updated_at: UtcTime
    sla_due_at: UtcTime | None
    """The deadline of the current stage (verify, resolve, or the automatic close of a
    resolved ticket); null once closed or rejected."""
    sla_breached: bool
    """The current stage's deadline has passed, as marked by the hub's periodic deadline
    check (sla_breached_at is set)."""
    sla_breached_at: UtcTime | None
    """When the deadline check marked the breach."""
    resolved_at: UtcTime | None
    closed_at: UtcTime | None
    """When it was closed or rejected."""
    rating: Annotated[int, documented(minimum=1, maximum=5)] | None
    rating_comment: str | None
    """Null when not rated or when redacted."""
    rated_at: UtcTime | None
    assigned_to: int | None
    """The id of the officer working on it, or null."""
    needs_supervisor: bool
    """Escalated: a breached deadline, a low rating, or the citizen's request once the
    deadline passed."""
    priority: Annotated[str, enum_of(Priority)]
    """high for a bribery report (pungli, suap, calo), handled first with shorter
    deadlines (care.priority_*_within_days); else normal."""
    object: Annotated[str, enum_of(ObjectKind)] | None
    """What the complaint is about, as classified from the citizen's words; null when
    they named none."""
    contact_id: int | MISSING = MISSING
    """The hub's internal number of who filed it, to group a citizen's tickets; only when
    neither anonymous nor redacted. No phone number, name or address is ever sent."""


class TicketAttachment(Shape):
    """A file the citizen sent with the ticket."""

    content_type: Annotated[str, documented(minLength=1, examples=["image/jpeg"])]
    url: str
    """Where the channel keeps the file: a URL or a channel reference such as
    telegram-file:<id>; fetching it may need that channel's credentials."""
    filename: str
    caption: str
    size: Count | None
    """Bytes, when known."""


class TicketEvent(Shape):
    """One entry of a ticket's history."""

    at: UtcTime
    actor: Text
    """citizen, bot, system, officer:<id>, or api:<token name> for a change made through
    this API."""
    kind: Text
    """status, note, assign, rating or sla_breach."""
    from_status: StatusName | None
    to_status: StatusName | None
    note: str | None
    """A reason or a note; may be empty; null when the ticket is redacted."""


class Ticket(TicketSummary):
    """A CARE ticket with its attachments and history."""

    model_config = ConfigDict(json_schema_extra={"allOf": [*_SUMMARY_RULES, _DETAIL_RULE]})

    attachments: list[TicketAttachment] | None
    """Null when redacted."""
    history: list[TicketEvent]
    """Oldest first; starts with the citizen filing it (received)."""


class TicketList(Shape):
    """Tickets, newest first; without attachments and history."""

    items: list[TicketSummary]


# --- announcements ------------------------------------------------------------------------------

AnnouncementStatus = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "enum": list(ANNOUNCEMENT_STATUSES),
            "description": "draft (waiting for approval), scheduled (approved, waits for "
            "send_at), sending, paused, sent (every message has left) or cancelled.",
        }
    ),
]


class AnnouncementTexts(Shape):
    """What the citizens read, per language."""

    id: str
    """Indonesian: everyone gets it unless they chose English and en is given."""
    en: str
    """English; empty when none was given."""


class AnnouncementAudience(Shape):
    """A targeted notice: everyone booked for the service (or any service of the agency)
    on the day."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["service"]}, {"required": ["agency"]}]}
    )

    date: Day
    service: str | MISSING = MISSING
    """A service id, as in GET /api/v1/services."""
    agency: str | MISSING = MISSING
    """An agency id, as in a service's agency.id."""


class AnnouncementProgress(Shape):
    """Where its messages are; all 0 until sending starts."""

    queued: Count
    """Drawn, not yet handed to the outbox (paced per channel)."""
    sending: Count
    """In the outbox, not yet accepted by the provider."""
    sent: Count
    """Accepted by the provider."""
    delivered: Count
    """Reported delivered (or read) by the provider."""
    failed: Count
    skipped: Count
    """Not sent: the citizen unsubscribed after it started, or cannot be reached."""
    cancelled: Count
    """Taken back when the announcement was cancelled."""
    recipients: Count
    """The sum of the counts above."""
    opted_out_since: Count
    """Recipients who unsubscribed after it started."""


class Announcement(Shape):
    """An announcement of the mall to subscribers of topics, or a targeted notice to the
    citizens booked for a service or agency on a day. Who receives it is never shown."""

    id: Annotated[int, documented(minimum=1)]
    status: AnnouncementStatus
    title: str
    """May be empty; shown above the text where the channel has room."""
    topics: list[str]
    """The topics whose subscribers get it; empty for a targeted notice."""
    audience: AnnouncementAudience | None
    """The targeted audience; null for a topic announcement."""
    text: AnnouncementTexts
    send_at: UtcTime | None
    """When it is to be sent once approved; null: at approval."""
    created_by: str
    """officer:<id> (the console) or api:<token name>."""
    approved_by: str | None
    created_at: UtcTime
    approved_at: UtcTime | None
    started_at: UtcTime | None
    """When sending started (its audience was drawn then)."""
    finished_at: UtcTime | None
    """When the last message left, or when it was cancelled."""
    recipients: Count | None
    """How many citizens were drawn when sending started; null before."""
    progress: AnnouncementProgress


class AnnouncementList(Shape):
    """Announcements, newest first."""

    items: list[Announcement]


# --- request bodies -----------------------------------------------------------------------------


class RequestShape(Shape):
    """A body the API accepts; ``refusal`` words the 400 for a body that is not one."""

    USAGE: ClassVar[str]
    """The body as a client should write it, for the error messages."""
    MESSAGES: ClassVar[Mapping[str, str]] = {}
    """What to say when a field is missing or wrong, by field, where its type says too little."""

    @classmethod
    def refusal(cls, errors: Sequence[ErrorDetails]) -> str:
        """The message of a 400 for these validation errors: unknown fields first."""
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        if unknown:
            return (
                f"unknown field(s) {', '.join(map(repr, unknown))}; "
                f"use {', '.join(cls.model_fields)}"
            )
        error = errors[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "model_type":
            return f"the body must be a JSON object: {cls.USAGE}"
        if error["type"] == "value_error":  # our validators word their own
            return str(error.get("ctx", {}).get("error", error["msg"]))
        if name in cls.MESSAGES:
            return cls.MESSAGES[name]
        match error["type"]:
            case "string_type":
                return f"'{name}' must be a string"
            case "string_too_long":
                longest = error.get("ctx", {}).get("max_length")
                return f"'{name}' is longer than {longest} characters"
            case "string_unicode":
                return f"'{name}' must be text without NUL characters or lone surrogates"
            case _:
                return f"'{name}' is wrong: {cls.USAGE}"


def _storable_note(text: str) -> str:
    """Text the databases can keep: no NUL, and UTF-8 (JSON's ``"\\ud800"`` is neither)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        encodable = False
    else:
        encodable = True
    if "\x00" in text or not encodable:
        raise ValueError("'note' must be text without NUL characters or lone surrogates")
    return text


class StatusChange(RequestShape):
    """The status a ticket moves to. The CARE procedure allows: received -> verified or
    rejected; verified -> forwarded or rejected; forwarded -> in_progress; in_progress ->
    resolved; resolved -> closed or in_progress (reopened)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"const": "rejected"}}, "required": ["status"]},
            "then": {"required": ["note"], "properties": {"note": {"pattern": "\\S"}}},
        }
    )
    USAGE: ClassVar[str] = '{"status": "...", "note": "..."}'
    MESSAGES: ClassVar[Mapping[str, str]] = {
        "status": f"'status' is required, one of: {', '.join(s.value for s in TicketStatus)}"
    }

    status: Annotated[TicketStatus, enum_of(TicketStatus)]
    note: Annotated[
        str,
        Field(max_length=MAX_NOTE),
        AfterValidator(_storable_note),
        documented(pattern="^[^\\u0000]*$"),
    ] = ""
    """Why; goes into the history. Required (not blank) for rejected: the citizen is told
    the reason."""

    @model_validator(mode="after")
    def _rejection_has_a_reason(self) -> StatusChange:
        # A 400, not a 409: the request is incomplete whatever state the ticket is in.
        if self.status is TicketStatus.REJECTED and not self.note.strip():
            raise ValueError("a rejection needs a reason in 'note'; the citizen is told it")
        return self


NIK_SEPARATORS = re.compile(r"[ .\-]")


class NikLookup(RequestShape):
    """The NIK to look for, in the body so that it stays out of access logs."""

    USAGE: ClassVar[str] = '{"nik": "<the 16 digits of the KTP>"} (spaces, dots or dashes allowed)'

    nik: Annotated[
        str,
        Field(
            pattern=r"^[ .\-]*(?:[0-9][ .\-]*){16}$",
            examples=["5103011204850001", "5103 0112 0485 0001"],
        ),
    ]
    """The NIK on the KTP: 16 digits, spaces, dots or dashes between groups allowed. Never
    echoed back, not even in an error."""

    @property
    def digits(self) -> str:
        return NIK_SEPARATORS.sub("", self.nik)

    @classmethod
    def refusal(cls, errors: Sequence[ErrorDetails]) -> str:
        """Fixed texts only: a NIK (even a wrong one, even as a field name) is never echoed."""
        if all(e["loc"] == ("nik",) and e["type"] == "string_pattern_mismatch" for e in errors):
            return f"'nik' is not a NIK: {cls.USAGE}"
        return f"the body must be exactly {cls.USAGE}"


_NUL_FREE = "^[^\\u0000]*$"
_SPACE = (
    "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
"""Every character Python's ``str.strip`` removes, so the schema says what the server does."""
_WORDS = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"
"""Storable text with something besides spaces."""
_SEND_AT = (
    r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
"""This century (no date a database cannot keep), and always with an offset."""
_SEND_AT_TEXT = re.compile(_SEND_AT)


def _storable(name: str) -> Any:
    """An AfterValidator that refuses text the databases cannot keep, naming the field."""

    def check(text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            encodable = False
        else:
            encodable = True
        if "\x00" in text or not encodable:
            raise ValueError(f"'{name}' must be text without NUL characters or lone surrogates")
        return text

    return AfterValidator(check)


def _has_words(text: str) -> str:
    if not text.strip():
        raise ValueError("'text.id' is required: the Indonesian text, not blank")
    return text


def _send_at(value: object) -> datetime:
    """ISO 8601 with its offset (or Z), of this century: a time without a zone is refused,
    as the mall's clock (WITA) and the server's (UTC) would read it differently."""
    text = value if isinstance(value, str) else ""
    try:
        if not _SEND_AT_TEXT.fullmatch(text):
            raise ValueError(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            "'send_at' must be an ISO 8601 time with its offset, e.g. "
            "2026-12-10T08:00:00+08:00 (WITA), or null to send at approval"
        ) from None


SendAt = Annotated[
    datetime,
    BeforeValidator(_send_at),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": _SEND_AT,
            "description": "ISO 8601 with its offset (+08:00 for WITA, or Z).",
            "examples": ["2026-12-10T08:00:00+08:00"],
        }
    ),
]


class DraftTexts(Shape):
    """The text per language: Indonesian required, English optional."""

    id: Annotated[
        str,
        Field(max_length=MAX_TEXT),
        _storable("text.id"),
        AfterValidator(_has_words),
        documented(pattern=_WORDS),
    ]
    """Indonesian; sent to everyone who did not choose English."""
    en: Annotated[
        str, Field(max_length=MAX_TEXT), _storable("text.en"), documented(pattern=_NUL_FREE)
    ] = ""
    """English, for citizens who chose English; they get the Indonesian without it."""


class DraftAudience(Shape):
    """Everyone booked for a service, or for any service of an agency, on a day."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["service"]}, {"required": ["agency"]}]}
    )

    date: Annotated[date, Field(description="A WITA calendar day, YYYY-MM-DD.")]
    service: str | MISSING = MISSING
    """A service id, as in GET /api/v1/services."""
    agency: str | MISSING = MISSING
    """An agency id, as in a service's agency.id."""

    @model_validator(mode="after")
    def _one_target(self) -> DraftAudience:
        if (self.service is MISSING) == (self.agency is MISSING):
            raise ValueError("'audience' names either a 'service' or an 'agency', and a 'date'")
        return self


class AnnouncementDraft(RequestShape):
    """A new announcement, kept as a draft until approved: to the subscribers of
    ``topics``, or (``audience`` instead) to the citizens booked for a service or agency
    on a day."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["topics"]}, {"required": ["audience"]}]}
    )
    USAGE: ClassVar[str] = (
        '{"topics": ["imigrasi"], "text": {"id": "...", "en": "..."}, "title": "...", '
        '"send_at": null} or "audience": {"service": "paspor", "date": "2026-12-10"} '
        "instead of topics"
    )

    topics: Annotated[list[str], Field(min_length=1)] | MISSING = MISSING
    """Topic ids; their subscribers get it (only citizens who opted in)."""
    audience: DraftAudience | MISSING = MISSING
    """Instead of topics: a targeted notice."""
    text: DraftTexts
    title: Annotated[
        str, Field(max_length=MAX_TITLE), _storable("title"), documented(pattern=_NUL_FREE)
    ] = ""
    """Optional; shown above the text where the channel has room."""
    send_at: SendAt | None = None
    """When to send it once approved; null (or in the past): at approval."""

    @model_validator(mode="after")
    def _one_audience(self) -> AnnouncementDraft:
        if (self.topics is MISSING) == (self.audience is MISSING):
            raise ValueError("give either 'topics' or a targeted 'audience', not both")
        return self

    @classmethod
    def refusal(cls, errors: Sequence[ErrorDetails]) -> str:
        """Like every body's, but naming nested fields by their path (``text.id``)."""
        unknown = sorted(
            ".".join(map(str, e["loc"])) for e in errors if e["type"] == "extra_forbidden"
        )
        if unknown:
            return f"unknown field(s) {', '.join(map(repr, unknown))}: {cls.USAGE}"
        error = errors[0]
        name = ".".join(map(str, error["loc"]))
        match error["type"]:
            case "value_error":
                return str(error.get("ctx", {}).get("error", error["msg"]))
            case "model_type" if not name:
                return f"the body must be a JSON object: {cls.USAGE}"
            case "model_type":
                return f"'{name}' must be a JSON object: {cls.USAGE}"
            case "missing":
                return f"'{name}' is required: {cls.USAGE}"
            case "string_too_long":
                longest = error.get("ctx", {}).get("max_length")
                return f"'{name}' is longer than {longest} characters"
            case "string_type":
                return f"'{name}' must be a string"
            case "too_short" if name == "topics":
                return "'topics' needs at least one topic id"
            case _:
                return f"'{name}' is wrong ({error['msg']}): {cls.USAGE}"
