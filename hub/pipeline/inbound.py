"""The inbound pipeline: dedupe, persist, find the conversation, understand, answer.

A channel's webhook is acknowledged as soon as :meth:`Inbound.accept` returns,
which is after the message is committed. Processing happens afterwards under a
per-conversation lock and always takes the conversation's *oldest* pending
message, so one citizen's messages are answered in order even when several
tasks or processes race, and a restart picks up whatever was left pending.

Personal data (hub.pii): a message is stored with its NIKs and phone numbers
masked, in its text and its raw payload alike; the NIKs it held are kept beside it
only encrypted (:class:`hub.security.vault.NikVault`) and reach the dialogs that way
(``DialogContext.sealed_niks``), so a flow that needs one (a complaint's reporter)
never sees, nor stores, it in clear. Replies are masked by the store as well.

Understanding is :class:`hub.pipeline.understanding.Understanding`'s job, the
conversation's next step the dialogs', and every reply leaves through
:class:`hub.pipeline.outbound.Outbound`: this module only moves the message along.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub import addresses, pii
from hub.channels.base import Capabilities
from hub.config import Settings
from hub.coordination import Coordinator
from hub.coordination.live import announce
from hub.coordination.ratelimit import RateLimiter, Verdict
from hub.dialogs.engine import SERVED, DialogContext, DialogEngine, Outcome, Turn
from hub.metrics import Metrics
from hub.model import (
    ConversationStatus,
    DeliveryUpdate,
    InboundMessage,
    ProcessingState,
    Reply,
    utcnow,
)
from hub.nlu.results import Parse
from hub.pipeline.outbound import Outbound
from hub.pipeline.understanding import Understanding
from hub.security.vault import NikVault
from hub.store import Database, contacts, conversations, messages
from hub.store.records import ConversationRecord, InboundRecord

log = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 3 * 24 * 3600
STATUS_RETRY_DELAYS = (0.5, 2.0, 10.0)
CITIZEN_RULE = "citizen"
"""The rate limit (``ratelimit.citizen``) on messages from one citizen address."""
FLOOD_TEMPLATE = "rate_limited"
FLOOD_ERROR = "rate_limited"
"""Why a stored message got no bot answer; also the ``not_answered`` metric's reason."""


class NotAccepting(Exception):
    """The hub is shutting down; the channel should answer 503 so the provider retries."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The pipeline's answer to a channel: stored (or already stored) and safe to ack."""

    duplicate: bool
    message_id: int | None = None
    conversation_id: int | None = None


class Inbound:
    """From a channel's webhook to the replies in the outbox, one conversation at a time."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        coordinator: Coordinator,
        understanding: Understanding,
        dialogs: DialogEngine,
        outbound: Outbound,
        metrics: Metrics,
        vault: NikVault,
        clock: Callable[[], datetime] = utcnow,
        limiter: RateLimiter | None = None,
    ) -> None:
        """``clock`` tells the citizen's "today"; tests pass a fixed one. ``vault``
        encrypts the NIKs a message holds before anything of it is stored. ``limiter``
        slows a flood from one address (rule ``citizen``); None: no limit."""
        self.settings = settings
        self.db = db
        self.coordinator = coordinator
        self.understanding = understanding
        self.dialogs = dialogs
        self.outbound = outbound
        self.metrics = metrics
        self.vault = vault
        self.clock = clock
        self.limiter = limiter
        self._zone = ZoneInfo(settings.server.timezone)
        self._tasks: set[asyncio.Task[None]] = set()
        self._status_retries: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()
        self._accepting = True

    async def accept(self, msg: InboundMessage) -> Accepted:
        """Dedupe and persist one inbound message, then schedule its processing."""
        if not self._accepting:
            raise NotAccepting()
        capabilities = self.outbound.capabilities(msg.channel)
        address = addresses.normalise(msg.sender, capabilities.address_kind)
        key = f"dedupe:{msg.channel}:{msg.provider_message_id}"
        if await self.coordinator.seen(key):
            self.metrics.duplicates.labels(msg.channel).inc()
            return Accepted(duplicate=True)
        # Counted before the lock: a flood never waits behind itself to learn it is one.
        verdict = await self._rate(msg, address)
        lock = self.coordinator.lock(f"addr:{address}", lease_seconds=15, wait_seconds=30)
        handed_off = False
        noticed = False
        async with lock, self.db.begin() as conn:
            if await messages.is_stored(conn, msg.channel, msg.provider_message_id):
                message_id = None
            else:
                if msg.verified is False:  # a claimed address: never someone's history
                    contact_id = await contacts.new_unlinked_contact(conn, msg.sender_name)
                else:
                    contact_id = await contacts.resolve_contact(
                        self.db, conn, msg.channel, address, msg.sender_name
                    )
                locale = await contacts.contact_locale(conn, contact_id)
                conversation = await conversations.open_for_inbound(
                    conn,
                    contact_id,
                    msg.channel,
                    address,
                    locale or self.settings.locale.default,
                    msg.received_at,
                    _threading(msg, capabilities),
                )
                message_id = await messages.insert_inbound(
                    self.db,
                    conn,
                    conversation.id,
                    msg,
                    sealed_niks=[self.vault.encrypt(n) for n in pii.nik_values(msg.text)],
                )
                if msg.verified is not False:
                    await contacts.touch_identity(conn, msg.channel, address, msg.received_at)
                if message_id is not None and msg.hold:
                    handed_off = await self._hold(conn, conversation, message_id, msg.hold)
                elif message_id is not None and not verdict.allowed:
                    noticed = await self._slow_down(conn, conversation, message_id, verdict)
        await self.coordinator.mark_seen(key, DEDUPE_TTL_SECONDS)
        if message_id is None:
            self.metrics.duplicates.labels(msg.channel).inc()
            return Accepted(duplicate=True)
        self.metrics.inbound.labels(msg.channel).inc()
        if not verdict.allowed and not msg.hold:
            self.metrics.not_answered.labels(msg.channel, FLOOD_ERROR).inc()
            if noticed:
                self.outbound.queued()
            # Not answered, but an officer holding the conversation sees it arrive.
            await announce(
                self.coordinator, "message", conversation_id=conversation.id, message_id=message_id
            )
        elif not msg.hold:
            self._spawn(self.process(conversation.id))
        elif handed_off:
            await announce(
                self.coordinator, "handoff", conversation_id=conversation.id, reason=msg.hold
            )
        else:
            await announce(
                self.coordinator, "message", conversation_id=conversation.id, message_id=message_id
            )
        return Accepted(duplicate=False, message_id=message_id, conversation_id=conversation.id)

    async def _rate(self, msg: InboundMessage, address: str) -> Verdict:
        """One more message from this address under ``ratelimit.citizen``, in every process
        (Redis). Keyed by channel and sender, never by the source IP: webhooks all come
        from a few provider addresses. Held mail is not answered anyway and not counted."""
        if self.limiter is None or msg.hold:
            return Verdict(True)
        return await self.limiter.hit(CITIZEN_RULE, f"{msg.channel}:{address}")

    async def _slow_down(
        self, conn: Any, conversation: ConversationRecord, message_id: int, verdict: Verdict
    ) -> bool:
        """Keep a message over the limit unanswered (officers still see it) and tell the
        citizen once per window; True when the notice was queued. Runs under the
        address lock, so two processes never both send the notice."""
        await messages.mark_processed(conn, message_id, ProcessingState.HANDLED, error=FLOOD_ERROR)
        assert self.limiter is not None
        notice = f"flood:{conversation.channel}:{conversation.address}"
        if await self.coordinator.seen(notice):
            return False
        quiet = max(verdict.retry_after, self.limiter.shortest_window(CITIZEN_RULE), 1.0)
        await self.coordinator.mark_seen(notice, quiet)
        await self.outbound.replies(
            conn, conversation, [Reply(FLOOD_TEMPLATE)], conversation.locale
        )
        return True

    async def _hold(
        self, conn: Any, conversation: ConversationRecord, message_id: int, reason: str
    ) -> bool:
        """Keep the message for officers with no bot answer: the conversation waits in the
        console and the message needs no processing. True when this handed it off."""
        await messages.mark_processed(conn, message_id, ProcessingState.HANDLED)
        if conversation.status is not ConversationStatus.BOT:
            return False
        await conversations.hand_off(conn, conversation.id, reason, self.clock())
        self.metrics.handoffs.labels(reason).inc()
        return True

    async def record_status(self, update: DeliveryUpdate) -> bool:
        """A provider's delivery status for an outbound message; idempotent.

        A callback can overtake the dispatcher, arriving before the provider's id of
        the message is committed; such an update is tried again a few times.
        """
        async with self.db.begin() as conn:
            found = await messages.apply_delivery_update(conn, update)
        self.metrics.delivery_updates.labels(update.channel, update.status.value).inc()
        if found:
            await announce(self.coordinator, "delivery", status=update.status.value)
        if not found and self._accepting:
            task = asyncio.create_task(self._retry_status(update))
            self._status_retries.add(task)
            task.add_done_callback(self._status_retries.discard)
        return found

    async def _retry_status(self, update: DeliveryUpdate) -> None:
        for delay in STATUS_RETRY_DELAYS:
            # Closing ends the wait, never a query: a query cancelled mid-flight can leave
            # a database connection whose close never finishes.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
            if self._closing.is_set():
                return
            try:
                async with self.db.begin() as conn:
                    if await messages.apply_delivery_update(conn, update):
                        return
            except Exception:
                log.warning("delivery status not recorded yet", extra={"channel": update.channel})

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def process(self, conversation_id: int) -> None:
        """Handle every pending message of a conversation, oldest first."""
        try:
            async with self.coordinator.lock(
                f"conv:{conversation_id}", lease_seconds=60, wait_seconds=300
            ):
                while True:
                    async with self.db.begin() as conn:
                        pending = await messages.pending_inbound(conn, conversation_id)
                    if not pending:
                        return
                    for record in pending:
                        await self._handle(record)
        except Exception:
            # Messages stay pending and are picked up again on the next message or restart.
            log.exception(
                "processing of a conversation stopped", extra={"conversation_id": conversation_id}
            )

    def today(self) -> date:
        """The citizen's calendar day (WITA): relative dates resolve against it."""
        return self.clock().astimezone(self._zone).date()

    async def _understand(self, record: InboundRecord) -> Parse | None:
        """NLU runs outside any transaction: a Rasa call must not hold the database."""
        if record.choice_payload or not record.text.strip():
            return None
        parse = await self.understanding.parse(record.text, today=self.today())
        if parse is not None:
            self.metrics.nlu_intents.labels(parse.intent.name).inc()
        return parse

    async def _handle(self, record: InboundRecord) -> None:
        """Understand, read the conversation, run the dialog, then write the outcome.

        No transaction is held while the dialog runs: a flow may call a domain
        service (booking) that opens its own, and SQLite has one connection per
        process. The per-conversation lock keeps the state from changing meanwhile.
        """
        try:
            parse = await self._understand(record)
            async with self.db.begin() as conn:
                conversation = await conversations.get(conn, record.conversation_id)
                if conversation is None:
                    raise LookupError("conversation vanished")
                # An SMS STOP is acted on even then (the bot confirms; officers still see it).
                for_officers = _for_officers(conversation) and not self.dialogs.opts_out(
                    conversation.channel, record.text, record.choice_payload
                )
                if for_officers:
                    # Officers answer these; the console shows the message.
                    await messages.mark_processed(conn, record.id, ProcessingState.HANDLED)
            if for_officers:
                await announce(
                    self.coordinator,
                    "message",
                    conversation_id=conversation.id,
                    message_id=record.id,
                )
                return
            outcome = await self._converse(conversation, record, parse)
            async with self.db.begin() as conn:
                await self._record(conn, conversation, record, outcome)
            if conversation.status in (ConversationStatus.HANDOFF, ConversationStatus.OFFICER):
                # Served while waiting (or a STOP): the console holding it sees the message.
                await announce(
                    self.coordinator,
                    "message",
                    conversation_id=conversation.id,
                    message_id=record.id,
                )
            if outcome.handoff:
                self.metrics.handoffs.labels(outcome.handoff).inc()
                await announce(
                    self.coordinator,
                    "handoff",
                    conversation_id=conversation.id,
                    reason=outcome.handoff,
                )
        except Exception as exc:
            log.exception("pipeline failed on a message", extra={"message_id": record.id})
            self.metrics.pipeline_failures.inc()
            await self._fail(record, exc)
            return
        self.metrics.pipeline_seconds.observe((utcnow() - record.created_at).total_seconds())
        self.outbound.queued()

    async def _converse(
        self, conversation: ConversationRecord, record: InboundRecord, parse: Parse | None
    ) -> Outcome:
        turn = Turn(
            text=record.text,
            choice_payload=record.choice_payload,
            channel=conversation.channel,
            default_locale=self.settings.locale.default,
            supported_locales=tuple(self.settings.locale.supported),
            parse=parse,
            attachments=tuple(record.attachments),
        )
        context = DialogContext(
            contact_id=conversation.contact_id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            today=self.today(),
            now=self.clock(),
            sealed_niks=record.sealed_niks,
            address=conversation.address,
        )
        outcome = await self.dialogs.respond(turn, conversation.state, conversation.locale, context)
        if outcome.replies and outcome.replies[0].template == "clarify":
            self.metrics.nlu_clarifications.inc()
        return outcome

    async def _record(
        self,
        conn: Any,
        conversation: ConversationRecord,
        record: InboundRecord,
        outcome: Outcome,
    ) -> None:
        await self.outbound.replies(conn, conversation, outcome.replies, outcome.locale, record)
        await conversations.save_dialog(
            conn, conversation.id, state=outcome.state, locale=outcome.locale
        )
        if outcome.handoff:
            await conversations.hand_off(conn, conversation.id, outcome.handoff, self.clock())
        if outcome.locale != conversation.locale:
            await contacts.set_locale(conn, conversation.contact_id, outcome.locale)
        understanding = outcome.understanding
        await messages.mark_processed(
            conn,
            record.id,
            ProcessingState.HANDLED,
            intent=understanding.intent.name,
            entities=_stored_understanding(understanding),
        )

    async def _fail(self, record: InboundRecord, exc: Exception) -> None:
        """Keep the message, mark it failed, and tell the citizen we have it."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            async with self.db.begin() as conn:
                await messages.mark_processed(conn, record.id, ProcessingState.FAILED, error=error)
                conversation = await conversations.get(conn, record.conversation_id)
                if conversation is not None:
                    await self.outbound.replies(
                        conn, conversation, [Reply("error")], conversation.locale, record
                    )
        except Exception:
            log.exception("could not mark a failed message", extra={"message_id": record.id})
            return
        self.outbound.queued()

    async def recover(self, older_than_seconds: float | None = None) -> int:
        """Process what was left pending; returns how many conversations.

        At start every pending message counts; the periodic sweep only takes those
        older than ``older_than_seconds``, so it never races a message just accepted.
        """
        before = None
        if older_than_seconds is not None:
            before = utcnow() - timedelta(seconds=older_than_seconds)
        async with self.db.begin() as conn:
            pending = await messages.conversations_with_pending(conn, before)
        for conversation_id in pending:
            self._spawn(self.process(conversation_id))
        return len(pending)

    def turns_in_progress(self) -> int:
        """Messages of this process being understood and answered right now."""
        return len(self._tasks)

    async def idle(self) -> None:
        """Wait until every scheduled processing task has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace_seconds: float) -> None:
        """Stop accepting, give in-flight work ``grace_seconds``, cancel the rest."""
        self._accepting = False
        # Best effort only: a late callback for an unknown message is not worth waiting for,
        # but a retry in the middle of its query finishes it.
        self._closing.set()
        await asyncio.gather(*list(self._status_retries), return_exceptions=True)
        if not self._tasks:
            return
        try:
            await asyncio.wait_for(self.idle(), grace_seconds)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            log.warning("shutdown cut processing short; pending messages resume on restart")


def _for_officers(conversation: ConversationRecord) -> bool:
    """Whether only officers answer now: a claimed conversation, or one handed over at the
    citizen's request in office hours. A handoff the citizen did not ask for (or one
    outside office hours) keeps the bot answering clear requests until an officer
    claims it (:data:`hub.dialogs.engine.SERVED`)."""
    if conversation.status is ConversationStatus.OFFICER:
        return True
    if conversation.status is ConversationStatus.HANDOFF:
        return not conversation.state.get(SERVED)
    return False


def _threading(msg: InboundMessage, capabilities: Capabilities) -> conversations.Threading | None:
    """Where a threaded channel's message belongs: by the ids it answers, else by recency."""
    if not capabilities.threaded:
        return None
    idle = capabilities.thread_idle_hours
    return conversations.Threading(
        message_id=msg.provider_message_id,
        refers_to=msg.thread,
        subject=msg.subject,
        idle_after=timedelta(hours=idle) if idle is not None else None,
    )


def _stored_understanding(parse: Parse) -> dict[str, Any]:
    """What is kept of the NLU's answer (the store masks any NIK or phone in it)."""
    return {
        "confidence": round(parse.intent.confidence, 4),
        "engine": parse.engine,
        "entities": [
            {"type": e.type, "value": e.value, "start": e.start, "end": e.end}
            for e in parse.entities
        ],
    }
