"""Information media: citizens' subscriptions to topics and the mall's announcements."""

from hub.announcements.service import AnnouncementError, Announcements, Audience
from hub.announcements.subscribing import Subscriptions
from hub.announcements.topics import Topic

__all__ = ["AnnouncementError", "Announcements", "Audience", "Subscriptions", "Topic"]
