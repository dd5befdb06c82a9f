"""Every dialog scenario in tests/scenarios/*.yaml, on each of its channels, via the real app.

Each scenario+channel is one test: a fresh hub (its clock held at the scenario's
``clock``, moved on by a turn's ``after``), a citizen on the web chat
(tests/chat_client.py), by SMS or on WhatsApp
(Twilio webhooks, replies caught by the fake Twilio), then ``end_state`` read from the
database. A turn is over once the hub has settled (tests/settle.py): its message
processed and every reply sent, so no turn waits for a quiet spell. The format and
the matching rule are in hub/dialogs/scenarios.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.dialogs.scenarios import (
    Reply,
    Scenario,
    State,
    check_end_state,
    check_turn,
    load_scenarios,
)
from hub.store.tables import bookings, consent_records, conversations, subscriptions, tickets
from tests.chat_client import ChatClient, answers
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.settle import settled
from tests.test_twilio import WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

SCENARIOS = Path(__file__).parent / "scenarios"
TIMEOUT = 15.0


def _cases() -> list[Any]:
    cases = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for scenario in load_scenarios(path):
            for channel in scenario.channel:
                case_id = f"{path.stem}:{scenario.name}:{channel}"
                cases.append(pytest.param(scenario, channel, id=case_id))
    return cases


class Citizen(Protocol):
    async def say(self, text: str) -> list[Reply]: ...


class WebChatCitizen:
    """Replies are those answering this turn's message (``reply_to``): once the hub has
    settled, exactly the ones the outbox sent for it, however late each comes."""

    def __init__(self, hub: Hub, chat: ChatClient) -> None:
        self.hub, self.chat = hub, chat

    async def say(self, text: str) -> list[Reply]:
        frames = await answers(self.chat, self.hub, text, TIMEOUT)
        return [Reply(f["text"], tuple(c["title"] for c in f["choices"])) for f in frames]


class TwilioCitizen:
    """One phone number on SMS or WhatsApp (``whatsapp:`` addresses through Twilio);
    replies are what reached the fake Twilio from the message until the hub settled."""

    def __init__(self, client: TestClient[Any, Any], twilio: FakeTwilio, form: str) -> None:
        self.client, self.twilio, self.form = client, twilio, form
        self.inbound = 0

    async def say(self, text: str) -> list[Reply]:
        seen = len(self.twilio.messages)
        self.inbound += 1
        params = fixture(self.form, MessageSid=f"SM{self.inbound:032x}", Body=text)
        response = await post(self.client, WEBHOOK, params)
        assert response.status == 200, f"webhook answered {response.status}"
        await settled(self.client.app[HUB], TIMEOUT)
        return [Reply(m.field("Body")) for m in self.twilio.messages[seen:]]


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def _state(client: TestClient[Any, Any]) -> State:
    async with client.app[HUB].db.engine.connect() as conn:

        async def rows(query: Any) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in (await conn.execute(query)).all()]

        convs = await rows(
            sa.select(conversations.c.status, conversations.c.channel).order_by(conversations.c.id)
        )
        booked = await rows(
            sa.select(
                bookings.c.service_id,
                bookings.c.status,
                bookings.c.session,
                bookings.c.channel,
                bookings.c.applicant_name,
                bookings.c.applicant_nik.is_not(None).label("applicant_nik_set"),
            )
        )
        filed = await rows(
            sa.select(
                tickets.c.kind,
                tickets.c.status,
                tickets.c.confidential,
                tickets.c.agency,
                tickets.c.service_id,
                tickets.c.channel,
                tickets.c.anonymous,
                tickets.c.needs_supervisor,
                tickets.c.priority,
                tickets.c.object,
            )
        )
        held = await rows(
            sa.select(subscriptions.c.topic, subscriptions.c.channel).order_by(subscriptions.c.id)
        )
        consents = await rows(
            sa.select(
                consent_records.c.action,
                sa.func.coalesce(consent_records.c.topic, "all").label("topic"),
                consent_records.c.channel,
                consent_records.c.source,
                consent_records.c.words,
            ).order_by(consent_records.c.id)
        )
    return State(convs[-1] if convs else None, booked, filed, held, consents)


@pytest.mark.parametrize(("scenario", "channel"), _cases())
async def test_scenario(
    scenario: Scenario,
    channel: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
) -> None:
    clock = Clock(scenario.clock)
    citizen: Citizen
    if channel == "webchat":
        client = await aiohttp_client(create_app(make_settings(), clock=clock))
        citizen = WebChatCitizen(client.app[HUB], await ChatClient.connect(client))
    else:
        settings = settings_for(make_settings, twilio)
        client = await aiohttp_client(create_app(settings, clock=clock))
        form = "sms_text" if channel == "sms" else "whatsapp_text"
        citizen = TwilioCitizen(client, twilio, form)
    for turn in scenario.turns:
        if turn.after is not None:
            clock.advance(seconds=turn.after.total_seconds())
        problem = check_turn(turn, await citizen.say(turn.say))
        assert problem is None, problem
    if scenario.end_state is not None:
        problem = check_end_state(scenario.end_state, await _state(client))
        assert problem is None, problem
