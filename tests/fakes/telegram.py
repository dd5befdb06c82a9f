"""A fake Telegram Bot API: records every request, answers like api.telegram.org.

It serves ``/bot<token>/<method>`` for the methods the hub calls (getMe,
sendMessage, sendPhoto, sendDocument, answerCallbackQuery, setWebhook,
deleteWebhook, getWebhookInfo, getUpdates, getFile) and the file download URL
``/file/bot<token>/<file_path>``, with the documented ``{"ok": true, "result": ...}``
and ``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}``
bodies. A wrong token gets 401 like the real API. ``fail_next`` makes the next
calls of a method fail (429 with ``retry_after``, 403 blocked, 400, 502);
``queue_update`` feeds ``getUpdates``, which honours ``offset`` the way Telegram
does: an update is handed out until a later call confirms it.

PTB sends parameters form-encoded, with nested values (``reply_markup``,
``allowed_updates``) as JSON strings; ``Recorded.params`` has those decoded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes import LocalServer

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "MPP Badung",
    "username": "mppbadung_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass(frozen=True)
class Recorded:
    http_method: str
    path: str
    method: str
    """The Bot API method, e.g. ``sendMessage``."""
    headers: dict[str, str]
    params: dict[str, Any]
    at: float
    """time.monotonic() when the request arrived."""


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None


def _decode(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class FakeTelegram(LocalServer):
    token: str = "123456789:TEST-fake-token_abcdefghijklmnop"
    max_poll_wait: float = 0.3
    """How long getUpdates holds an empty answer (Telegram holds up to ``timeout``)."""
    requests: list[Recorded] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5001))
    _server: TestServer | None = None

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        await self._serve(app)
        return self

    @property
    def url(self) -> str:
        """The ``api_base_url`` to give the channel."""
        return self._url()

    # -- test controls ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with this documented error body."""
        failures = self._failures.setdefault(method.lower(), [])
        failures.extend(Failure(status, description, retry_after) for _ in range(times))

    def queue_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._new_update.set()

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Recorded]:
        """The first ``count`` calls of ``method``, waiting for them with a deadline."""
        async with asyncio.timeout(timeout):
            while len(self.calls(method)) < count:
                await asyncio.sleep(0.02)
        return self.calls(method)[:count]

    # -- the API ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        form = await request.post()
        return {key: _decode(value) for key, value in form.items() if isinstance(value, str)}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.requests.append(
            Recorded(
                http_method=request.method,
                path=request.path,
                method=method,
                headers=dict(request.headers),
                params=params,
                at=time.monotonic(),
            )
        )
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        queued = self._failures.get(method.lower())
        if queued:
            failure = queued.pop(0)
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params.get("chat_id", "")
        try:
            chat: dict[str, Any] = {"id": int(chat_id), "type": "private"}
        except ValueError:
            chat = {"id": -1001, "type": "channel", "username": str(chat_id).lstrip("@")}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": BOT_USER,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if "chat_id" not in params:
            return _error(400, "Bad Request: chat not found")
        if params.get("parse_mode") == "HTML" and "<" in text.replace("<b>", "").replace(
            "</b>", ""
        ):
            return _error(400, "Bad Request: can't parse entities: unsupported start tag")
        return self._message(params, text=text)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        photo = {"file_id": str(params.get("photo", "")), "file_unique_id": "u1", "width": 1}
        return self._message(
            params, photo=[{**photo, "height": 1}], caption=str(params.get("caption", ""))
        )

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        document = {"file_id": str(params.get("document", "")), "file_unique_id": "u2"}
        return self._message(params, document=document, caption=str(params.get("caption", "")))

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired")
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": str(self.webhook.get("url", "")),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset", 0) or 0)
        if offset:
            # Telegram forgets every update before the offset: they are confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            wait = min(float(params.get("timeout", 0) or 0), self.max_poll_wait)
            try:
                async with asyncio.timeout(wait):
                    await self._new_update.wait()
            except TimeoutError:
                pass
        return list(self._updates)

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}.bin",
        }

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        name = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".bin")
        if name not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[name], content_type="application/octet-stream")


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
