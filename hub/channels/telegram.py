"""Telegram through python-telegram-bot: webhook or long polling in, Bot API out.

Updates arrive either at ``POST /webhooks/telegram`` (Telegram proves itself with
the secret token given to ``setWebhook``) or, for a developer without a public
URL, from a ``getUpdates`` loop; both feed the same normalisation. PTB parses
the updates and makes the Bot API calls; its ``Bot`` talks to ``api_base_url``,
so tests point it at a fake server. Telegram message ids are only unique per
chat, so the dedupe key is ``<chat id>:<message id>`` (``cb:<id>`` for button
presses). Files are not downloaded here: an attachment's url is
``telegram-file:<file_id>``, fetched later through :meth:`TelegramChannel.fetch_file`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import logging
import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import ClientSession, web
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
    User,
    WebhookInfo,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    OnMessage,
    OnStatus,
    RouteDef,
)
from hub.config import TelegramConfig
from hub.model import (
    AddressKind,
    Attachment,
    InboundMessage,
    Location,
    OutboundMessage,
    SendResult,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
FILE_SCHEME = "telegram-file:"
MAX_CALLBACK_DATA = 64
"""Bytes Telegram keeps of a button's callback_data."""
MAX_CAPTION = 1024
COMMANDS = {"start": "/greet", "help": "/help"}
"""Bot commands mapped to the dialog intents they mean (choice payloads start with "/")."""


class TelegramChannel(Channel):
    name = "telegram"
    capabilities = Capabilities(
        max_text_length=4096,
        buttons=True,
        max_buttons=8,
        html=True,
        attachments=True,
        address_kind=AddressKind.OPAQUE,
    )
    poll_timeout = 25
    """Seconds one getUpdates long poll may wait at Telegram for news."""
    poll_backoff_max = 30.0

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
        # One pooled HTTP client for every Bot API call, a second one for the long poll
        # (PTB's split), both built without I/O; initialize() in start() opens them.
        self.bot = Bot(
            config.token,
            base_url=f"{config.api_base_url}/bot",
            base_file_url=f"{config.api_base_url}/file/bot",
            request=HTTPXRequest(
                connection_pool_size=32,
                connect_timeout=10.0,
                read_timeout=15.0,
                write_timeout=15.0,
                pool_timeout=5.0,
            ),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1, connect_timeout=10.0, read_timeout=10.0
            ),
        )
        self._initialized = False
        self._init_lock = asyncio.Lock()
        self._on_message: OnMessage | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        self._on_message = on_message
        if self.config.mode == "polling":
            return []

        async def webhook(request: web.Request) -> web.StreamResponse:
            return await self._webhook(request, on_message)

        return [RouteDef("POST", WEBHOOK_PATH, webhook)]

    async def start(self, http: ClientSession) -> None:
        """Open PTB's client and check the token (getMe); a Telegram outage must not
        keep the hub from starting, so a failure here is retried on the first send."""
        try:
            await self._ready()
        except TelegramError as exc:
            log.error("telegram bot not initialised: %s", self.redact(str(exc)))
        if self.config.mode == "polling":
            if self._on_message is None:
                log.warning("telegram polling not started: routes() was never called")
                return
            self._poll_task = asyncio.create_task(self._poll(self._on_message))

    async def stop(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.bot.shutdown()
        self._initialized = False

    async def _ready(self) -> Bot:
        if not self._initialized:
            async with self._init_lock:
                if not self._initialized:
                    await self.bot.initialize()
                    self._initialized = True
        return self.bot

    def redact(self, text: str) -> str:
        """PTB puts the token in some messages (InvalidToken); never log or store it."""
        return text.replace(self.config.token, "***") if self.config.token else text

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inbound ---------------------------------------------------------------------

    async def _webhook(self, request: web.Request, on_message: OnMessage) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "")
        secret = self.config.secret_token
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("telegram webhook refused: wrong or missing secret token")
            return web.json_response({"error": "forbidden"}, status=403)
        body = await request.read()  # over client_max_size -> 413 from aiohttp
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            log.warning("telegram webhook: body is not JSON")
            return web.json_response({"error": "body is not JSON"}, status=400)
        try:
            update = self._parse(data)
            message = self._inbound(update, data)
        except Exception as exc:  # PTB's parser on untrusted input: any failure is a bad body
            log.warning("telegram webhook: not a Telegram update (%s)", type(exc).__name__)
            return web.json_response({"error": "not a Telegram update"}, status=400)
        try:
            await self._accept(update, message, on_message)
        except ValueError as exc:
            log.warning("telegram update refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    def _parse(self, data: Any) -> Update:
        if not isinstance(data, dict):
            raise ValueError("update must be an object")
        update = Update.de_json(data, self.bot)
        if not isinstance(update.update_id, int) or isinstance(update.update_id, bool):
            raise ValueError("update_id must be an integer")
        return update

    async def _accept(
        self, update: Update, message: InboundMessage | None, on_message: OnMessage
    ) -> None:
        """Hand a normalised update on; unsupported kinds are acknowledged only."""
        query = update.callback_query
        if message is None:
            if query is not None:
                self._spawn(self._answer_callback(query.id))
            log.info("telegram update ignored", extra={"kinds": sorted(_kinds(update))})
            return
        accepted = await on_message(message)
        if query is not None and not accepted.duplicate:
            # Stops the spinner on the citizen's button; must not delay the webhook answer.
            self._spawn(self._answer_callback(query.id))

    async def _answer_callback(self, query_id: str) -> None:
        try:
            bot = await self._ready()
            await bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.warning("answerCallbackQuery failed: %s", self.redact(str(exc)))

    def _inbound(self, update: Update, raw: Mapping[str, Any]) -> InboundMessage | None:
        if update.callback_query is not None:
            return self._from_callback(update.callback_query, raw)
        if update.message is not None:
            return self._from_message(update.message, raw)
        # edited_message, channel_post, my_chat_member, ...: nothing to answer.
        return None

    def _from_message(self, message: Message, raw: Mapping[str, Any]) -> InboundMessage | None:
        chat_id = str(message.chat.id)
        text = str(message.text or message.caption or "")
        attachments = _attachments(message)
        location = None
        if message.location is not None:
            location = Location(
                latitude=float(message.location.latitude),
                longitude=float(message.location.longitude),
                name=message.venue.title if message.venue is not None else "",
            )
        if not text.strip() and not attachments and location is None:
            return None  # a sticker, a service message: nothing the hub understands
        reply = message.reply_to_message
        return InboundMessage(
            channel=self.name,
            sender=chat_id,
            provider_message_id=f"{chat_id}:{message.message_id}",
            text=text,
            attachments=attachments,
            location=location,
            choice_payload=_command_payload(message.text or ""),
            reply_to=f"{chat_id}:{reply.message_id}" if reply is not None else None,
            sender_name=_full_name(message.from_user) or (message.chat.effective_name or ""),
            raw=raw,
        )

    def _from_callback(self, query: CallbackQuery, raw: Mapping[str, Any]) -> InboundMessage | None:
        if not query.data:
            return None  # a game button: nothing to understand, only to answer
        origin = query.message
        chat_id = str(origin.chat.id if origin is not None else query.from_user.id)
        data = str(query.data)
        return InboundMessage(
            channel=self.name,
            sender=chat_id,
            provider_message_id=f"cb:{query.id}",
            text=_button_title(origin, data) or data,
            choice_payload=data[:255],
            reply_to=f"{chat_id}:{origin.message_id}" if origin is not None else None,
            sender_name=_full_name(query.from_user),
            raw=raw,
        )

    async def _poll(self, on_message: OnMessage) -> None:
        """getUpdates until cancelled. An update is confirmed (offset moves past it) only
        once the hub stored it, so a shutdown or a database hiccup loses nothing."""
        offset: int | None = None
        failures = 0
        with contextlib.suppress(TelegramError):
            bot = await self._ready()
            # Telegram refuses getUpdates while a webhook is set.
            await bot.delete_webhook()
        while True:
            try:
                bot = await self._ready()
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except Exception as exc:
                failures += 1
                if isinstance(exc, Conflict):
                    # Another poller or a webhook: try removing the webhook again.
                    with contextlib.suppress(TelegramError):
                        await self.bot.delete_webhook()
                log.warning(
                    "telegram getUpdates failed: %s",
                    self.redact(f"{type(exc).__name__}: {exc}"),
                    extra={"failures": failures},
                )
                await asyncio.sleep(self._poll_backoff(failures))
                continue
            failures = 0
            for update in updates:
                try:
                    message = self._inbound(update, update.to_dict())
                    await self._accept(update, message, on_message)
                except (ValueError, TypeError, AttributeError) as exc:
                    # This update can never be taken (bad sender, odd shape): skip it.
                    log.warning("telegram update refused: %s", type(exc).__name__)
                except Exception as exc:
                    # The hub could not store it now (shutting down, database): not
                    # confirmed, so Telegram hands it out again on the next poll.
                    log.warning(
                        "telegram update not accepted (%s); will ask again", type(exc).__name__
                    )
                    await asyncio.sleep(self._poll_backoff(1))
                    break
                offset = update.update_id + 1

    def _poll_backoff(self, failures: int) -> float:
        return float(min(self.poll_backoff_max, 0.5 * 2 ** (failures - 1)))

    # -- outbound --------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        chat_id = message.recipient
        try:
            markup = _keyboard(message)
            bot = await self._ready()
            sent = await self._deliver(bot, chat_id, message, markup)
        except RetryAfter as exc:
            raise ChannelError(
                "telegram flood control (429)", retry_after=_retry_seconds(exc)
            ) from exc
        except ChatMigrated as exc:
            raise ChannelError(
                f"group moved to supergroup {exc.new_chat_id}", permanent=True
            ) from exc
        except (Forbidden, BadRequest, InvalidToken, EndPointNotFound) as exc:
            # Bot blocked, chat not found, bad markup, wrong token: a retry changes nothing.
            reason = f"{type(exc).__name__}: {self.redact(str(exc))}"
            raise ChannelError(reason, permanent=True) from exc
        except NetworkError as exc:  # TimedOut, 5xx, connection refused
            raise ChannelError(f"{type(exc).__name__}: {self.redact(str(exc))}") from exc
        except TelegramError as exc:
            raise ChannelError(f"{type(exc).__name__}: {self.redact(str(exc))}") from exc
        return SendResult(provider_message_id=f"{chat_id}:{sent.message_id}")

    async def _deliver(
        self, bot: Bot, chat_id: str, message: OutboundMessage, markup: InlineKeyboardMarkup | None
    ) -> Message:
        """Attachments first, then the text with the buttons, so the buttons end the turn;
        a single attachment carries a short text as its caption instead."""
        text = html.escape(message.text, quote=False)
        attachments = message.attachments
        if len(attachments) == 1 and message.text and len(message.text) <= MAX_CAPTION:
            return await self._send_attachment(bot, chat_id, attachments[0], text, markup)
        last: Message | None = None
        for index, attachment in enumerate(attachments):
            final = index == len(attachments) - 1 and not message.text.strip()
            caption = html.escape(attachment.caption[:MAX_CAPTION], quote=False)
            last = await self._send_attachment(
                bot, chat_id, attachment, caption, markup if final else None
            )
        if message.text.strip() or last is None:
            last = await bot.send_message(
                chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=markup
            )
        return last

    async def _send_attachment(
        self,
        bot: Bot,
        chat_id: str,
        attachment: Attachment,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        source = attachment.url
        if source.startswith(FILE_SCHEME):
            source = source[len(FILE_SCHEME) :]  # a file Telegram already has: its file_id
        if not source:
            raise ChannelError("attachment without url", permanent=True)
        options: dict[str, Any] = {
            "chat_id": chat_id,
            "caption": caption or None,
            "parse_mode": "HTML" if caption else None,
            "reply_markup": markup,
        }
        if attachment.content_type.startswith("image/") and attachment.content_type != "image/gif":
            return await bot.send_photo(photo=source, **options)
        return await bot.send_document(document=source, **options)

    # -- files and webhook registration ------------------------------------------------

    async def fetch_file(self, url: str) -> bytes:
        """The content of a ``telegram-file:<file_id>`` attachment (getFile, then download)."""
        if not url.startswith(FILE_SCHEME):
            raise ValueError("not a telegram-file: url")
        bot = await self._ready()
        file = await bot.get_file(url[len(FILE_SCHEME) :])
        return bytes(await file.download_as_bytearray())

    async def set_webhook(self, url: str) -> WebhookInfo:
        """Register ``url`` with the secret token; returns what Telegram then reports."""
        if not self.config.secret_token:
            raise ValueError("channels.telegram.secret_token is not set")
        bot = await self._ready()
        await bot.set_webhook(
            url, secret_token=self.config.secret_token, allowed_updates=list(ALLOWED_UPDATES)
        )
        return await bot.get_webhook_info()


def _kinds(update: Update) -> set[str]:
    return {key for key in update.to_dict() if key != "update_id"}


def _full_name(user: User | None) -> str:
    return user.full_name if user is not None else ""


def _command_payload(text: str) -> str | None:
    """``/start`` and ``/help`` (also ``/start@MyBot`` or ``/start deep-link``) as intents."""
    if not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return COMMANDS.get(command)


def _button_title(origin: MaybeInaccessibleMessage | None, data: str) -> str:
    """The title of the pressed button, found in the keyboard of the message it was on."""
    if not isinstance(origin, Message) or origin.reply_markup is None:
        return ""
    for row in origin.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return ""


def _attachments(message: Message) -> tuple[Attachment, ...]:
    caption = message.caption or ""
    found: list[Attachment] = []
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        found.append(
            Attachment(
                content_type="image/jpeg",
                url=FILE_SCHEME + largest.file_id,
                size=largest.file_size,
                caption=caption,
            )
        )
    for media, default_type in (
        (message.document, "application/octet-stream"),
        (message.video, "video/mp4"),
        (message.audio, "audio/mpeg"),
        (message.voice, "audio/ogg"),
    ):
        if media is None:
            continue
        found.append(
            Attachment(
                content_type=getattr(media, "mime_type", None) or default_type,
                url=FILE_SCHEME + media.file_id,
                filename=getattr(media, "file_name", None) or "",
                size=media.file_size,
                caption=caption,
            )
        )
    return tuple(found)


def _keyboard(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    """One button per row; Telegram keeps only 64 bytes of callback_data."""
    if not message.choices:
        return None
    for choice in message.choices:
        if len(choice.payload.encode()) > MAX_CALLBACK_DATA:
            raise ChannelError(
                f"choice payload longer than {MAX_CALLBACK_DATA} bytes", permanent=True
            )
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.title, callback_data=c.payload)] for c in message.choices]
    )


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int form goes away; both forms are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
