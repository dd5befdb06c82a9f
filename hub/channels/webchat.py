"""The web chat: a page served by the hub and a websocket per browser tab.

A visitor is who the hub says they are: ``GET /chat`` (or the websocket, when
the cookie is missing) issues a random visitor id in a signed, HttpOnly cookie
scoped to ``/chat``, and the websocket takes the visitor only from that cookie.
The id never appears in a URL or a log line, so nobody can read the replies or
write as a visitor without the visitor's own browser. A reload sends the same
cookie and continues the same conversation.

Replies travel over pub/sub: ``send`` publishes to ``webchat:<visitor>`` and
every tab of that visitor, in whichever hub process holds its socket, receives
it. No receiver means the visitor is offline, which the outbox treats as a
transient failure and retries. An attachment travels as its URL (the page draws
an image from it, a QR code of a booking say); the browser fetches it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import jinja2
from aiohttp import WSMsgType, web

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    OnMessage,
    OnStatus,
    RouteDef,
)
from hub.config import WebchatConfig
from hub.model import AddressKind, InboundMessage, OutboundMessage, PubSub, SendResult

log = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^[a-f0-9]{32}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_TEXT = 2000
MAX_FRAME = 16 * 1024
STATIC_FILES = {"chat.css": "text/css", "chat.js": "application/javascript"}
HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
COOKIE = "omnihub_chat"
COOKIE_PATH = "/chat"
NEW_VISITOR_RULE = "webchat_new_visitors_ip"
MESSAGE_RULE = "webchat_ip"


def _topic(session: str) -> str:
    return f"webchat:{session}"


class Allowance(Protocol):
    """What a rate limiter answers (``hub.coordination.ratelimit.Verdict``)."""

    @property
    def allowed(self) -> bool: ...

    @property
    def retry_after(self) -> float: ...


class Limiter(Protocol):
    """The hub's shared rate limiter, as the web chat uses it."""

    async def hit(self, rule: str, key: str, *, cost: int = 1) -> Allowance: ...


ClientAddress = Callable[[web.BaseRequest], str]


class VisitorCookie:
    """Visitor ids signed with the hub's secret (HMAC-SHA256), so only the hub can mint one.

    The value is ``<visitor>.<issued unix time>.<signature>``; a value older than
    ``max_age`` seconds, tampered with or signed with another key reads as no visitor.
    """

    def __init__(self, secret: bytes, max_age: int) -> None:
        self._secret = secret
        self.max_age = max_age

    @staticmethod
    def new_visitor() -> str:
        return secrets.token_hex(16)

    def sign(self, visitor: str, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        body = f"{visitor}.{issued}"
        return f"{body}.{self._signature(body)}"

    def read(self, value: str | None, now: float | None = None) -> str | None:
        """The visitor a cookie value names, or None when it is not one the hub issued."""
        if not value:
            return None
        parts = value.split(".")
        if len(parts) != 3 or not SESSION_RE.match(parts[0]) or not parts[1].isdigit():
            return None
        visitor, issued, signature = parts
        if not hmac.compare_digest(signature, self._signature(f"{visitor}.{issued}")):
            return None
        age = (time.time() if now is None else now) - int(issued)
        if age > self.max_age or age < -300:
            return None
        return visitor

    def _signature(self, body: str) -> str:
        digest = hmac.new(
            self._secret, b"omnihub webchat visitor|" + body.encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class WebchatSecurity:
    """Who the web chat trusts: its key, its own origin, embedding sites, the limiter."""

    secret: bytes
    public_url: str
    limiter: Limiter
    client_ip: ClientAddress
    embedding_origins: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        secret: bytes,
        public_url: str,
        limiter: Limiter,
        client_ip: ClientAddress,
        embedding_origins: Iterable[str] = (),
    ) -> WebchatSecurity:
        return cls(
            secret, public_url, limiter, client_ip, tuple(origin_of(o) for o in embedding_origins)
        )


class _Throttle:
    """Per socket: whether the visitor was already told to slow down in this stretch."""

    def __init__(self) -> None:
        self._told = False

    def first_refusal(self) -> bool:
        told, self._told = self._told, True
        return not told

    def passed(self) -> None:
        self._told = False


class WebchatChannel(Channel):
    name = "webchat"
    capabilities = Capabilities(
        max_text_length=4000,
        buttons=True,
        max_buttons=10,
        attachments=True,
        address_kind=AddressKind.OPAQUE,
    )

    def __init__(
        self, config: WebchatConfig, pubsub: PubSub, templates: Path, security: WebchatSecurity
    ) -> None:
        self.config = config
        self.pubsub = pubsub
        self.static_dir = templates / "webchat"
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
        self.security = security
        self.cookies = VisitorCookie(security.secret, config.visitor_days * 86400)
        self._public_origin = origin_of(security.public_url)
        self._secure_cookie = self._public_origin.startswith("https://")
        self._sockets: set[web.WebSocketResponse] = set()

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        async def page(request: web.Request) -> web.StreamResponse:
            """Anyone: the chat page; a browser without a valid cookie becomes a new visitor."""
            visitor = self.cookies.read(request.cookies.get(COOKIE))
            if visitor is None:
                refused = await self._refuse_new_visitor(request, page=True)
                if refused is not None:
                    return refused
                visitor = self.cookies.new_visitor()
            html = self.env.get_template("webchat/chat.html").render(
                title=self.config.title,
                ws_path="/chat/ws",
                static_path="/chat/static",
                lang="id",
            )
            response = web.Response(text=html, content_type="text/html")
            self._set_cookie(response, visitor)  # renewed on every visit: a sliding expiry
            self._protect(request, response)
            return response

        async def static(request: web.Request) -> web.StreamResponse:
            """Anyone: the page's script and style sheet, nothing else of the directory."""
            name = request.match_info["name"]
            if name not in STATIC_FILES:
                raise web.HTTPNotFound()
            response = web.FileResponse(
                self.static_dir / name, headers={"Content-Type": STATIC_FILES[name]}
            )
            self._protect(request, response)
            return response

        async def websocket(request: web.Request) -> web.StreamResponse:
            """A page of the hub's own origin or of a configured embedding site; 403 otherwise."""
            return await self._serve_socket(request, on_message)

        return [
            RouteDef("GET", "/chat", page),
            RouteDef("GET", "/chat/static/{name}", static),
            RouteDef("GET", "/chat/ws", websocket),
        ]

    # ------------------------------------------------------------ protection

    def _set_cookie(self, response: web.StreamResponse, visitor: str) -> None:
        response.set_cookie(
            COOKIE,
            self.cookies.sign(visitor),
            max_age=self.cookies.max_age,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=self._secure_cookie,
        )

    @staticmethod
    def _host(request: web.BaseRequest) -> str:
        """The Host the request was sent to, when it is a plain host[:port] (else "")."""
        host = request.headers.get("Host", "")
        return host if HOST_RE.match(host) else ""

    def _own_origins(self, request: web.BaseRequest) -> set[str]:
        origins = {self._public_origin, *self.security.embedding_origins}
        host = self._host(request)
        if host:
            origins.update(origin_of(f"{scheme}://{host}") for scheme in ("http", "https"))
        return origins

    def origin_allowed(self, request: web.BaseRequest) -> bool:
        """A browser always sends Origin; a page of another site may not open the socket.

        No Origin at all is a client outside a browser, which could write any Origin it
        liked, so the header proves nothing there: the cookie still decides who it is.
        """
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        if not origin.startswith(("http://", "https://")):
            return False  # "null": a sandboxed frame or a file
        try:
            return origin_of(origin) in self._own_origins(request)
        except ValueError:
            return False

    def _protect(self, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """Headers that keep the page from being framed, sniffed or fed foreign script."""
        ws_sources = {self._public_origin.replace("http", "ws", 1)}
        host = self._host(request)
        if host:
            ws_sources.update({f"ws://{host}", f"wss://{host}"})
        ancestors = " ".join(["'self'", *self.security.embedding_origins])
        response.headers["Content-Security-Policy"] = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                f"img-src 'self' {self._public_origin} https:",
                "connect-src 'self' " + " ".join(sorted(ws_sources)),
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                f"frame-ancestors {ancestors}",
            ]
        )
        if not self.security.embedding_origins:
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"

    async def _refuse_new_visitor(
        self, request: web.BaseRequest, *, page: bool
    ) -> web.StreamResponse | None:
        """A 429 when this address has started too many conversations lately."""
        verdict = await self.security.limiter.hit(
            NEW_VISITOR_RULE, self.security.client_ip(request)
        )
        if verdict.allowed:
            return None
        retry = str(max(1, math.ceil(verdict.retry_after)))
        log.info("web chat: new visitors from one address over the limit")
        if not page:
            return web.Response(
                status=429, text="too many new visitors", headers={"Retry-After": retry}
            )
        html = self.env.get_template("webchat/busy.html").render(
            title=self.config.title, static_path="/chat/static", minutes=math.ceil(int(retry) / 60)
        )
        response = web.Response(
            status=429, text=html, content_type="text/html", headers={"Retry-After": retry}
        )
        self._protect(request, response)
        return response

    # --------------------------------------------------------------- socket

    async def _serve_socket(
        self, request: web.Request, on_message: OnMessage
    ) -> web.StreamResponse:
        if not self.origin_allowed(request):
            log.info("web chat: websocket from a foreign origin refused")
            raise web.HTTPForbidden(text="this page may not open the web chat")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="a websocket handshake was expected")
        session = self.cookies.read(request.cookies.get(COOKIE))
        if session is None:
            refused = await self._refuse_new_visitor(request, page=False)
            if refused is not None:
                return refused
            session = self.cookies.new_visitor()
            self._set_cookie(ws, session)
        address = self.security.client_ip(request)
        await ws.prepare(request)
        self._sockets.add(ws)
        throttle = _Throttle()
        try:
            async with self.pubsub.subscribe(_topic(session)) as replies:
                forward = asyncio.create_task(self._forward(replies, ws))
                try:
                    async for frame in ws:
                        if frame.type == WSMsgType.TEXT:
                            await self._on_frame(
                                session, frame.data, ws, on_message, address, throttle
                            )
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
        self,
        session: str,
        data: str,
        ws: web.WebSocketResponse,
        on_message: OnMessage,
        address: str,
        throttle: _Throttle,
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
        verdict = await self.security.limiter.hit(MESSAGE_RULE, address)
        if not verdict.allowed:
            # Not passed to the hub. The page says so once per stretch (its own words,
            # chat.html), and marks every refused bubble as not delivered.
            await ws.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "id": client_id,
                    "notice": throttle.first_refusal(),
                    "retry_after": max(1, math.ceil(verdict.retry_after)),
                }
            )
            return
        throttle.passed()
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
