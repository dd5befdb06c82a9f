"""A fake of Meta's Graph API for WhatsApp Cloud: records requests, answers like Meta.

It serves ``POST /{version}/{phone_number_id}/messages`` (with the documented
success and error bodies), ``GET /{version}/{media_id}`` and the media download
URL it hands out. It checks the bearer token and the documented limits of
interactive and template messages, so a payload Meta would refuse is refused
here too. ``fail_next`` makes the next sends fail with a chosen HTTP status and
Graph error code.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes import LocalServer

VERSION = "v21.0"
MESSAGE_TYPES = {"text", "interactive", "template", "image", "document", "audio", "video"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    wamid: str = ""
    """The id given to an accepted message; empty when refused."""


@dataclass(frozen=True)
class Failure:
    status: int
    code: int
    message: str
    retry_after: str | None = None


@dataclass
class FakeGraph(LocalServer):
    access_token: str
    phone_number_id: str
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _plan: list[Failure | None] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: TestServer | None = None

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{number}}/messages", self._messages)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_info)
        app.router.add_get("/download/{media_id}", self._download)
        await self._serve(app)
        return self

    @property
    def api_base_url(self) -> str:
        return self._url(f"/{VERSION}")

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        code: int = 1,
        message: str = "An unknown error has occurred.",
        retry_after: str | None = None,
        after: int = 0,
    ) -> None:
        """Fail ``count`` sends, once ``after`` more sends have gone through normally."""
        self._plan.extend([None] * after)
        self._plan.extend([Failure(status, code, message, retry_after)] * count)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Bodies of the messages the fake accepted, in arrival order."""
        return [r.body for r in self.requests if r.wamid]

    @property
    def message_posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    async def wait_for_sent(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """At least ``count`` accepted messages, polling within a bounded deadline."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                await asyncio.sleep(0.02)
        return self.sent

    # ------------------------------------------------------------- handlers

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        record = Recorded(request.method, request.path, dict(request.headers), body)
        self.requests.append(record)
        response = self._answer(request, body)
        record.status = response.status
        if response.status == 200:
            record.wamid = f"wamid.FAKE{next(self._ids):06d}"
            response = web.json_response(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": record.wamid}],
                }
            )
        return response

    def _answer(self, request: web.Request, body: Any) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["number"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request.")
        failure = self._plan.pop(0) if self._plan else None
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.code, failure.message, headers)
        problem = _invalid(body)
        if problem:
            return _error(400, 100, f"(#100) {problem}")
        return web.Response(status=200)

    async def _media_info(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), None))
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token")
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return _error(400, 100, "Unsupported get request.")
        content, mime = self.media[media_id]
        assert self._server is not None
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": str(self._server.make_url(f"/download/{media_id}")),
                "mime_type": mime,
                "sha256": "fake",
                "file_size": len(content),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), None))
        if not self._authorised(request):
            return web.Response(status=401)
        content, mime = self.media[request.match_info["media_id"]]
        return web.Response(body=content, content_type=mime)

    def wamid_of(self, index: int) -> str:
        """The id the fake gave the ``index``-th accepted message."""
        return [r.wamid for r in self.requests if r.wamid][index]


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "AbCdEfGhIjK",
            }
        },
        status=status,
        headers=headers,
    )


def _invalid(body: Any) -> str:
    """Why Meta would refuse this message, or "" (the limits Meta documents)."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not str(body.get("to", "")).isdigit():
        return "to must be the recipient's number in digits"
    kind = body.get("type")
    if kind not in MESSAGE_TYPES or not isinstance(body.get(kind), dict):
        return "unknown message type"
    content = body[kind]
    if kind == "text":
        text = content.get("body", "")
        return "" if 0 < len(text) <= 4096 else "text body must be 1-4096 characters"
    if kind == "interactive":
        return _invalid_interactive(content)
    if kind == "template":
        for component in content.get("components", []):
            for parameter in component.get("parameters", []):
                text = parameter.get("text", "")
                if "\n" in text or "\t" in text or "    " in text or not text:
                    return "Param text cannot have new-line/tab characters or more than 4 spaces"
        return "" if content.get("name") and content.get("language", {}).get("code") else "name"
    if "link" not in content and "id" not in content:
        return "media needs a link or an id"
    return ""


def _invalid_interactive(content: dict[str, Any]) -> str:
    body = content.get("body", {}).get("text", "")
    if not 0 < len(body) <= 1024:
        return "interactive body must be 1-1024 characters"
    action = content.get("action", {})
    if content.get("type") == "button":
        buttons = action.get("buttons", [])
        if not 1 <= len(buttons) <= 3:
            return "1-3 buttons"
        if any(len(b["reply"]["title"]) > 20 for b in buttons):
            return "button title longer than 20 characters"
        return ""
    if content.get("type") == "list":
        rows = [row for section in action.get("sections", []) for row in section["rows"]]
        if not 1 <= len(rows) <= 10:
            return "1-10 rows"
        if any(len(r["title"]) > 24 for r in rows) or len(action.get("button", "")) > 20:
            return "row title longer than 24 or button longer than 20 characters"
        return ""
    return "unknown interactive type"
