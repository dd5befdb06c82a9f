"""A fake Twilio REST API: records every request, answers like api.twilio.com.

It serves ``POST /2010-04-01/Accounts/<AccountSid>/Messages.json`` (the Message
resource's create) with the documented 201 JSON body, checks HTTP basic auth
(401 with error 20003 otherwise, like the real API) and answers anything else
404 with error 20404. ``fail_next`` makes the next calls fail with Twilio's
error body (``{"code", "message", "more_info", "status"}``), e.g. a 500, a 429
with ``Retry-After`` or a 400 with code 21211.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass, field
from email.utils import format_datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.model import utcnow
from tests.fakes import LocalServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]
    status: int
    """What the fake answered."""

    def field(self, name: str) -> str:
        """The first value of a form field, "" when absent."""
        return self.form.get(name, [""])[0]


@dataclass(frozen=True)
class Failure:
    status: int
    code: int
    message: str
    headers: dict[str, str]


@dataclass
class FakeTwilio(LocalServer):
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    delay: float = 0.0
    """Seconds every create waits before answering, to provoke client timeouts."""
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[Failure] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: TestServer | None = None

    @property
    def base_url(self) -> str:
        return self._url()

    @property
    def messages(self) -> list[Recorded]:
        """Messages the fake accepted (created), in arrival order."""
        return [r for r in self.requests if r.status == 201]

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        code: int = 20500,
        message: str = "Internal Server Error",
        headers: dict[str, str] | None = None,
    ) -> None:
        for _ in range(count):
            self._failures.append(Failure(status, code, message, dict(headers or {})))

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        await self._serve(app)
        return self

    async def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """The first ``count`` accepted messages, waiting at most ``timeout`` seconds."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages[:count]

    async def _record(self, request: web.Request, status: int) -> dict[str, list[str]]:
        posted = await request.post()
        form: dict[str, list[str]] = {}
        for key, value in posted.items():
            form.setdefault(key, []).append(str(value))
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), form, status)
        )
        async with self._arrived:
            self._arrived.notify_all()
        return form

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int, message: str, headers: dict[str, str]) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status, headers=headers)

    async def _create(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._authorised(request) or request.match_info["account"] != self.account_sid:
            await self._record(request, 401)
            return self._error(401, 20003, "Authenticate", {})
        if self._failures:
            failure = self._failures.pop(0)
            await self._record(request, failure.status)
            return self._error(failure.status, failure.code, failure.message, failure.headers)
        form = await self._record(request, 201)
        sid = f"SM{next(self._ids):032x}"
        now = format_datetime(utcnow())
        media = form.get("MediaUrl", [])
        body = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", [""])[0],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From", [None])[0],
            "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
            "num_media": str(len(media)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form.get("To", [""])[0],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return web.json_response(body, status=201)

    async def _not_found(self, request: web.Request) -> web.Response:
        await self._record(request, 404)
        return self._error(404, 20404, "The requested resource was not found", {})
