"""The SQL schema; Alembic migrations under ``migrations/`` create it.

Every timestamp is stored in UTC. Inbound messages carry the dedupe key
``(channel, provider_message_id)`` as a partial unique index, so a retried
webhook can never become a second row, whatever process receives it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _pk() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


contacts = sa.Table(
    "contacts",
    metadata,
    _pk(),
    sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("locale", sa.String(8), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # The citizen's own applicant for bookings (migration 0009), kept only with their
    # consent: the name, and the NIK as Fernet ciphertext, never in clear.
    sa.Column("applicant_name", sa.String(200), nullable=True),
    sa.Column("applicant_nik", sa.Text, nullable=True),
    sa.Column("applicant_saved_at", UTCDateTime(), nullable=True),
)

identities = sa.Table(
    "identities",
    metadata,
    _pk(),
    sa.Column(
        "contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False, index=True
    ),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(320), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # WhatsApp's 24-hour window is counted from here.
    sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("channel", "address", name="uq_identities_channel_address"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _pk(),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("locale", sa.String(8), nullable=False),
    sa.Column("state", _json(), nullable=False),
    sa.Column("subject", sa.String(500), nullable=True),
    # Email threading (migration 0007): the Message-IDs an answer's References carry,
    # oldest first, ending with the citizen's latest mail.
    sa.Column("thread", _json(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    # Handoff to officers (migration 0006): when and why the bot stepped aside, and the
    # officer who claimed the conversation (no FK: added to an existing table on SQLite).
    sa.Column("handoff_at", UTCDateTime(), nullable=True),
    sa.Column("handoff_reason", sa.String(32), nullable=True),
    sa.Column("claimed_by", sa.BigInteger, nullable=True),
    # Retention (migration 0008): when the texts, payloads and attachments were removed.
    sa.Column("purged_at", UTCDateTime(), nullable=True),
    sa.Index("ix_conversations_contact_status", "contact_id", "status"),
    sa.Index("ix_conversations_created_at", "created_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    _pk(),
    sa.Column("conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("provider_message_id", sa.String(255), nullable=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("attachments", _json(), nullable=False),
    sa.Column("choice_payload", sa.String(255), nullable=True),
    sa.Column("location", _json(), nullable=True),
    sa.Column("intent", sa.String(64), nullable=True),
    sa.Column("entities", _json(), nullable=True),
    sa.Column("raw", _json(), nullable=True),
    sa.Column("processing", sa.String(16), nullable=True),
    sa.Column("processing_error", sa.Text, nullable=True),
    sa.Column("delivery_status", sa.String(16), nullable=True),
    sa.Column("delivery_error", sa.Text, nullable=True),
    sa.Column("segments", sa.Integer, nullable=True),
    sa.Column("reply_to_id", sa.BigInteger, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_messages_conversation", "conversation_id", "id"),
    # Delivery status callbacks find outbound messages by the provider's id.
    sa.Index("ix_messages_provider_id", "channel", "provider_message_id"),
    sa.Index(
        "uq_messages_inbound_dedupe",
        "channel",
        "provider_message_id",
        unique=True,
        sqlite_where=sa.text("direction = 'inbound'"),
        postgresql_where=sa.text("direction = 'inbound'"),
    ),
    # The public figures (hub.store.transparency) read a period of messages (migration 0011).
    sa.Index("ix_messages_created_at", "created_at"),
    sa.Index(
        "ix_messages_pending",
        "processing",
        sqlite_where=sa.text("processing = 'pending'"),
        postgresql_where=sa.text("processing = 'pending'"),
    ),
)

outbox = sa.Table(
    "outbox",
    metadata,
    _pk(),
    sa.Column("message_id", sa.BigInteger, sa.ForeignKey("messages.id"), nullable=False),
    sa.Column("conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("payload", _json(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    # 0 live (turn replies, notices, officers), 1 bulk (announcements, migration 0011):
    # a free dispatcher slot always takes a live row first.
    sa.Column("lane", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Index("ix_outbox_status_due", "status", "next_attempt_at"),
    sa.Index("ix_outbox_conversation", "conversation_id", "id"),
)

# --- queue booking -------------------------------------------------------------------------
# The guarantees live in the schema, so no race between hub processes can break them:
# one active booking per contact, service and day (a partial unique index), and never more
# places taken than a session holds (a CHECK under the conditional UPDATE that takes one).

bookings = sa.Table(
    "bookings",
    metadata,
    _pk(),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("service_id", sa.String(64), nullable=False),
    # The WITA calendar day of the visit.
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("session", sa.String(32), nullable=False),
    sa.Column("queue_number", sa.Integer, nullable=False),
    sa.Column("queue_label", sa.String(16), nullable=False),
    sa.Column("counter", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("checked_in_at", UTCDateTime(), nullable=True),
    sa.Column("cancelled_at", UTCDateTime(), nullable=True),
    # Who comes to the counter (migration 0009): the name, and the NIK as Fernet
    # ciphertext (hub.security.vault), never in clear; NULL for bookings made before.
    sa.Column("applicant_name", sa.String(200), nullable=True),
    sa.Column("applicant_nik", sa.Text, nullable=True),
    sa.Index(
        "uq_bookings_active_per_day",
        "contact_id",
        "service_id",
        "day",
        unique=True,
        sqlite_where=sa.text("status IN ('booked', 'checked_in')"),
        postgresql_where=sa.text("status IN ('booked', 'checked_in')"),
    ),
    sa.Index("ix_bookings_day_service", "day", "service_id", "status"),
    sa.Index("ix_bookings_contact", "contact_id", "status"),
)

booking_slots = sa.Table(
    "booking_slots",
    metadata,
    sa.Column("service_id", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("session", sa.String(32), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("taken", sa.Integer, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("service_id", "day", "session"),
    sa.CheckConstraint("taken <= capacity", name="taken_within_capacity"),
    sa.CheckConstraint("taken >= 0", name="taken_not_negative"),
)

queue_counters = sa.Table(
    "queue_counters",
    metadata,
    sa.Column("service_id", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("service_id", "day"),
)

# --- REST API ------------------------------------------------------------------------------
# Bearer tokens of the mall's own systems (queue display, kiosk). Only a SHA-256 of each
# token is kept; a revoked token keeps its row, so its name stays in the history.

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _pk(),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    # What the token may do (migration 0008); NULL for tokens made before scopes existed.
    sa.Column("scopes", _json(), nullable=True),
)

# --- booking reminders ----------------------------------------------------------------------
# One row per reminder sent: inserting it is how a process claims the reminder, so two
# processes (or a restart) never send it twice. Day and session are part of the key, so a
# booking moved to another session is reminded again of its new time.

booking_reminders = sa.Table(
    "booking_reminders",
    metadata,
    _pk(),
    sa.Column("booking_id", sa.BigInteger, sa.ForeignKey("bookings.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("session", sa.String(32), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("booking_id", "kind", "day", "session"),
)

# --- CARE tickets (migration 0006) ------------------------------------------------------------
# ``ticket_id`` is the citizen-facing CARE-YYYYMMDD-NNNN; ``ticket_counters`` hands out
# the day's numbers with one upsert, like the queue numbers. ``sla_due_at`` is the
# deadline of the ticket's current stage; ``sla_breached_at`` is set once per stage.

tickets = sa.Table(
    "tickets",
    metadata,
    _pk(),
    sa.Column("ticket_id", sa.String(24), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("category", sa.String(200), nullable=False, server_default=""),
    sa.Column("service_id", sa.String(64), nullable=True),
    sa.Column("agency", sa.String(64), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("incident_when", sa.String(200), nullable=False, server_default=""),
    sa.Column("incident_where", sa.String(200), nullable=False, server_default=""),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("conversation_id", sa.BigInteger, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("assigned_to", sa.BigInteger, sa.ForeignKey("officers.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("sla_due_at", UTCDateTime(), nullable=True),
    sa.Column("sla_breached_at", UTCDateTime(), nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("rating", sa.Integer, nullable=True),
    sa.Column("rating_comment", sa.Text, nullable=True),
    sa.Column("rated_at", UTCDateTime(), nullable=True),
    sa.Column("needs_supervisor", sa.Boolean, nullable=False, server_default=sa.false()),
    # The reporter's NIK as Fernet ciphertext (migration 0008), never in clear.
    sa.Column("reporter_nik", sa.Text, nullable=True),
    # high (bribery, shorter deadlines) or normal; what it is about (migration 0010).
    sa.Column("priority", sa.String(8), nullable=False, server_default="normal"),
    sa.Column("object", sa.String(16), nullable=True),
    sa.Index("ix_tickets_status_agency", "status", "agency"),
    sa.Index("ix_tickets_contact", "contact_id"),
    sa.Index("ix_tickets_created_at", "created_at"),
    sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_1_to_5"),
)

ticket_events = sa.Table(
    "ticket_events",
    metadata,
    _pk(),
    sa.Column("ticket_pk", sa.BigInteger, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    # "citizen", "bot", "system" or "officer:<id>".
    sa.Column("actor", sa.String(64), nullable=False),
    # status, note, assign, rating, sla_breach.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

ticket_attachments = sa.Table(
    "ticket_attachments",
    metadata,
    _pk(),
    sa.Column("ticket_pk", sa.BigInteger, sa.ForeignKey("tickets.id"), nullable=False, index=True),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False, server_default=""),
    sa.Column("caption", sa.String(1000), nullable=False, server_default=""),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

ticket_counters = sa.Table(
    "ticket_counters",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
)

# --- officers and the console (migration 0006) ------------------------------------------------

officers = sa.Table(
    "officers",
    metadata,
    _pk(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(255), nullable=False),
    # officer, supervisor, admin.
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_login_at", UTCDateTime(), nullable=True),
)

officer_agencies = sa.Table(
    "officer_agencies",
    metadata,
    sa.Column("officer_id", sa.BigInteger, sa.ForeignKey("officers.id"), nullable=False),
    sa.Column("agency", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("officer_id", "agency"),
)

# Only a SHA-256 of the session cookie is kept, like the API tokens.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("officer_id", sa.BigInteger, sa.ForeignKey("officers.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    _pk(),
    sa.Column("at", UTCDateTime(), nullable=False, index=True),
    sa.Column("officer_id", sa.BigInteger, nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_kind", sa.String(32), nullable=False, server_default=""),
    sa.Column("target_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("detail", _json(), nullable=False),
)

# --- information media (migration 0011) --------------------------------------------------------
# A subscription is a contact's consent to one topic; every subscribe and unsubscribe is also
# kept as a consent record (when, on which channel, which words), which outlives the
# subscription. An announcement's audience becomes one delivery row per recipient when it
# starts: the unique key is what keeps a restart or a second process from sending anyone
# the same announcement twice.

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    _pk(),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False),
    sa.Column("topic", sa.String(64), nullable=False),
    # Where the citizen consented: the route when they have no open conversation.
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("contact_id", "topic", name="uq_subscriptions_contact_topic"),
    sa.Index("ix_subscriptions_topic", "topic"),
)

consent_records = sa.Table(
    "consent_records",
    metadata,
    _pk(),
    sa.Column(
        "contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False, index=True
    ),
    # subscribe or unsubscribe; topic NULL means every topic at once (STOP).
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("topic", sa.String(64), nullable=True),
    sa.Column("channel", sa.String(32), nullable=False),
    # chat, sms_stop, email_link, api: how the consent was given or taken back.
    sa.Column("source", sa.String(16), nullable=False),
    # The citizen's words (NIKs and phone numbers masked), the proof of consent.
    sa.Column("words", sa.Text, nullable=False, server_default=""),
    sa.Column("at", UTCDateTime(), nullable=False),
)

announcements = sa.Table(
    "announcements",
    metadata,
    _pk(),
    # draft, scheduled, sending, paused, sent, cancelled.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("topics", _json(), nullable=False),
    # A targeted notice instead of topics: {"service" or "agency": id, "date": ISO day}.
    sa.Column("audience", _json(), nullable=True),
    sa.Column("title", sa.String(200), nullable=False, server_default=""),
    sa.Column("text_id", sa.Text, nullable=False),
    sa.Column("text_en", sa.Text, nullable=False, server_default=""),
    sa.Column("send_at", UTCDateTime(), nullable=True),
    # "officer:<id>" or "api:<token name>".
    sa.Column("created_by", sa.String(120), nullable=False),
    sa.Column("approved_by", sa.String(120), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("approved_at", UTCDateTime(), nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("recipients", sa.Integer, nullable=True),
    sa.Index("ix_announcements_status_send_at", "status", "send_at"),
)

announcement_deliveries = sa.Table(
    "announcement_deliveries",
    metadata,
    _pk(),
    sa.Column("announcement_id", sa.BigInteger, sa.ForeignKey("announcements.id"), nullable=False),
    sa.Column("contact_id", sa.BigInteger, sa.ForeignKey("contacts.id"), nullable=False),
    # The route chosen when the audience was drawn; the contact's open conversation at
    # hand-over time wins, so the citizen gets it where they write now.
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    # The booking a targeted notice is about (its move/cancel offer names it).
    sa.Column("booking_code", sa.String(16), nullable=True),
    # queued, handed (an outbound message exists), skipped (opted out meanwhile), cancelled.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.BigInteger, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint(
        "announcement_id", "contact_id", name="uq_announcement_deliveries_recipient"
    ),
    sa.Index("ix_announcement_deliveries_status", "announcement_id", "status", "channel"),
)
