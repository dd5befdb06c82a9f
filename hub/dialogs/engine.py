"""The conversation flows: an understood message in, ``Reply``s and new state out.

The inbound pipeline understands the message first (NLU), reads the conversation's state,
calls :meth:`DialogEngine.respond` and stores the :class:`Outcome` in a transaction
of its own (``Inbound._handle`` in :mod:`hub.pipeline.inbound`). The engine itself runs
outside any transaction, under the conversation's lock, which keeps the state from
changing meanwhile: its booking and CARE flows call their domain services, which
open their own transactions. Only :meth:`DialogEngine.handle`, the engine without
those services, is pure. It chooses by intent; when the NLU is unsure it asks which
of the two likeliest intents was meant instead of guessing.

Service information is answered by :mod:`hub.dialogs.info` from the catalogue.
Queue booking (:mod:`hub.dialogs.booking`) and CARE (:mod:`hub.dialogs.care`:
complaints, appreciations, their status and rating, handing a conversation to the
officers) need their domain services, which do I/O: they run from
:meth:`DialogEngine.respond`, the async door the inbound pipeline calls, and so do
subscriptions to the mall's announcements (:mod:`hub.dialogs.subscriptions`). A flow under
way has the first say; without one, a subscription request, CARE (or an awaited rating),
then booking, then the rest.

A flow under way is a frame (:mod:`hub.dialogs.frames`): the engine never loses it
to an unexpected message. While one waits for an answer:

- an explicit cancel ("gajadi", "batal", "cancel", "stop": :mod:`hub.dialogs.cancel_words`)
  ends it and the citizen is told nothing was booked or filed; a flow may read a
  cancel word as its answer ("batalin aja" asked whether to cancel a booking); on SMS,
  STOP and the operators' other opt-out keywords stop the citizen's subscriptions instead
  and the flow goes on (CANCEL does both);
- small talk ("makasih", "👍", "wkwk") and a status check get a short answer, then
  the question again; "ok"/"ya" stay answers where the question is yes or no;
- a subscription request ("langganan info imigrasi") is done, then the question again;
- what the flow takes is its answer; a question it does not take (a fee, hours,
  requirements, a greeting, the menu) is answered, then "Kembali ke …" and the question
  again, in one turn; a question that needs a service the flow does not know ("which
  service?") pauses the flow until it is answered;
- a message that starts the *other* flow (a complaint mid-booking, a booking
  mid-complaint) asks whether to keep the first (paused, resumed once the new one ends,
  done or cancelled), drop it, or go back to it;
- anything else is not understood: the question again with its options, never a
  fallback, never counted toward a handoff;
- a flow idle longer than ``dialogs.flow_timeout_minutes`` (``DialogContext.now``
  against the time kept in the state) is dropped: the next message is answered fresh,
  led by a line saying what was dropped.

A message not understood twice in a row is handed to the officers (with CARE
present; the pure engine shows the menu again): the count of fallbacks in a row
is kept in the state and cleared by any message that is understood. Only messages
outside any flow count: a miss inside a booking or CARE flow is the flow's business.

A handoff the citizen did not ask for (``failures``), and any handoff outside office
hours, keeps the citizen served: the state gets :data:`SERVED` and, until an officer
claims the conversation, the inbound pipeline still brings messages here. Clear requests are
answered as usual; an unclear one gets no answer (it waits for the officer, with no
fallback and no second handoff notice). A citizen who asks for a person (the NLU's
``talk_to_human`` or :mod:`hub.dialogs.person`'s words), or who is angry when the bot
does not understand, is handed over at once (``asked`` / ``angry``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.announcements import Subscriptions
from hub.booking import BookingService
from hub.care.service import CareService
from hub.catalogue import Catalogue, CurrentCatalogue, current, load_catalogue
from hub.dialogs import booking as booking_flow
from hub.dialogs import cancel_words, frames
from hub.dialogs import care as care_flow
from hub.dialogs import subscriptions as subscriptions_flow
from hub.dialogs.anger import is_angry
from hub.dialogs.booking import BOOKING_INTENTS, BookingFlow
from hub.dialogs.care import CARE_INTENTS, CareFlow
from hub.dialogs.care_followup import LISTED, SHOWN
from hub.dialogs.context import DialogContext
from hub.dialogs.frames import Flow
from hub.dialogs.info import AWAITING, INFO_INTENTS, InfoFlow
from hub.dialogs.offered import numbered_choice, remember_offered, take_offered
from hub.dialogs.person import asks_for_a_person, demands_a_person
from hub.dialogs.subscriptions import (
    FLOW_CANCELLING_KEYWORDS,
    SUBSCRIPTION_INTENTS,
    SubscriptionFlow,
    consent_words,
    opt_out_keyword,
)
from hub.model import Choice, Reply
from hub.nlu.results import ENTITY_TYPES, Entity, IntentScore, Parse

__all__ = [
    "SERVED",
    "DialogContext",
    "DialogEngine",
    "Outcome",
    "Turn",
    "pick_locale",
    "read_payload",
]

MENU_INTENTS = ("ask_service_info", "book_queue", "file_complaint", "talk_to_human", "subscribe")
"""What the menu offers, in order; each is an intent name the NLU also produces."""

FEATURE_OF = {
    "file_complaint": "file_complaint",
    "check_complaint_status": "file_complaint",
    "give_appreciation": "file_complaint",
    "talk_to_human": "talk_to_human",
    "subscribe": "subscribe",
    "unsubscribe": "subscribe",
    "list_subscriptions": "subscribe",
}
"""CARE and subscription intents by the menu feature they belong to: named when the
service they need is not given."""

PAYLOAD_KEYS = (*ENTITY_TYPES, "rating", "option", "topic")
"""What a chosen payload may carry: the entity types, plus values only buttons give
(a ticket's rating, a flow's option such as "skip" or "anonymous", a subscription topic)."""

FALLBACKS_BEFORE_HANDOFF = 2
"""Messages not understood in a row before the officers take over (with CARE)."""

FLOW_KEYS = (
    AWAITING,
    booking_flow.STATE,
    care_flow.STATE,
    care_flow.RATING_STATE,
    subscriptions_flow.STATE,
    "fallbacks",
    LISTED,
    SHOWN,
    *frames.FRAME_KEYS,
)
"""State dropped when the officers take over: the bot's questions are void then."""

SERVED = "served"
"""State key of a conversation waiting for an officer while the bot still answers clear
requests (a handoff for ``failures``, or outside office hours); cleared when the
conversation goes back to the bot, ignored once an officer claims it."""

NOT_UNDERSTOOD = ("fallback", "clarify")
"""First replies that mean the bot did not understand the message."""

UNCLEAR = ("out_of_scope", "inform", "affirm", "deny")
"""Intents never offered in a clarifying question: they are not something to ask for."""

SWITCH_CONFIDENCE = 0.8
"""How sure the NLU must be that a message mid-flow checks a booking or a ticket."""

FLOW_TIMEOUT = timedelta(minutes=30)
"""A flow idle this long is dropped (``dialogs.flow_timeout_minutes``)."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One citizen message as the dialogs see it: understood text or a chosen payload."""

    text: str
    choice_payload: str | None
    channel: str
    default_locale: str
    supported_locales: tuple[str, ...]
    parse: Parse | None = None
    attachments: tuple[dict[str, Any], ...] = ()
    """Files the citizen sent with this message (content_type, url, filename, caption)."""


@dataclass(slots=True)
class Outcome:
    replies: list[Reply]
    state: dict[str, Any]
    locale: str
    understanding: Parse
    handoff: str | None = None
    """Why the conversation goes to the officers (asked, angry, repeated, failures);
    None keeps it with the bot. The inbound pipeline moves it to ``handoff``."""


class DialogEngine:
    """Routes each understood message to a flow and keeps the flows as frames; it does
    I/O only through the booking and CARE services it is given."""

    def __init__(
        self,
        threshold: float = 0.4,
        catalogue: Catalogue | CurrentCatalogue | None = None,
        bookings: BookingService | None = None,
        care: CareService | None = None,
        flow_timeout: timedelta = FLOW_TIMEOUT,
        subscriptions: Subscriptions | None = None,
    ) -> None:
        """``catalogue`` defaults to the shipped services.yaml (handy in tests); the hub
        passes the one in use, so a reload is answered from on the next message.

        Without ``bookings``, ``care`` or ``subscriptions`` (the pure engine of unit
        tests) those intents are answered as not available, since they need the database.
        """
        self.threshold = threshold
        self.flow_timeout = flow_timeout
        self._catalogues = current(catalogue if catalogue is not None else load_catalogue())
        self._info = InfoFlow(self._catalogues.catalogue)
        self.booking = BookingFlow(bookings, _menu) if bookings is not None else None
        self.care = CareFlow(care, _menu, threshold) if care is not None else None
        self.subscribing = (
            SubscriptionFlow(subscriptions, _menu, threshold) if subscriptions is not None else None
        )

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogues.catalogue

    @property
    def info(self) -> InfoFlow:
        """The information answers, from the catalogue in use."""
        if self._info.catalogue is not self._catalogues.catalogue:
            self._info = InfoFlow(self._catalogues.catalogue)
        return self._info

    def opts_out(self, channel: str, text: str, choice_payload: str | None) -> bool:
        """Whether a message is an SMS opt-out keyword this engine acts on: the inbound
        pipeline brings it here even while an officer holds the conversation, since the
        operators' rule has no exception."""
        keyword = opt_out_keyword(channel, text) if choice_payload is None else None
        return self.subscribing is not None and keyword is not None

    def understand(self, turn: Turn) -> Parse:
        if turn.choice_payload and turn.choice_payload.startswith("/"):
            return read_payload(turn.choice_payload, turn.text)
        if turn.parse is not None:
            return turn.parse
        return Parse(text=turn.text, intent=IntentScore("out_of_scope", 0.0))

    async def respond(
        self, turn: Turn, state: dict[str, Any], locale: str, context: DialogContext
    ) -> Outcome:
        """What the inbound pipeline calls with the conversation's stored state.

        A digit answering the numbered menu offered last becomes that choice
        (:mod:`hub.dialogs.offered`), and what this turn offers is kept for the next.
        An SMS opt-out keyword comes before anything else (:meth:`_opt_out`).
        """
        keyword = opt_out_keyword(turn.channel, turn.text) if turn.choice_payload is None else None
        if self.subscribing is not None and keyword is not None:
            cancelling = keyword in FLOW_CANCELLING_KEYWORDS
            return await self._opt_out(self.subscribing, turn, state, locale, context, cancelling)
        state = dict(state)
        offered = take_offered(state)
        if turn.choice_payload is None:
            chosen = numbered_choice(turn.text, offered)
            if chosen is not None:
                turn = dataclasses.replace(turn, choice_payload=chosen)
        outcome = await self._converse(turn, state, locale, context)
        remember_offered(outcome.state, outcome.replies)
        return outcome

    async def _converse(
        self, turn: Turn, state: dict[str, Any], locale: str, context: DialogContext
    ) -> Outcome:
        """Flows that need I/O (CARE, booking) get their turn here.

        A flow under way has the first say (:meth:`_in_flow`); without one, a CARE
        intent or an awaited rating goes to CARE, a booking intent or a booking code
        alone to booking, the rest is answered here. A flow that ends (done or
        cancelled) gives way to the flow paused before it, which asks its question again.
        """
        care, booking = self.care, self.booking
        if care is None and booking is None and self.subscribing is None:
            return self.handle(turn, state, locale)
        understanding = self.understand(turn)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        waiting = bool(state.get(SERVED))
        flows = self._flows()
        dropped = frames.expire(new_state, flows, context.now, self.flow_timeout, locale)
        in_flow = self._current(new_state) is not None or frames.SWITCH in new_state
        replies: list[Reply] | None = None
        unclear = False
        # A booking's applicant ("orang lain", "nama saya …") is the booking's, not a request.
        held = booking is not None and booking.holds(understanding, new_state, context)
        person = None if held else self._person_wanted(turn, understanding, new_state)
        if care is not None and person is not None:
            replies = [care.handoff(person, context)]
        if replies is None and frames.SWITCH in new_state:
            replies = await self._switch(understanding, new_state, locale, context)
        current = self._current(new_state) if replies is None else None
        if current is not None:
            replies, unclear = await self._in_flow(
                current, turn, understanding, new_state, locale, context
            )
        if replies is None:
            replies = await self._outside(
                understanding, turn.attachments, new_state, locale, context, _words(turn)
            )
        missed = bool(replies) and replies[0].template in NOT_UNDERSTOOD
        if missed and (in_flow or waiting):  # not counted toward a handoff
            _restore(new_state, state, "fallbacks")
        if (missed or unclear) and care is not None and turn.text and is_angry(turn.text):
            replies = [care.handoff("angry", context)]  # not understood, and angry: a person
        handoff = _handoff_reason(replies)
        last_straw = _failed(replies, new_state)
        if handoff is None and care is not None and last_straw:
            replies, handoff = [care.handoff("failures", context)], "failures"
        if waiting and (handoff == "failures" or (missed and handoff is None)):
            # Already waiting for an officer: an unclear message waits with it.
            replies, handoff = [], None
        if handoff is not None:
            for key in FLOW_KEYS:
                new_state.pop(key, None)
            new_state.pop(SERVED, None)
            if _keeps_serving(handoff, replies):
                new_state[SERVED] = True
        elif replies:
            replies = await self._come_back(replies, new_state, locale, context)
        if dropped and replies:
            replies = frames.with_lead(replies, Reply("flow_expired", {"flows": dropped}))
        frames.touch(new_state, flows, context.now)
        return Outcome(
            replies=replies,
            state=new_state,
            locale=locale,
            understanding=understanding,
            handoff=handoff,
        )

    # --- flows as frames: digressions, keep or drop, cancel, resume ---------------------------

    def _flows(self) -> dict[str, Flow]:
        flows: dict[str, Flow] = {}
        if self.care is not None:
            flows["care"] = self.care
        if self.booking is not None:
            flows["booking"] = self.booking
        if self.subscribing is not None:
            flows["subscription"] = self.subscribing
        return flows

    def _current(self, state: dict[str, Any]) -> Flow | None:
        """The flow under way (CARE first: a complaint is never written alongside; the
        subscription question is asked only while the others are paused)."""
        return next((f for f in self._flows().values() if f.active(state)), None)

    def _name_of(self, flow: Flow) -> str:
        return next(name for name, f in self._flows().items() if f is flow)

    async def _outside(
        self,
        understanding: Parse,
        attachments: tuple[dict[str, Any], ...],
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        words: str = "",
    ) -> list[Reply]:
        """A message with no flow under way: subscriptions, CARE, then booking, then the
        rest. ``words`` are the citizen's, for a consent record."""
        care, booking, subscribing = self.care, self.booking, self.subscribing
        replies: list[Reply] | None = None
        if subscribing is not None and subscribing.takes(understanding):
            state.pop(AWAITING, None)
            replies = await subscribing.respond(understanding, state, locale, context, words)
        if replies is None and care is not None and care.takes(understanding, state):
            replies = await care.respond(understanding, state, locale, context, attachments)
            if replies is not None:
                state.pop(AWAITING, None)
        if replies is None and booking is not None:
            intent = understanding.intent
            wanted = intent.name in BOOKING_INTENTS and intent.confidence >= self.threshold
            forget = booking.forget_asked(understanding)  # "hapus NIK saya"
            if wanted or forget or booking.takes(understanding, state):
                state.pop(AWAITING, None)
                replies = await booking.respond(understanding, state, locale, context)
        if replies is None:
            replies = self._respond(understanding, state, locale)
        return replies

    async def _in_flow(
        self,
        current: Flow,
        turn: Turn,
        understanding: Parse,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> tuple[list[Reply], bool]:
        """A message while ``current`` waits for an answer; True when it fit nothing.

        Only an explicit cancel ends the flow. Small talk and a status check are
        answered and the question asked again; what the flow takes is its answer; what it
        does not take is a question answered before the flow comes back, another flow
        (keep or drop this one?), or not understood: the question again, state kept.
        """
        typed = "" if understanding.engine == "choice" else turn.text
        about = current.describe(state, locale)
        if typed and cancel_words.cancels(typed) and not current.cancel_is_answer(state, typed):
            return current.cancel(state), False
        booking = self.booking
        if (
            current is booking
            and booking is not None
            and booking.holds(understanding, state, context)
        ):
            # "atas nama Made Sudiarta", "buat orang lain": the applicant, before any other
            # reading ("orang lain" sounds like asking for a person).
            held = await booking.respond(understanding, state, locale, context)
            if held is not None:
                return held, False
        talk = cancel_words.small_talk(typed) if typed else None
        if talk in ("thanks", "emoji", "laugh"):
            again = await current.reask(state, locale, context)
            if talk == "thanks":
                again = frames.with_lead(again, frames.lead("thanks", about))
            return again, False
        status = await self._status_check(understanding, state, locale, context)
        if status is not None:
            return await self._digressed(status, current, about, state, locale, context), False
        aside = await self._subscription_aside(current, turn, understanding, state, locale, context)
        if aside is not None:
            return aside, False
        intent = understanding.intent
        sure = intent.confidence >= self.threshold
        if (
            current is self.subscribing
            and sure
            and intent.name in (*BOOKING_INTENTS, *CARE_INTENTS)
        ):
            # "Which topic?" is no flow to keep: another request simply replaces it.
            self.subscribing.leave(state)
            words = _words(turn)
            return await self._outside(
                understanding, turn.attachments, state, locale, context, words
            ), False
        care = self.care
        if sure and intent.name == "talk_to_human" and care is not None and current is not care:
            # The person button pressed mid-booking (CARE reads its own: a story may
            # name an officer).
            return [care.handoff("asked", context)], False
        new = self._other_start(current, understanding) if sure else None
        # A booking never takes a complaint's words as its answer ("kemarin" is no date
        # to book); a complaint's story may sound like a booking, so CARE reads first.
        replies = None
        if new is None or current is not self.booking:
            replies = await self._flow_turn(current, understanding, turn, state, locale, context)
        if replies is not None:
            return replies, False
        if new is not None:
            frames.hold(state, understanding, turn.attachments, context)
            question = {"flow": about, "new": new}
            return [Reply("flow_switch", question, choices=frames.SWITCH_CHOICES)], False
        if sure and intent.name in INFO_INTENTS:
            info = self.info
            service = info.service_in(understanding) or info.catalogue.get(
                str(about.get("service_id") or "")
            )
            answer = info.answer(intent.name, service, state, locale)
            if AWAITING in state:  # "which service?": the flow waits until that is answered
                frames.pause(current, state, self._name_of(current))
                return answer, False
            return await self._digressed(answer, current, about, state, locale, context), False
        if sure and intent.name == "help":
            return await self._digressed([_menu()], current, about, state, locale, context), False
        outside = self.info.out_of_scope(understanding) if sure else None
        if outside is not None:  # "KITAS bisa di sini?" mid-booking: told so, then back
            return await self._digressed(outside, current, about, state, locale, context), False
        why = "unclear"
        if sure and intent.name in ("greet", "thanks"):
            why = intent.name
        elif talk == "ack" or (sure and intent.name in ("affirm", "goodbye")):
            why = "ack"
        again = await current.reask(state, locale, context)
        return frames.with_lead(again, frames.lead(why, about)), why == "unclear"

    async def _flow_turn(
        self,
        current: Flow,
        understanding: Parse,
        turn: Turn,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply] | None:
        """The flow's own reading of the message; None when it is not an answer."""
        if current is self.care and self.care is not None:
            return await self.care.respond(understanding, state, locale, context, turn.attachments)
        if current is self.booking and self.booking is not None:
            return await self.booking.respond(understanding, state, locale, context)
        if current is self.subscribing and self.subscribing is not None:
            return await self.subscribing.respond(
                understanding, state, locale, context, _words(turn)
            )
        return None

    async def _subscription_aside(
        self,
        current: Flow,
        turn: Turn,
        understanding: Parse,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply] | None:
        """ "langganan info imigrasi" or "berhenti langganan" mid-booking: done, then the
        flow's question again; "langganan" without a topic pauses the flow until the topic
        is chosen. None when the message is no such request (or not sure enough to leave
        the flow's reading of it)."""
        subscribing = self.subscribing
        if subscribing is None or current is subscribing:
            return None
        if current is self.care and self.care is not None and self.care.in_own_words(state):
            return None  # a complaint's story may speak of subscriptions: it is the story
        intent = understanding.intent
        if intent.name not in SUBSCRIPTION_INTENTS:
            return None
        if intent.confidence < SWITCH_CONFIDENCE and understanding.engine != "choice":
            return None
        about = current.describe(state, locale)
        answer = await subscribing.respond(understanding, state, locale, context, _words(turn))
        if answer is None:
            return None
        if subscribing.active(state):  # "which topic?": the flow waits until it is answered
            frames.pause(current, state, self._name_of(current))
            return answer
        return await self._digressed(answer, current, about, state, locale, context)

    async def _opt_out(
        self,
        subscribing: SubscriptionFlow,
        turn: Turn,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        cancelling: bool,
    ) -> Outcome:
        """An SMS opt-out keyword ("STOP", "BERHENTI"): every subscription stopped at once,
        whatever the conversation is doing, and a flow under way asks its question again.

        The operators' rule is stronger than a flow's reading of "stop" (a cancel): on SMS
        "batal" cancels a flow, STOP never does. ``cancelling`` (CANCEL) ends the flow as
        well, as the citizen means it. The choices offered last stay offered unless the
        reply offers others.
        """
        stopped = IntentScore("unsubscribe", 1.0)
        understanding = dataclasses.replace(
            self.understand(turn), intent=stopped, ranking=(stopped,), engine="sms_stop"
        )
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        flows = self._flows()
        dropped = frames.expire(new_state, flows, context.now, self.flow_timeout, locale)
        subscribing.leave(new_state)  # a pending "which topic?" is moot
        frames.held(new_state)  # and so is a new request waiting for keep-or-drop
        current = self._current(new_state)
        stop = await subscribing.stop(locale, context, _words(turn))
        if current is not None and not cancelling:
            about = current.describe(new_state, locale)
            take_offered(new_state)
            answer = [Reply(stop.template, {**stop.context, "flow": about})]
            replies = await self._digressed(answer, current, about, new_state, locale, context)
        else:
            left = current.cancel(new_state) if current is not None else []
            replies = await self._come_back([stop, *left], new_state, locale, context)
        if dropped:
            replies = frames.with_lead(replies, Reply("flow_expired", {"flows": dropped}))
        remember_offered(new_state, replies)
        new_state.pop("fallbacks", None)
        frames.touch(new_state, flows, context.now)
        return Outcome(replies=replies, state=new_state, locale=locale, understanding=understanding)

    async def _status_check(
        self, understanding: Parse, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply] | None:
        """ "cek antrean saya" or "status pengaduan?" mid-flow: the answer, or None."""
        intent = understanding.intent
        if intent.confidence < SWITCH_CONFIDENCE and understanding.engine != "choice":
            return None
        if intent.name == "check_booking" and self.booking is not None:
            return await self.booking.status(understanding, locale, context)
        if intent.name == "check_complaint_status" and self.care is not None:
            replies = await self.care.status(understanding, state, locale, context)
            state.pop(care_flow.RATING_STATE, None)  # the flow's question comes next
            return replies
        return None

    async def _digressed(
        self,
        answer: list[Reply],
        current: Flow,
        about: dict[str, Any],
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """The answer to a question asked mid-flow, then the flow's question again."""
        again = await current.reask(state, locale, context)
        back = frames.with_lead(again, frames.lead("back", about))
        return frames.without_choices(answer) + back

    def _other_start(self, current: Flow, understanding: Parse) -> dict[str, Any] | None:
        """The flow a message starts, when it is not ``current``'s kind."""
        name = understanding.intent.name
        if current is self.booking and name in ("file_complaint", "give_appreciation"):
            kind = "complaint" if name == "file_complaint" else "appreciation"
            return {"flow": "care", "kind": kind, "service": "", "service_id": ""}
        if current is self.care and name in ("book_queue", "reschedule_booking", "cancel_booking"):
            mode = {"book_queue": "book", "reschedule_booking": "reschedule"}.get(name, "cancel")
            return {"flow": "booking", "mode": mode, "service": "", "service_id": "", "code": ""}
        return None

    async def _switch(
        self, understanding: Parse, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply] | None:
        """The answer to "keep or drop?"; None when the message is about something else
        (the new request is forgotten, the first flow goes on)."""
        waiting = frames.held(state)
        current = self._current(state)
        answer = frames.switch_answer(understanding)
        if waiting is None or current is None or answer is None:
            return None
        about = current.describe(state, locale)
        if answer == frames.BACK:
            again = await current.reask(state, locale, context)
            return frames.with_lead(again, frames.lead("back", about))
        if answer == frames.KEEP:
            frames.pause(current, state, self._name_of(current))
        else:
            state.pop(current.state_key, None)
        played = dataclasses.replace(context, sealed_niks=waiting.sealed_niks)
        replies = await self._outside(
            waiting.understanding,
            waiting.attachments,
            state,
            locale,
            played,
            waiting.understanding.text,
        )
        why = "kept" if answer == frames.KEEP else "dropped"
        return frames.with_lead(replies, frames.lead(why, about))

    async def _come_back(
        self, replies: list[Reply], state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """With no flow under way any more, the newest paused one asks its question again."""
        if (
            self._current(state) is not None
            or frames.SWITCH in state
            or AWAITING in state
            or not frames.paused(state)
        ):
            return replies
        flow = frames.unpause(state, self._flows())
        if flow is None:
            return replies
        again = await flow.reask(state, locale, context)
        back = frames.with_lead(again, frames.lead("back", flow.describe(state, locale)))
        return frames.without_choices(frames.without_menu(replies)) + back

    def _person_wanted(self, turn: Turn, understanding: Parse, state: dict[str, Any]) -> str | None:
        """``asked`` (or ``angry``) when the citizen asks for a person outside a CARE flow
        (the flow has its own rule: a story may mention an officer)."""
        if self.care is None or self.care.active(state) or turn.choice_payload:
            return None
        intent = understanding.intent
        sure = intent.confidence >= self.threshold
        if (intent.name == "talk_to_human" and sure) or demands_a_person(turn.text):
            asked = True
        elif sure and intent.name in CARE_INTENTS:
            asked = False  # "mau komplain atasannya": a complaint about someone, not a request
        else:
            asked = asks_for_a_person(turn.text)
        if not asked:
            return None
        return "angry" if is_angry(turn.text) else "asked"

    def handle(self, turn: Turn, state: dict[str, Any], locale: str) -> Outcome:
        """The pure engine: information and small talk, without booking or CARE."""
        understanding = self.understand(turn)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        replies = self._respond(understanding, new_state, locale)
        _failed(replies, new_state)
        return Outcome(replies=replies, state=new_state, locale=locale, understanding=understanding)

    def _respond(self, understanding: Parse, state: dict[str, Any], locale: str) -> list[Reply]:
        info = self.info  # one catalogue for the whole turn, even if a reload swaps it
        # Before the confidence check: a bare "paspor" answering "which service?"
        # is rarely classified with confidence, yet it is a clear answer.
        resumed = info.resume(understanding, state, locale)
        if resumed is not None:
            return resumed
        intent = understanding.intent
        if intent.confidence < self.threshold:
            # Offer only plausible readings; a shot in the dark gets the menu instead.
            plausible = self.threshold / 4
            options = [
                s
                for s in understanding.ranking
                if s.name not in UNCLEAR and s.confidence >= plausible
            ][:2]
            if len(options) == 2:
                return [_clarify(options)]
            return self._fallback(state)
        name = intent.name
        if name == "greet":
            return [Reply("greet", {"returning": state["turns"] > 1}), _menu()]
        if name == "help":
            return [_menu()]
        if name == "thanks":
            return [Reply("thanks")]
        if name == "goodbye":
            return [Reply("goodbye")]
        if (outside := info.out_of_scope(understanding)) is not None:
            return [*outside, _menu()]
        if (several := info.about_several(understanding, locale)) is not None:
            return several
        if name in INFO_INTENTS:
            return info.answer(name, info.service_in(understanding), state, locale)
        if name in BOOKING_INTENTS:
            # Only without a booking service (respond() hands these to the flow).
            return [Reply("not_ready", {"feature": "book_queue"}), _menu()]
        if name in CARE_INTENTS or name in SUBSCRIPTION_INTENTS:
            # Only without the service they need (respond() hands these to the flows).
            return [Reply("not_ready", {"feature": FEATURE_OF[name]}), _menu()]
        return self._fallback(state)

    def _fallback(self, state: dict[str, Any]) -> list[Reply]:
        state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
        return [Reply("fallback", {"repeated": state["fallbacks"] > 1}), _menu()]


def _words(turn: Turn) -> str:
    """The citizen's words for a consent record: the text, and the payload of a choice."""
    return consent_words(turn.text, turn.choice_payload)


def _handoff_reason(replies: list[Reply]) -> str | None:
    """The CARE flow decides a handoff with the reply that tells the citizen about it."""
    for reply in replies:
        if reply.template == "handoff":
            return str(reply.context.get("reason") or "asked")
    return None


def _keeps_serving(handoff: str, replies: list[Reply]) -> bool:
    """A handoff the citizen did not ask for, or one outside office hours (no officer
    answers before morning), leaves the bot answering clear requests meanwhile."""
    if handoff == "failures":
        return True
    notice = next((r for r in replies if r.template == "handoff"), None)
    return notice is not None and notice.context.get("open") is False


def _restore(new_state: dict[str, Any], state: dict[str, Any], key: str) -> None:
    """Undo this turn's change of ``key``."""
    if key in state:
        new_state[key] = state[key]
    else:
        new_state.pop(key, None)


def _failed(replies: list[Reply], state: dict[str, Any]) -> bool:
    """Whether this turn is the last fallback allowed in a row; an understood turn
    (anything but a fallback or a clarifying question) clears the count."""
    first = replies[0].template if replies else ""
    if first == "fallback":
        return int(state.get("fallbacks", 0)) >= FALLBACKS_BEFORE_HANDOFF
    if first != "clarify":
        state.pop("fallbacks", None)
    return False


def _advance(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of the state for this turn (the caller's stays untouched), turn counted."""
    new_state = dict(state)
    new_state["turns"] = int(state.get("turns", 0)) + 1
    return new_state


def pick_locale(understanding: Parse, turn: Turn, locale: str) -> str:
    """The language to answer in: the message's own if supported, else the conversation's."""
    if understanding.locale in turn.supported_locales:
        locale = understanding.locale or locale
    if locale not in turn.supported_locales:
        locale = turn.default_locale
    return locale


def read_payload(payload: str, text: str = "") -> Parse:
    """A chosen payload in Rasa's style, ``/intent`` or ``/intent{"service": "paspor"}``.

    The JSON after the intent name carries entities (and the button-only values of
    :data:`PAYLOAD_KEYS`); invalid JSON, or values that are not plain strings or
    numbers, leave just the intent.
    """
    name, brace, rest = payload[1:].partition("{")
    entities: list[Entity] = []
    if brace:
        try:
            values = json.loads(brace + rest)
        except ValueError:
            values = {}
        if isinstance(values, dict):
            entities = [
                Entity(type=key, value=str(value), text="", start=0, end=0)
                for key, value in values.items()
                if key in PAYLOAD_KEYS
                and isinstance(value, str | int)
                and not isinstance(value, bool)
            ]
    chosen = IntentScore(name.strip(), 1.0)
    return Parse(
        text=text, intent=chosen, ranking=(chosen,), entities=tuple(entities), engine="choice"
    )


def _menu() -> Reply:
    return Reply(
        "menu",
        choices=tuple(
            Choice(title=f"@menu.{intent}", payload=f"/{intent}") for intent in MENU_INTENTS
        ),
    )


def _clarify(options: list[IntentScore]) -> Reply:
    return Reply(
        "clarify",
        {"intents": [o.name for o in options]},
        choices=tuple(Choice(title=f"@intent.{o.name}", payload=f"/{o.name}") for o in options),
    )
