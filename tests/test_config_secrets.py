"""Webhook secrets an attacker could guess by trying are refused when the config is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.config import ConfigError, Settings

TELEGRAM = {"enabled": True, "token": "123:abc", "mode": "webhook"}
META = {
    "enabled": True,
    "access_token": "EAAG-token",
    "verify_token": "verify-me",
    "phone_number_id": "1234567890",
}


@pytest.mark.parametrize(
    ("channel", "section", "key"),
    [("telegram", TELEGRAM, "secret_token"), ("whatsapp_cloud", META, "app_secret")],
)
def test_a_secret_under_16_characters_is_refused_with_a_clear_error(
    make_settings: Callable[..., Settings], channel: str, section: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(channels={channel: {**section, key: "x" * 15}})
    message = str(caught.value)
    assert f"channels.{channel}" in message and key in message and "16" in message
    assert "x" * 15 not in message, "the secret itself is not repeated"
    settings = make_settings(channels={channel: {**section, key: "x" * 16}})
    assert getattr(getattr(settings.channels, channel), key) == "x" * 16


def test_a_short_secret_of_a_disabled_channel_is_left_alone(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(channels={"telegram": {"enabled": False, "secret_token": "abc"}})
    assert settings.channels.telegram.secret_token == "abc"
