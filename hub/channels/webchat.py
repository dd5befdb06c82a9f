"""The web chat: a page served by the hub and a websocket per browser tab.

The visitor's session id (random, kept in the browser) is their address, so a
reload continues the same conversation. Replies travel over pub/sub: ``send``
publishes to ``webchat:<session>`` and every tab of that session, in whichever
hub process holds its socket, receives it. No receiver means the visitor is
offline, which the outbox treats as a transient failure and retries.
An attachment travels as its URL (the page draws an image from it, a QR code of
a booking say); the browser, not the hub, fetches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import WSMsgType, web

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    OnMessage,
    OnStatus,
    PubSub,
    RouteDef,
)
from hub.config import WebchatConfig
from hub.model import AddressKind, InboundMessage, OutboundMessage, SendResult

log = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^[A-Za-z0-9-]{16,64}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_TEXT = 2000
MAX_FRAME = 16 * 1024
STATIC_FILES = {"chat.css": "text/css", "chat.js": "application/javascript"}


def _topic(session: str) -> str:
    return f"webchat:{session}"


class WebchatChannel(Channel):
    name = "webchat"
    capabilities = Capabilities(
        max_text_length=4000,
        buttons=True,
        max_buttons=10,
        attachments=True,
        address_kind=AddressKind.OPAQUE,
    )

    def __init__(self, config: WebchatConfig, pubsub: PubSub, templates: Path) -> None:
        self.config = config
        self.pubsub = pubsub
        self.static_dir = templates / "webchat"
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
        self._sockets: set[web.WebSocketResponse] = set()

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        async def page(request: web.Request) -> web.StreamResponse:
            html = self.env.get_template("webchat/chat.html").render(
                title=self.config.title,
                ws_path="/chat/ws",
                static_path="/chat/static",
                lang="id",
            )
            return web.Response(text=html, content_type="text/html")

        async def static(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            if name not in STATIC_FILES:
                raise web.HTTPNotFound()
            return web.FileResponse(
                self.static_dir / name, headers={"Content-Type": STATIC_FILES[name]}
            )

        async def websocket(request: web.Request) -> web.StreamResponse:
            return await self._serve_socket(request, on_message)

        return [
            RouteDef("GET", "/chat", page),
            RouteDef("GET", "/chat/static/{name}", static),
            RouteDef("GET", "/chat/ws", websocket),
        ]

    async def _serve_socket(
        self, request: web.Request, on_message: OnMessage
    ) -> web.StreamResponse:
        session = request.query.get("session", "")
        if not SESSION_RE.match(session):
            raise web.HTTPBadRequest(text="session must be 16-64 letters, digits or dashes")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            async with self.pubsub.subscribe(_topic(session)) as replies:
                forward = asyncio.create_task(self._forward(replies, ws))
                try:
                    async for frame in ws:
                        if frame.type == WSMsgType.TEXT:
                            await self._on_frame(session, frame.data, ws, on_message)
                        elif frame.type == WSMsgType.ERROR:
                            break
                finally:
                    forward.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await forward
        finally:
            self._sockets.discard(ws)
        return ws

    async def _forward(self, replies: Any, ws: web.WebSocketResponse) -> None:
        async for data in replies:
            if ws.closed:
                return
            await ws.send_str(data)

    async def _on_frame(
        self, session: str, data: str, ws: web.WebSocketResponse, on_message: OnMessage
    ) -> None:
        try:
            frame = json.loads(data)
            if not isinstance(frame, dict):
                raise ValueError("frame must be an object")
            kind = frame.get("type")
            client_id = str(frame.get("id", ""))
            if kind not in ("message", "choice") or not CLIENT_ID_RE.match(client_id):
                raise ValueError("expected type message/choice and an id")
            text = str(frame.get("text", ""))
            if len(text) > MAX_TEXT:
                raise ValueError(f"text longer than {MAX_TEXT} characters")
            payload = str(frame.get("payload", ""))[:255] if kind == "choice" else None
            if not text.strip() and not payload:
                raise ValueError("empty message")
            message = InboundMessage(
                channel=self.name,
                sender=session,
                provider_message_id=f"{session}:{client_id}",
                text=text,
                choice_payload=payload,
            )
        except (ValueError, TypeError) as exc:
            await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
            return
        try:
            await on_message(message)
        except Exception:
            log.exception("web chat message not accepted")
            await ws.send_json(
                {"type": "error", "code": "unavailable", "message": "try again shortly"}
            )
            return
        await ws.send_json({"type": "ack", "id": client_id})

    async def send(self, message: OutboundMessage) -> SendResult:
        prefix = f"{message.recipient}:"
        reply_to = message.reply_to
        if reply_to and reply_to.startswith(prefix):
            reply_to = reply_to[len(prefix) :]
        frame = {
            "type": "message",
            "id": message.idempotency_key or uuid.uuid4().hex,
            "text": message.text,
            "choices": [c.to_dict() for c in message.choices],
            "attachments": [
                {
                    "url": a.url,
                    "content_type": a.content_type,
                    "filename": a.filename,
                    "caption": a.caption,
                }
                for a in message.attachments
            ],
            "author": "bot",
            "reply_to": reply_to,
        }
        receivers = await self.pubsub.publish(_topic(message.recipient), json.dumps(frame))
        if receivers == 0:
            raise ChannelError("visitor not connected")
        return SendResult(provider_message_id=str(frame["id"]))

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutting down")
