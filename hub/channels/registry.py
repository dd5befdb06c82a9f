"""The one place that knows every channel: adding a channel touches only this file."""

from __future__ import annotations

from pathlib import Path

from hub.channels.base import Channel, PubSub
from hub.channels.webchat import WebchatChannel
from hub.config import Settings


def build_channels(settings: Settings, pubsub: PubSub, templates: Path) -> dict[str, Channel]:
    """The enabled channels, keyed by the name stored with every message."""
    channels: dict[str, Channel] = {}
    if settings.channels.webchat.enabled:
        channels["webchat"] = WebchatChannel(settings.channels.webchat, pubsub, templates)
    return channels
