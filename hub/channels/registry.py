"""The one place that knows every channel: adding a channel touches only this file.

Provider modules are imported only when their channel is enabled, so a
deployment without Telegram never loads python-telegram-bot.
"""

from __future__ import annotations

from pathlib import Path

from hub.channels.base import Channel, NotAnswered
from hub.channels.webchat import Limiter, WebchatChannel, WebchatSecurity
from hub.client_ip import client_ip, trusted_networks
from hub.config import Settings
from hub.model import Coordination


def build_channels(
    settings: Settings,
    pubsub: Coordination,
    templates: Path,
    not_answered: NotAnswered = lambda channel, reason: None,
    *,
    secret: bytes,
    limiter: Limiter,
) -> dict[str, Channel]:
    """The enabled channels, keyed by the name stored with every message.

    ``secret`` (the hub's signing key) and ``limiter`` (its shared rate limiter) are
    what the web chat needs to issue visitor cookies and slow a flood.
    """
    config = settings.channels
    channels: list[Channel] = []
    if config.webchat.enabled:
        proxies = trusted_networks(settings.server.trusted_proxies)
        security = WebchatSecurity.build(
            secret,
            settings.server.public_url,
            limiter,
            lambda request: client_ip(request, proxies),
            settings.security.webchat_origins,
        )
        channels.append(WebchatChannel(config.webchat, pubsub, templates, security))
    if config.telegram.enabled:
        from hub.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(config.telegram))
    if config.twilio.enabled:
        from hub.channels.twilio import twilio_channels

        channels.extend(twilio_channels(config.twilio, settings.server.public_url))
    if config.whatsapp_cloud.enabled:
        from hub.channels.whatsapp_cloud import WhatsAppCloudChannel

        channels.append(WhatsAppCloudChannel(config.whatsapp_cloud))
    if config.email.enabled:
        from hub.channels.email import EmailChannel

        channels.append(
            EmailChannel(
                config.email,
                templates,
                settings.server.public_url,
                locks=pubsub,
                not_answered=not_answered,
            )
        )
    return {channel.name: channel for channel in channels}
