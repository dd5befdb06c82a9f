"""Subscribing to the mall's announcements in chat: the citizen's own, explicit consent.

A citizen subscribes by asking ("langganan info imigrasi", the menu's "Langganan info",
a topic's button), unsubscribes ("berhenti langganan", "stop info jadwal", "unsubscribe")
and asks what they hold ("sy langganan apa aja?"). Every change goes through
:class:`hub.announcements.Subscriptions`, which records the consent: when, on which
channel, how (``source``) and in which words. Nobody is subscribed by anything but
such a request, so a citizen who never asked never gets a broadcast.

- A request naming topics subscribes at once: asking *is* the consent. Topics are named
  by their words (``announcements.topics`` keywords, an agency's id or short name) or,
  failing that, by a service of an agency ("info paspor" is Imigrasi's).
- A request naming none asks which, with the topics as choices (buttons, or a numbered
  menu that digits answer) and "all"; that question is a frame like a booking's: asked
  again after small talk, after a question answered on the side, or after "batal".
- "berhenti langganan" without a topic stops everything held: what a citizen expects,
  and the safe reading for consent. With a topic, only that one.
- On SMS the operators' opt-out keywords alone (:func:`opt_out_keyword`) stop everything
  at once, whatever the conversation is doing (``source`` ``sms_stop``); the engine keeps
  the flow under way and asks its question again, except after CANCEL, which also cancels
  it, as the citizen means (docs/announcements.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hub.announcements import Subscriptions, Topic
from hub.dialogs.context import DialogContext
from hub.model import Choice, Reply
from hub.nlu.results import Parse

SUBSCRIPTION_INTENTS = ("subscribe", "unsubscribe", "list_subscriptions")
"""The intents this flow answers (the menu's entry and the buttons name them too)."""

STATE = "subscription"
"""Dialog-state key of the pending "which topic?" question (``{"stage": "topic"}``)."""

ALL = "all"
"""The ``option`` of the "all topics" button."""

MAX_TOPIC_CHOICES = 7
"""Topics offered as choices, "all" making 8: Telegram's most buttons, a 2-segment SMS menu."""

SMS_STOP_SOURCE = "sms_stop"
"""The consent record's ``source`` for an operator opt-out keyword on SMS."""

OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "berhenti"}
)
"""Whole SMS messages that stop everything: Twilio's (and the operators') opt-out keywords,
and BERHENTI. Twilio's own opt-out handling, when it is on, acts on the same words, so the
hub's records agree with what the carrier blocks."""

FLOW_CANCELLING_KEYWORDS = frozenset({"cancel"})
"""Opt-out keywords that also cancel the flow under way: mid-booking "cancel" means the
booking too. STOP and BERHENTI leave it going ("batal" cancels a flow on SMS)."""

ALL_WORDS = frozenset({"semua", "semuanya", "all", "everything", "sekaligus"})
"""Words that ask for every topic when none is named ("langganan semua info")."""

_WORD = re.compile(r"[^\W_]+")


def opt_out_keyword(channel: str, text: str) -> str | None:
    """The opt-out keyword an SMS is exactly ("STOP", "Stop.", "stop all" are ``stop``,
    ``stopall``); None for any other message or channel."""
    if channel != "sms":
        return None
    word = "".join(_WORD.findall(text.casefold()))
    return word if word in OPT_OUT_KEYWORDS else None


def consent_words(text: str, payload: str | None) -> str:
    """What the consent record keeps of the citizen's message: the words as written, and
    the payload they chose when it was a button or a digit ("2 (/subscribe{...})")."""
    words = text.strip()
    if payload:
        return f"{words} ({payload})" if words else payload
    return words


def _phrases(topic: Topic) -> list[list[str]]:
    names = (topic.id.replace("_", " "), *topic.keywords)
    return [words for name in names if (words := _WORD.findall(name.casefold()))]


def _spans(words: list[str], topic: Topic) -> list[tuple[int, int]]:
    """Where the topic's id or keywords stand in ``words`` (start, end word indexes)."""
    found = []
    for phrase in _phrases(topic):
        size = len(phrase)
        found += [
            (i, i + size) for i in range(len(words) - size + 1) if words[i : i + size] == phrase
        ]
    return found


def own_topics(text: str, named: list[Topic]) -> list[Topic]:
    """``named`` without the mall's own topics whose words only qualify an agency:
    "immigration news", "pengumuman imigrasi" and "jadwal samsat" name Imigrasi and Samsat,
    not the general news or the mall's hours; "pengumuman sama imigrasi" names both."""
    agencies = [t for t in named if t.agency is not None]
    if not agencies:
        return named
    words = _WORD.findall(text.casefold())
    edges = {i for t in agencies for start, end in _spans(words, t) for i in (start, end)}
    return [
        t
        for t in named
        if t.agency is not None
        or not all(start in edges or end in edges for start, end in _spans(words, t))
    ]


def topic_payload(intent: str, topic_id: str) -> str:
    return f"/{intent}{json.dumps({'topic': topic_id})}"


def all_payload(intent: str) -> str:
    return f"/{intent}{json.dumps({'option': ALL})}"


class SubscriptionFlow:
    """Subscribe, unsubscribe and list subscriptions over the subscription service."""

    state_key = STATE

    def __init__(
        self, subscriptions: Subscriptions, menu: Callable[[], Reply], threshold: float
    ) -> None:
        """``menu`` is the engine's main menu, shown when the citizen leaves the question."""
        self.subscriptions = subscriptions
        self.menu = menu
        self.threshold = threshold

    # --- the Flow protocol (hub.dialogs.frames) ----------------------------------------------

    def active(self, state: dict[str, Any]) -> bool:
        """True while "which topic?" waits for its answer."""
        return isinstance(state.get(STATE), dict)

    async def reask(
        self, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        return [self._ask(locale)]

    def describe(self, state: dict[str, Any], locale: str) -> dict[str, Any]:
        return {"flow": "subscription", "mode": "subscribe", "service": "", "service_id": ""}

    def cancel(self, state: dict[str, Any]) -> list[Reply]:
        """Leave the question: nothing subscribed, and the menu."""
        state.pop(STATE, None)
        return [Reply("subscription_left"), self.menu()]

    def cancel_is_answer(self, state: dict[str, Any], text: str) -> bool:
        return False

    # --- reading a message -------------------------------------------------------------------

    def takes(self, understanding: Parse) -> bool:
        """A request about subscriptions, sure enough to act on (or a button's)."""
        intent = understanding.intent
        sure = intent.confidence >= self.threshold or understanding.engine == "choice"
        return sure and intent.name in SUBSCRIPTION_INTENTS

    def leave(self, state: dict[str, Any]) -> None:
        """Forget the pending question (another flow starts, or the citizen said STOP)."""
        state.pop(STATE, None)

    def named(self, understanding: Parse) -> list[Topic]:
        """The topics a message names: a button's topic, "all", the topics' own words, else
        the agencies of the services it names ("info paspor" is Imigrasi's)."""
        topics = self.subscriptions.topics()
        if understanding.engine == "choice":
            chosen = understanding.first("topic")
            option = understanding.first("option")
            if option is not None and option.value == ALL:
                return topics
            topic = self.subscriptions.topic(chosen.value) if chosen is not None else None
            return [topic] if topic is not None else []
        found = own_topics(understanding.text, self.subscriptions.named_in(understanding.text))
        if found:
            return found
        agencies: list[str] = []
        catalogue = self.subscriptions.catalogues.catalogue
        for entity in understanding.entities:
            service = catalogue.get(entity.value) if entity.type == "service" else None
            if service is not None and service.agency not in agencies:
                agencies.append(service.agency)
        found = [t for a in agencies for t in topics if t.agency == a]
        if found:
            return found
        words = set(_WORD.findall(understanding.text.casefold()))
        return topics if words & ALL_WORDS else []

    # --- answering ---------------------------------------------------------------------------

    async def respond(
        self,
        understanding: Parse,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        words: str,
    ) -> list[Reply] | None:
        """The answer to a subscription request, or to "which topic?"; None when the
        message is neither (the engine then reads it otherwise)."""
        if self.takes(understanding):
            state.pop(STATE, None)  # a new request replaces a pending question
            name = understanding.intent.name
            if name == "subscribe":
                return await self._subscribe(understanding, state, locale, context, words)
            if name == "unsubscribe":
                return await self._unsubscribe(understanding, locale, context, words)
            return await self.listing(locale, context)
        if not self.active(state):
            return None
        topics = self.named(understanding)
        if not topics:
            return None
        state.pop(STATE, None)
        return await self._subscribed(topics, locale, context, words)

    async def _subscribe(
        self,
        understanding: Parse,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        words: str,
    ) -> list[Reply]:
        topics = self.named(understanding)
        if not topics:
            state[STATE] = {"stage": "topic"}
            return [self._ask(locale)]
        return await self._subscribed(topics, locale, context, words)

    async def _subscribed(
        self, topics: list[Topic], locale: str, context: DialogContext, words: str
    ) -> list[Reply]:
        added = await self.subscriptions.subscribe(
            context.contact_id,
            [t.id for t in topics],
            channel=context.channel,
            address=context.address,
            words=words,
        )
        new = {t.id for t in added}
        return [
            Reply(
                "subscribed",
                {
                    "added": [t.name(locale) for t in topics if t.id in new],
                    "already": [t.name(locale) for t in topics if t.id not in new],
                },
            )
        ]

    async def _unsubscribe(
        self, understanding: Parse, locale: str, context: DialogContext, words: str
    ) -> list[Reply]:
        named = self.named(understanding)
        everything = not named or len(named) == len(self.subscriptions.topics())
        removed = await self.subscriptions.unsubscribe(
            context.contact_id,
            None if everything else [t.id for t in named],
            channel=context.channel,
            words=words,
        )
        gone = {t.id for t in removed}
        left = await self.subscriptions.held(context.contact_id)
        return [
            Reply(
                "unsubscribed",
                {
                    "everything": everything,
                    "removed": [t.name(locale) for t in removed],
                    "not_held": []
                    if everything
                    else [t.name(locale) for t in named if t.id not in gone],
                    "left": [t.name(locale) for t in left],
                },
            )
        ]

    async def stop(self, locale: str, context: DialogContext, words: str) -> Reply:
        """An SMS opt-out keyword: everything stopped at once, confirmed in one segment."""
        removed = await self.subscriptions.unsubscribe(
            context.contact_id,
            None,
            channel=context.channel,
            words=words,
            source=SMS_STOP_SOURCE,
        )
        return Reply(
            "subscription_stopped", {"removed": [t.name(locale) for t in removed], "flow": None}
        )

    async def listing(self, locale: str, context: DialogContext) -> list[Reply]:
        """What the citizen holds, with a button to stop each (and all)."""
        held = await self.subscriptions.held(context.contact_id)
        choices: list[Choice] = []
        if held:
            choices = [
                Choice(
                    f"@subscription.stop_one|{t.name(locale)}", topic_payload("unsubscribe", t.id)
                )
                for t in held[:MAX_TOPIC_CHOICES]
            ]
            if len(held) > 1:
                choices.append(Choice("@subscription.stop_all", all_payload("unsubscribe")))
        else:
            choices = [Choice("@menu.subscribe", "/subscribe")]
        return [
            Reply(
                "subscriptions_list",
                {"held": [t.name(locale) for t in held]},
                choices=tuple(choices),
            )
        ]

    def _ask(self, locale: str) -> Reply:
        """ "Which topic?" with the likeliest topics: the mall's own, then the agencies of
        the popular services; any other is named in words."""
        topics = self.subscriptions.topics()
        offered = [t for t in topics if t.agency is None]
        catalogue = self.subscriptions.catalogues.catalogue
        for service in catalogue.popular(len(catalogue.services)):
            topic = next((t for t in topics if t.agency == service.agency), None)
            if topic is not None and topic not in offered:
                offered.append(topic)
        for topic in topics:  # too few popular services: the rest in order
            if topic not in offered:
                offered.append(topic)
        offered = offered[:MAX_TOPIC_CHOICES]
        others = [t.name(locale) for t in topics if t not in offered]
        choices = [Choice(t.name(locale), topic_payload("subscribe", t.id)) for t in offered]
        choices.append(Choice("@subscription.all", all_payload("subscribe")))
        return Reply(
            "subscription_ask_topic",
            {"others": others[:3], "more": len(others) > 3},
            choices=tuple(choices),
        )
