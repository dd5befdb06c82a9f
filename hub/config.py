"""Typed configuration: ``config.yaml`` with ``OMNIHUB_`` environment overrides.

Environment wins over the file so a deployment can keep secrets out of the
repository: ``OMNIHUB_SERVER__PORT=9000`` sets ``server.port``. A wrong value
raises :class:`ConfigError` whose message is one line naming the key.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import zoneinfo
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

ENV_PREFIX = "OMNIHUB_"


class ConfigError(Exception):
    """A configuration problem, worded for the person who deploys the hub."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _ip_networks(value: list[str]) -> list[str]:
    """Addresses or networks (``10.0.0.0/8``), checked when the config is read."""
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"not an address or network: {item!r}") from exc
    return value


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    timezone: str = "Asia/Makassar"
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    trusted_proxies: list[str] = []
    """Proxies (addresses or networks) whose X-Forwarded-For names the client's address;
    from anyone else the header is ignored, so a client cannot choose its own address."""

    _proxy_networks = field_validator("trusted_proxies")(_ip_networks)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class StorageConfig(_Section):
    url: str = "sqlite+aiosqlite:///omnihub.db"

    @field_validator("url")
    @classmethod
    def _supported_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class RedisConfig(_Section):
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class WebchatConfig(_Section):
    enabled: bool = True
    title: str = "MPP Badung"
    visitor_days: int = Field(default=90, ge=1, le=400)
    """How long a visitor's cookie keeps the conversation without a visit (renewed on each)."""


def _require_when_enabled(section: BaseModel, *names: str) -> None:
    if getattr(section, "enabled", False):
        missing = [name for name in names if not getattr(section, name)]
        if missing:
            raise ValueError(f"{', '.join(missing)} required when enabled")


MIN_SECRET_LENGTH = 16
"""A webhook secret shorter than this can be guessed by trying; the providers allow 256."""


def _require_long_secret(section: BaseModel, name: str) -> None:
    """A webhook's shared secret, when the channel is enabled, long enough not to guess."""
    value = str(getattr(section, name, ""))
    if getattr(section, "enabled", False) and value and len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} characters")


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


class TelegramConfig(_Section):
    enabled: bool = False
    token: str = ""
    secret_token: str = ""
    mode: Literal["webhook", "polling"] = "webhook"
    api_base_url: str = "https://api.telegram.org"

    _url = field_validator("api_base_url")(_base_url)

    @model_validator(mode="after")
    def _complete(self) -> TelegramConfig:
        _require_when_enabled(self, "token")
        if self.enabled and self.mode == "webhook":
            _require_when_enabled(self, "secret_token")
        _require_long_secret(self, "secret_token")
        return self


class TwilioConfig(_Section):
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = ""
    sms_from: str = ""
    whatsapp_from: str = ""
    api_base_url: str = "https://api.twilio.com"
    templates: dict[str, str] = {}
    """Reply key -> approved Content SID (HX...), for WhatsApp outside the 24-hour window."""

    _url = field_validator("api_base_url")(_base_url)

    @model_validator(mode="after")
    def _complete(self) -> TwilioConfig:
        _require_when_enabled(self, "account_sid", "auth_token")
        if self.enabled and not (self.sms_from or self.whatsapp_from):
            raise ValueError("sms_from or whatsapp_from required when enabled")
        return self


class WhatsAppTemplate(_Section):
    name: str
    language: str = "id"


class WhatsAppCloudConfig(_Section):
    enabled: bool = False
    access_token: str = ""
    app_secret: str = ""
    verify_token: str = ""
    phone_number_id: str = ""
    api_base_url: str = "https://graph.facebook.com/v21.0"
    templates: dict[str, WhatsAppTemplate] = {}
    """Reply key -> approved message template, for replies outside the 24-hour window."""

    _url = field_validator("api_base_url")(_base_url)

    @model_validator(mode="after")
    def _complete(self) -> WhatsAppCloudConfig:
        _require_when_enabled(self, "access_token", "app_secret", "verify_token", "phone_number_id")
        _require_long_secret(self, "app_secret")
        return self


class EmailSmtpConfig(_Section):
    """The relay the hub sends through (submission port, STARTTLS, login)."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    """Implicit TLS (port 465) instead of STARTTLS."""
    username: str = ""
    password: str = ""
    ca_file: str = ""
    """A PEM bundle to trust instead of the system's (a relay with a private CA)."""
    timeout_seconds: float = Field(default=30.0, gt=0)


class EmailImapConfig(_Section):
    """A mailbox the hub polls; mail is flagged \\Seen (and moved) once it is stored."""

    enabled: bool = False
    host: str = ""
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    username: str = ""
    password: str = ""
    folder: str = "INBOX"
    move_to: str = ""
    """A folder to move processed mail into; empty leaves it flagged \\Seen in ``folder``."""
    poll_seconds: float = Field(default=30.0, gt=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: str = ""
    """A PEM bundle to trust instead of the system's (a server with a private CA)."""

    @model_validator(mode="after")
    def _complete(self) -> EmailImapConfig:
        _require_when_enabled(self, "host", "username", "password")
        return self


class EmailListenConfig(_Section):
    """An SMTP server for an MX or a forwarder to deliver into; only the hub's address."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    """0 takes any free port (tests)."""
    max_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    trusted_hosts: list[str] = ["127.0.0.1", "::1"]
    """The MTA in front (addresses or networks): only mail it delivers keeps its
    Authentication-Results headers; from anyone else they are removed unread."""

    _networks = field_validator("trusted_hosts")(_ip_networks)


class EmailConfig(_Section):
    enabled: bool = False
    address: str = "layanan@mpp.example"
    """The hub's own address: the only recipient accepted, the ``From`` of every answer."""
    display_name: str = "MPP Badung"
    smtp: EmailSmtpConfig = EmailSmtpConfig()
    imap: EmailImapConfig = EmailImapConfig()
    listen: EmailListenConfig = EmailListenConfig()
    thread_idle_hours: float = Field(default=72.0, gt=0)
    """A mail without thread headers continues the sender's open conversation only if it
    was active this recently; older, a new conversation starts."""
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_answered_per_hour: int = Field(default=20, ge=1)
    """Mail from one sender the bot answers in an hour; more goes to officers unanswered,
    so a robot that answers without saying so (no Auto-Submitted) cannot loop with ours."""
    attachments_dir: str = "media/mail"
    """Where attachments of inbound mail are kept, served at ``/media/mail/<token>/<name>``."""
    authserv_ids: list[str] = []
    """The receiving servers whose Authentication-Results header the hub believes (its
    authserv-id: your MTA's, or the mailbox provider's such as ``mx.google.com``). Empty:
    no sender is verified, so no mail is answered by the bot or joins a citizen's history."""
    form_senders: list[str] = []
    """Addresses or domains of your own web forms: their verified mail is answered at its
    Reply-To (the citizen). Anyone else's Reply-To is never followed."""

    @field_validator("address")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        value = value.strip().lower()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or any(c.isspace() or c in "<>" for c in value):
            raise ValueError("must be a plain address like layanan@mpp.example")
        return value

    @model_validator(mode="after")
    def _complete(self) -> EmailConfig:
        if self.enabled:
            if not self.smtp.host:
                raise ValueError("smtp.host required when enabled")
            if not (self.imap.enabled or self.listen.enabled):
                raise ValueError("imap or listen must be enabled to receive mail")
        return self


class ChannelsConfig(_Section):
    webchat: WebchatConfig = WebchatConfig()
    telegram: TelegramConfig = TelegramConfig()
    twilio: TwilioConfig = TwilioConfig()
    whatsapp_cloud: WhatsAppCloudConfig = WhatsAppCloudConfig()
    email: EmailConfig = EmailConfig()


class LocaleConfig(_Section):
    default: Literal["id", "en"] = "id"
    supported: list[Literal["id", "en"]] = ["id", "en"]


class OutboxConfig(_Section):
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    concurrency: int = Field(default=16, ge=1)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)


class NluConfig(_Section):
    engine: Literal["builtin", "rasa"] = "builtin"
    threshold: float = Field(default=0.4, ge=0, le=1)
    """Below this confidence the bot asks which of the two likeliest intents was meant."""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = Field(default=2.0, gt=0)
    model_path: str = "omnihub-nlu.joblib"
    data_dir: str | None = None
    """Rasa-format training data; default: the nlu/data shipped with the hub."""

    _url = field_validator("rasa_url")(_base_url)


class CatalogueConfig(_Section):
    path: str | None = None
    """services.yaml; default: the catalogue shipped with the hub."""


class PipelineConfig(_Section):
    retry_pending_seconds: float = Field(default=60.0, gt=0)
    """How often messages left pending by an outage are processed again."""


_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _clock_time(value: object) -> time:
    """``"HH:MM"`` only: unquoted YAML ``11:00`` is the number 660, never a time."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not (match := _HHMM.fullmatch(value.strip())):
        raise ValueError('must be a time "HH:MM" in quotes, e.g. "11:00"')
    return time(int(match.group(1)), int(match.group(2)))


ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
]
"""A WITA wall-clock time written ``"HH:MM"`` in the file and printed the same way."""


class BookingSession(_Section):
    """One queue session of the day; it exists on a day only within the service's hours."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> BookingSession:
        if self.end <= self.start:
            raise ValueError(f"session {self.name!r}: end must be after start")
        return self


class BookingClosure(_Section):
    """A day the mall is closed that no holiday list knows (cuti bersama, a ceremony)."""

    date: date
    name: str = Field(min_length=1)


def _default_sessions() -> list[BookingSession]:
    return [
        BookingSession(name="pagi", start=time(8), end=time(10)),
        BookingSession(name="siang", start=time(10), end=time(12)),
        BookingSession(name="sore", start=time(13), end=time(15)),
    ]


class BookingConfig(_Section):
    horizon_days: int = Field(default=14, ge=0, le=366)
    """How many days ahead a citizen may book (today + horizon_days is the last)."""
    same_day_cutoff: ClockTime = time(11)
    """From this WITA time on, today is no longer bookable."""
    sessions: list[BookingSession] = Field(default_factory=_default_sessions, min_length=1)
    closures: list[BookingClosure] = []
    holiday_statuses_closed: list[str] = ["libur nasional", "cuti bersama", "libur fakultatif"]
    """services.yaml ``holidays_2026_bali`` statuses (matched as prefixes) that close the mall."""
    holiday_categories: list[Literal["public", "government"]] = ["public", "government"]
    """``holidays`` package categories for Indonesia: government = cuti bersama."""
    reminders: bool = True
    """Remind citizens of their booking: the day before and shortly before the session."""
    reminder_day_before_at: ClockTime = time(16)
    """WITA time of the reminder on the day before the visit."""
    reminder_before_session_minutes: int = Field(default=60, ge=1, le=12 * 60)
    """How long before the session starts the second reminder goes."""
    no_show_at: ClockTime = time(17)
    """WITA time from which the day's bookings nobody checked in for become ``no_show``."""

    @field_validator("sessions")
    @classmethod
    def _distinct_sessions(cls, value: list[BookingSession]) -> list[BookingSession]:
        names = [s.name for s in value]
        if len(set(names)) != len(names):
            raise ValueError("session names must be unique")
        ordered = sorted(value, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ValueError(f"sessions {before.name!r} and {after.name!r} overlap")
        return ordered

    @model_validator(mode="after")
    def _no_show_after_sessions(self) -> BookingConfig:
        last_end = max(s.end for s in self.sessions)
        if self.no_show_at < last_end:
            raise ValueError(
                f"no_show_at {self.no_show_at:%H:%M} is before the last session ends "
                f"({last_end:%H:%M}): citizens would be marked absent while still expected"
            )
        return self

    @field_validator("holiday_statuses_closed")
    @classmethod
    def _lowercase_statuses(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]


class CareConfig(_Section):
    verify_within_days: int = Field(default=3, ge=1, le=60)
    """Working days to verify (or forward, or reject) a received ticket."""
    follow_up_within_days: int = Field(default=5, ge=1, le=60)
    """Working days for the agency to resolve a forwarded ticket."""
    priority_verify_within_days: int = Field(default=1, ge=1, le=60)
    priority_follow_up_within_days: int = Field(default=3, ge=1, le=60)
    """The same two deadlines for a high-priority ticket (a bribery report, as LAPOR!)."""
    close_after_days: int = Field(default=10, ge=1, le=60)
    """Working days after ``resolved`` before a ticket the citizen did not answer closes."""
    working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    """Weekdays that count (Monday = 0)."""
    holiday_categories: list[Literal["public", "government"]] = ["public"]
    """``holidays`` categories for Indonesia that do not count (government = cuti bersama)."""
    closures: list[date] = []
    """More days that do not count."""
    office_opens: ClockTime = time(8)
    office_closes: ClockTime = time(15)
    """When officers answer handed-over chats (WITA, on working days)."""
    low_rating: int = Field(default=2, ge=1, le=4)
    """A rating at or below this reopens a resolved ticket for a supervisor."""

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= d <= 6 for d in value):
            raise ValueError("working_days must list weekdays 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))


class DialogsConfig(_Section):
    flow_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """A booking or complaint left unanswered this long is dropped: the next message
    starts fresh, and the citizen is told what was dropped."""


class SchedulerConfig(_Section):
    enabled: bool = True
    """Run the timed jobs (reminders, end-of-day no-shows) in this process. Safe in every
    process: each job claims its work in the database, so it happens once."""
    tick_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How often due reminders are looked for: a reminder is at most this late."""


class LoginBackoff(_Section):
    """After ``free_failures`` wrong passwords each further try waits 1, 2, 4 ... seconds
    (doubling from the last failure), never more than ``max_delay_seconds``."""

    free_failures: int = Field(ge=0, le=1000)
    max_delay_seconds: float = Field(gt=0, le=24 * 3600)


class LoginThrottleConfig(_Section):
    """Console logins slowed per source address and per username, shared through Redis."""

    per_address: LoginBackoff = LoginBackoff(free_failures=5, max_delay_seconds=900)
    """Wrong passwords from one address, whatever the usernames: an attacker's IP."""
    per_username: LoginBackoff = LoginBackoff(free_failures=3, max_delay_seconds=60)
    """Wrong passwords for one username from one address: capped low, a typo costs little."""
    per_username_everywhere: LoginBackoff = LoginBackoff(free_failures=10, max_delay_seconds=30)
    """Wrong passwords for one username from all addresses (a spread-out guess); it slows
    only addresses that failed for that username themselves, never a clean one."""
    forget_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    """Failures are forgotten this long after the last one (a right password forgets
    the username's failures from that address at once)."""


class ConsoleConfig(_Section):
    enabled: bool = True
    """Serve the officers' console under ``/console``."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 31)
    """How long a login lasts; the officer logs in again after it."""
    login_throttle: LoginThrottleConfig = Field(default_factory=lambda: LoginThrottleConfig())
    """Growing waits after wrong passwords (docs/security.md); no account is locked."""
    max_failed_logins: int | None = Field(default=None, ge=1, le=100)
    """Deprecated and ignored: accounts are no longer locked (see ``login_throttle``)."""
    lockout_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    """Deprecated and ignored: accounts are no longer locked (see ``login_throttle``)."""


def _rate(value: str | None) -> str | None:
    """A ``limits`` rate string ("20/minute", "5 per 10 seconds"); empty or null: no limit."""
    if value in (None, ""):
        return None
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"not a rate like '20/minute': {value!r}") from exc
    return value


class TrustConfig(_Section):
    """The public transparency page, ``GET /trust`` and ``/trust.json`` (docs/trust.md)."""

    cache_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    """Its figures are computed at most this often per process; views in between run no
    query. 0 computes them on every view."""


class RateLimitConfig(_Section):
    """Rates per window; null switches one off. Shared by every process when Redis is set."""

    enabled: bool = True
    citizen: str | None = "20/minute;200/day"
    """Messages from one citizen address (phone, chat id, email, web-chat visitor)."""
    webchat_ip: str | None = "300/minute"
    """Web-chat messages from one source IP, whatever visitor they claim to be."""
    webchat_new_visitors_ip: str | None = "100/hour"
    """New web-chat visitors (cookies issued) per source IP."""

    _rates = field_validator("citizen", "webchat_ip", "webchat_new_visitors_ip")(_rate)

    def rules(self) -> dict[str, str]:
        """The configured rules by name, for :class:`hub.coordination.ratelimit.RateLimiter`."""
        if not self.enabled:
            return {}
        return {
            name: value
            for name, value in self.model_dump(exclude={"enabled"}).items()
            if isinstance(value, str) and value
        }


class SecurityConfig(_Section):
    """Keys and who may read what is not for the public."""

    secret_key: str = ""
    """Signs the web-chat visitor cookie. Empty: generated once into ``keys_file``."""
    nik_keys: list[str] = []
    """Fernet keys that encrypt stored NIKs, newest first (older ones still decrypt).
    Empty: one generated once into ``keys_file``."""
    keys_file: str = "omnihub.keys"
    """Where generated keys are kept (mode 0600). Several machines: set the keys instead."""
    webchat_origins: list[str] = []
    """Other sites allowed to open the web chat's websocket (the hub's own is always)."""
    metrics_allow: list[str] = ["127.0.0.1", "::1"]
    """Addresses or networks that may read /metrics without a token."""
    metrics_token: str = ""
    """Bearer token that opens /metrics from anywhere; empty: none."""

    _metrics_networks = field_validator("metrics_allow")(_ip_networks)

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters (or empty)")
        return value

    @field_validator("webchat_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for item in value:
            parts = urlsplit(item)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an origin (https://host[:port]): {item!r}")
            if parts.path.strip("/") or parts.query or parts.fragment:
                raise ValueError(f"an origin has no path: {item!r}")
        return [item.rstrip("/") for item in value]

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters (or empty to generate one)")
        return value


class TopicConfig(_Section):
    """One topic citizens may subscribe to; agencies of the catalogue are topics too."""

    id: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name_id: str
    name_en: str = ""
    keywords: list[str] = []
    """Words that name the topic in chat ("libur", "tutup" for ``jadwal``)."""


def _default_topics() -> list[TopicConfig]:
    return [
        TopicConfig(
            id="pengumuman",
            name_id="Pengumuman umum MPP Badung",
            name_en="General news of MPP Badung",
            keywords=["pengumuman", "berita", "umum", "news", "general"],
        ),
        TopicConfig(
            id="jadwal",
            name_id="Jadwal buka dan hari libur",
            name_en="Opening hours and closures",
            keywords=["jadwal", "jam buka", "libur", "tutup", "hours", "closure", "closures"],
        ),
    ]


class AnnouncementsConfig(_Section):
    """Information media: subscriptions and announcements (docs/announcements.md)."""

    topics: list[TopicConfig] = Field(default_factory=_default_topics)
    agency_topics: bool = True
    """Every agency of the catalogue is a topic too (its id, e.g. ``imigrasi``)."""
    rate_per_second: dict[str, Annotated[float, Field(gt=0)]] = {
        "telegram": 25.0,
        "sms": 10.0,
        "whatsapp": 20.0,
        "whatsapp_cloud": 20.0,
        "email": 5.0,
        "webchat": 50.0,
    }
    """Most announcement messages a channel is handed per second (Telegram allows about
    30 a second overall); a channel missing here gets ``default_rate_per_second``."""
    default_rate_per_second: float = Field(default=10.0, gt=0)
    backlog: int = Field(default=50, ge=1)
    """Most announcement rows a channel may have waiting in the outbox: live replies
    never queue behind a broadcast, and an outage does not pile up the whole audience."""
    sms_max_segments: int = Field(default=2, ge=1, le=10)
    """An SMS announcement is cut to fit this many segments."""

    def rule_for(self, channel: str) -> str:
        """The rate-limit rule that paces announcements on ``channel``."""
        return f"announce:{channel}" if channel in self.rate_per_second else "announce:other"

    def limit_rules(self) -> dict[str, str]:
        """The pacing as rules of the shared rate limiter (``limits`` strings), so with
        Redis every hub process counts into the same window."""

        def text(rate: float) -> str:
            return f"{round(rate)}/second" if rate >= 1 else f"{max(1, round(rate * 60))}/minute"

        rules = {f"announce:{ch}": text(rate) for ch, rate in self.rate_per_second.items()}
        rules["announce:other"] = text(self.default_rate_per_second)
        return rules


class PrivacyConfig(_Section):
    """How long personal data is kept (docs/security.md, retention)."""

    retention_days: int | None = Field(default=None, ge=1)
    """Purge conversations closed longer ago than this, daily; null: keep (purge by hand)."""
    purge_at: ClockTime = time(2, 30)
    """When the daily purge runs (server.timezone), ``"HH:MM"``."""


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    """The whole configuration; every key documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    redis: RedisConfig = RedisConfig()
    channels: ChannelsConfig = ChannelsConfig()
    locale: LocaleConfig = LocaleConfig()
    outbox: OutboxConfig = OutboxConfig()
    pipeline: PipelineConfig = PipelineConfig()
    nlu: NluConfig = NluConfig()
    catalogue: CatalogueConfig = CatalogueConfig()
    booking: BookingConfig = BookingConfig()
    care: CareConfig = CareConfig()
    dialogs: DialogsConfig = DialogsConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    console: ConsoleConfig = ConsoleConfig()
    trust: TrustConfig = TrustConfig()
    ratelimit: RateLimitConfig = RateLimitConfig()
    security: SecurityConfig = SecurityConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    announcements: AnnouncementsConfig = AnnouncementsConfig()
    logging: LoggingConfig = LoggingConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, which arrives as init values.
        return (env_settings, init_settings)


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(root)"
    message = str(error["msg"])
    if error.get("type") == "extra_forbidden":
        message = "unknown key"
    env_name = ENV_PREFIX + "__".join(str(part).upper() for part in error["loc"])
    return f"{key}: {message} (file key {key}, or env {env_name})"


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base`` section by section, so one key keeps its siblings."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def load_config(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the YAML file (if any), apply env overrides, validate everything."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {file}") from exc
        except OSError as exc:
            raise ConfigError(f"config file {file} cannot be read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {file} is not UTF-8 text") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"config file {file} is not valid YAML: {exc}".replace("\n", " ")
            ) from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {file} must hold a mapping of sections")
        for key in loaded:
            if not isinstance(key, str):
                raise ConfigError(f"config file {file}: section name {key!r} is not text")
        data = loaded
    data = _merged(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more)" if more else ""
        raise ConfigError("config error: " + _describe(first) + suffix) from None
    except SettingsError as exc:
        # An OMNIHUB_ variable for a list or section that is not JSON, e.g. LOCALE__SUPPORTED=id.
        raise ConfigError(
            f"config error: {exc} (lists and sections in {ENV_PREFIX} variables must be JSON)"
        ) from None
