"""Every message to a citizen leaves through here, as outbox rows.

The replies to a turn, the notices nobody asked for at that moment (a ticket's
news, a booking reminder; later announcements) and an officer's answer all go the
same way: rendered for the conversation's locale and its channel's capabilities
(buttons or a numbered menu, SMS length, one mail per turn on a threaded
channel), written as outbound messages with their outbox rows in the caller's
transaction, so a message is queued exactly when the change that caused it
commits. The dispatcher (:mod:`hub.pipeline.dispatcher`) sends them; a provider
outage only delays them.

The dialog state is the dialogs' business: a notice that changes it (a question
now awaiting an answer, the choices a digit may pick) passes a function of
:mod:`hub.dialogs` that computes the new state; this module only stores it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.channels.base import Capabilities, Channel
from hub.channels.sms_text import fit_segments
from hub.coordination import Coordinator
from hub.coordination.live import announce
from hub.model import OutboundMessage, Reply
from hub.pipeline.render import Renderer
from hub.store import Database, conversations, messages
from hub.store import outbox as outbox_store
from hub.store.records import ConversationRecord, InboundRecord

SMS_CHANNEL = "sms"
"""The channel that bills by the segment (Twilio SMS): announcements are cut to a budget."""

OFFICER_TEMPLATE = "officer_text"
"""An officer's own words: the template only passes the text through."""

StateAfter = Callable[[Mapping[str, Any], list[Reply]], dict[str, Any] | None]
"""The dialog state after a notice with these replies; None leaves it as it is."""


class Outbound:
    def __init__(
        self,
        *,
        db: Database,
        renderer: Renderer,
        channels: Mapping[str, Channel],
        coordinator: Coordinator,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_queued`` wakes the dispatcher; it is called after the caller commits."""
        self.db = db
        self.renderer = renderer
        self.channels = channels
        self.coordinator = coordinator
        self.on_queued = on_queued

    def capabilities(self, channel: str) -> Capabilities:
        """What ``channel`` can show; a channel no longer configured gets plain text."""
        found = self.channels.get(channel)
        return found.capabilities if found is not None else Capabilities()

    async def replies(
        self,
        conn: AsyncConnection,
        conversation: ConversationRecord,
        replies: list[Reply],
        locale: str,
        answering: InboundRecord | None = None,
        author: str = "bot",
    ) -> None:
        """Queue ``replies`` on the conversation's channel inside ``conn``'s transaction;
        ``answering`` is the message they answer (threading, reply-to)."""
        capabilities = self.capabilities(conversation.channel)
        rendered = [
            out
            for reply in replies
            for out in self.renderer.render(
                reply,
                locale=locale,
                channel=conversation.channel,
                recipient=conversation.address,
                capabilities=capabilities,
                reply_to=answering.provider_message_id if answering else None,
            )
        ]
        if capabilities.threaded:
            rendered = _one_mail(rendered, conversation, automated=author == "bot")
        for out in rendered:
            message_id = await messages.insert_outbound(
                conn,
                conversation_id=conversation.id,
                channel=conversation.channel,
                author=author,
                text=out.text,
                attachments=[a.to_dict() for a in out.attachments],
                reply_to_id=answering.id if answering else None,
            )
            payload = out.to_dict()
            payload["idempotency_key"] = f"msg-{message_id}"
            await outbox_store.enqueue(
                conn,
                message_id=message_id,
                conversation_id=conversation.id,
                channel=conversation.channel,
                payload=payload,
            )

    async def notice(
        self,
        conn: AsyncConnection,
        conversation_id: int,
        make_replies: Callable[[str], list[Reply]],
        *,
        state_after: StateAfter | None = None,
        author: str = "bot",
    ) -> bool:
        """Queue a message the citizen did not prompt (a reminder, a ticket's news) on the
        conversation's channel, in the citizen's language, inside the caller's
        transaction. ``make_replies`` gets the locale. False when the conversation is
        gone. The caller calls :meth:`queued` after committing."""
        conversation = await conversations.get(conn, conversation_id)
        if conversation is None:
            return False
        replies = make_replies(conversation.locale)
        await self.replies(conn, conversation, replies, conversation.locale, author=author)
        new_state = state_after(conversation.state, replies) if state_after else None
        if new_state is not None:
            await conversations.save_dialog(
                conn, conversation.id, state=new_state, locale=conversation.locale
            )
        return True

    def render_announcement(
        self,
        reply: Reply,
        *,
        channel: str,
        locale: str,
        recipient: str = "",
        sms_max_segments: int = 2,
    ) -> OutboundMessage:
        """An announcement as ``channel`` sends it, one message: on SMS its words cut to
        ``sms_max_segments`` while the menu to answer with stays whole. Also what the
        console previews, so the preview is what leaves."""
        sms = channel == SMS_CHANNEL
        parts = self.renderer.render(
            dataclasses.replace(reply, choices=()) if sms else reply,
            locale=locale,
            channel=channel,
            recipient=recipient,
            capabilities=self.capabilities(channel),
        )
        text = "\n".join(part.text for part in parts)
        if sms:
            menu = self.renderer.menu(reply.choices, locale, channel)
            text = fit_segments(text, sms_max_segments, f"\n{menu}" if reply.choices else "")
        return dataclasses.replace(
            parts[-1],
            text=text,
            choices=() if sms else parts[-1].choices,
            attachments=(),
            template_variables=(),
            bulk=True,
        )

    async def announcement(
        self,
        conn: AsyncConnection,
        conversation: ConversationRecord,
        reply: Reply,
        *,
        template_key: str,
        subject: str = "",
        unsubscribe_url: str = "",
        sms_max_segments: int = 2,
        state_after: StateAfter | None = None,
    ) -> int:
        """Queue one announcement for the conversation's citizen in the bulk lane, as one
        message: cut to ``sms_max_segments`` on SMS; on email with its own ``subject``
        and the one-click ``unsubscribe_url``. ``template_key`` names the approved
        template sent outside WhatsApp's 24-hour window. Returns the message's id."""
        channel = conversation.channel
        out = dataclasses.replace(
            self.render_announcement(
                reply,
                channel=channel,
                locale=conversation.locale,
                recipient=conversation.address,
                sms_max_segments=sms_max_segments,
            ),
            template_key=template_key,
            subject=subject,
            unsubscribe_url=unsubscribe_url,
        )
        message_id = await messages.insert_outbound(
            conn,
            conversation_id=conversation.id,
            channel=channel,
            author="bot",
            text=out.text,
            attachments=[],
            reply_to_id=None,
        )
        payload = out.to_dict()
        payload["idempotency_key"] = f"msg-{message_id}"
        await outbox_store.enqueue(
            conn,
            message_id=message_id,
            conversation_id=conversation.id,
            channel=channel,
            payload=payload,
            lane=outbox_store.BULK,
        )
        new_state = state_after(conversation.state, [reply]) if state_after else None
        if new_state is not None:
            await conversations.save_dialog(
                conn, conversation.id, state=new_state, locale=conversation.locale
            )
        return message_id

    async def officer_reply(self, conversation_id: int, officer_id: int, text: str) -> bool:
        """An officer's answer, queued for the channel the citizen last wrote on (long
        text split as the channel needs); False if there is no such conversation."""
        if not text.strip():
            raise ValueError("empty reply")
        async with self.db.begin() as conn:
            conversation = await conversations.get(conn, conversation_id)
            if conversation is None:
                return False
            await self.replies(
                conn,
                conversation,
                [Reply(OFFICER_TEMPLATE, {"text": text.strip()})],
                conversation.locale,
                author=f"officer:{officer_id}",
            )
        self.queued()
        await announce(self.coordinator, "message", conversation_id=conversation_id)
        return True

    def queued(self) -> None:
        """Rows were committed: the dispatcher looks now rather than at its next poll."""
        self.on_queued()


def _one_mail(
    rendered: list[OutboundMessage], conversation: ConversationRecord, *, automated: bool
) -> list[OutboundMessage]:
    """A turn's replies as one mail in the conversation's thread: a citizen who wrote
    one mail gets one answer, not one per paragraph."""
    if not rendered:
        return []
    first = rendered[0]
    texts = [out.text for out in rendered if out.text.strip()]
    return [
        dataclasses.replace(
            first,
            text="\n\n".join(texts),
            choices=(),
            attachments=tuple(a for out in rendered for a in out.attachments),
            subject=conversation.subject,
            references=conversation.thread,
            reply_to=conversation.thread[-1] if conversation.thread else first.reply_to,
            automated=automated,
        )
    ]
