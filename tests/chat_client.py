"""A small web chat client for tests: speaks the page's websocket protocol."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient


class ChatClient:
    def __init__(self, ws: ClientWebSocketResponse, session: str) -> None:
        self.ws = ws
        self.session = session
        self.acks: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.buffered: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, client: TestClient[Any, Any], session: str | None = None) -> ChatClient:
        session = session or str(uuid.uuid4())
        ws = await client.ws_connect(f"/chat/ws?session={session}")
        return cls(ws, session)

    async def say(self, text: str, message_id: str | None = None) -> str:
        message_id = message_id or uuid.uuid4().hex
        await self.ws.send_str(json.dumps({"type": "message", "id": message_id, "text": text}))
        return message_id

    async def choose(self, payload: str, title: str = "") -> str:
        message_id = uuid.uuid4().hex
        frame = {"type": "choice", "id": message_id, "payload": payload, "text": title}
        await self.ws.send_str(json.dumps(frame))
        return message_id

    async def acknowledged(self, message_id: str, timeout: float = 10.0) -> None:
        """Wait for the hub to confirm it stored ``message_id``; replies are kept for later."""
        async with asyncio.timeout(timeout):
            while message_id not in self.acks:
                frame = await self.next_frame(timeout)
                if frame["type"] == "ack":
                    self.acks.append(frame["id"])
                elif frame["type"] == "message":
                    self.buffered.append(frame)

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != WSMsgType.TEXT:
            raise AssertionError(f"websocket closed or errored: {msg.type}")
        frame: dict[str, Any] = json.loads(msg.data)
        return frame

    async def replies(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The next ``count`` bot messages; acks and errors are collected on the side."""
        found, self.buffered = self.buffered[:count], self.buffered[count:]
        async with asyncio.timeout(timeout):
            while len(found) < count:
                frame = await self.next_frame(timeout)
                if frame["type"] == "message":
                    found.append(frame)
                elif frame["type"] == "ack":
                    self.acks.append(frame["id"])
                elif frame["type"] == "error":
                    self.errors.append(frame)
        return found

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Bot messages that arrive within ``seconds``; used to show none come."""
        found: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    frame = await self.next_frame(seconds)
                    if frame["type"] == "message":
                        found.append(frame)
                    elif frame["type"] == "ack":
                        self.acks.append(frame["id"])
        except TimeoutError:
            pass
        return found

    async def close(self) -> None:
        await self.ws.close()


class Citizen:
    """A citizen on the web chat who reads one reply per message unless told otherwise."""

    def __init__(self, chat: ChatClient) -> None:
        self.chat = chat

    async def say(self, text: str, count: int = 1) -> list[dict[str, Any]]:
        await self.chat.say(text)
        return await self.chat.replies(count)

    async def choose(self, payload: str, count: int = 1) -> list[dict[str, Any]]:
        await self.chat.choose(payload)
        return await self.chat.replies(count)
