"""What the announcements pages show that the console cannot work out itself.

The console never imports a channel, so how an announcement reads on each enabled
channel (rendered by the hub's renderer, cut to the SMS budget) is handed in by the
app as ``AnnouncementTexts``; this module holds those shapes and the arithmetic the
pages do with them (segments × recipients, the WhatsApp template in use).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.config import Settings
from hub.store.announcement_preview import ChannelAudience
from hub.store.announcements import AnnouncementRecord

WHATSAPP_CHANNELS = ("whatsapp", "whatsapp_cloud")
"""The channels with a 24-hour window whose templates the settings name."""


@dataclass(frozen=True, slots=True)
class ChannelText:
    """The announcement as one channel sends it in one language."""

    channel: str
    locale: str
    text: str
    segments: int | None = None
    """SMS only: how many segments the (cut) text bills."""


@dataclass(frozen=True, slots=True)
class PreviewTexts:
    texts: tuple[ChannelText, ...]
    template_key: str
    """The approved template a WhatsApp channel sends outside the 24-hour window."""
    window_hours: Mapping[str, int] = field(default_factory=dict)
    """Channels with a session window, and its length."""


AnnouncementTexts = Callable[[AnnouncementRecord], PreviewTexts]


@dataclass(frozen=True, slots=True)
class ChannelPreview:
    """One enabled channel on the detail page."""

    channel: str
    texts: tuple[ChannelText, ...]
    recipients: int
    inside_window: int | None = None
    """WhatsApp channels: recipients who wrote within the window (free-form text); the
    others get the template."""
    template: str | None = None
    """WhatsApp channels: the configured template's name, "" when none is configured."""
    segments_total: int | None = None
    """SMS: the cost estimate, segments × recipients in each language."""
    template_key: str = ""


def template_name(settings: Settings, channel: str, key: str) -> str:
    """The provider template configured for ``key`` on a WhatsApp channel ("" if none)."""
    if channel == "whatsapp":
        return settings.channels.twilio.templates.get(key, "")
    found = settings.channels.whatsapp_cloud.templates.get(key)
    return found.name if found is not None else ""


def channel_previews(
    settings: Settings, texts: PreviewTexts, audience: Sequence[ChannelAudience]
) -> list[ChannelPreview]:
    """Per enabled channel: its texts, how many of the audience it reaches and, for
    SMS, the segments billed; for WhatsApp, the window and the template."""
    channels = list(dict.fromkeys(t.channel for t in texts.texts))
    found: list[ChannelPreview] = []
    for channel in channels:
        mine = tuple(t for t in texts.texts if t.channel == channel)
        rows = [a for a in audience if a.channel == channel]
        recipients = sum(a.recipients for a in rows)
        segments_total = None
        if any(t.segments is not None for t in mine):
            by_locale = {t.locale: t.segments or 0 for t in mine}
            fallback = by_locale.get("id", 0)
            segments_total = sum(a.recipients * by_locale.get(a.locale, fallback) for a in rows)
        inside = template = None
        if channel in WHATSAPP_CHANNELS:
            inside = sum(a.inside_window for a in rows)
            template = template_name(settings, channel, texts.template_key)
        found.append(
            ChannelPreview(
                channel, mine, recipients, inside, template, segments_total, texts.template_key
            )
        )
    return found
