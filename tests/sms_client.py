"""A citizen texting the hub by SMS through the Twilio webhook, for conversation tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from hub.channels.sms_text import is_gsm7, segments
from tests.fakes.twilio import FakeTwilio
from tests.test_twilio import WEBHOOK, fixture, post


class SmsCitizen:
    """Sends one SMS at a time and returns the hub's reply, checked to be short GSM-7."""

    def __init__(self, client: TestClient[Any, Any], twilio: FakeTwilio) -> None:
        self.client = client
        self.twilio = twilio
        self.sent = 0

    async def say(self, text: str) -> str:
        sid = f"SM{self.sent:032x}"
        response = await post(self.client, WEBHOOK, fixture("sms_text", MessageSid=sid, Body=text))
        assert response.status == 200
        self.sent += 1
        (reply,) = (await self.twilio.wait_for_messages(self.sent))[self.sent - 1 :]
        body: str = reply.field("Body")
        assert is_gsm7(body) and segments(body) <= 3, body
        return body
