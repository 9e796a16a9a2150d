"""The Slack app's settings, read from the app's configuration when the app starts."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from slack_sdk.signature import Clock

from .channel_names import DEFAULT_PATTERN, checked_pattern

log = logging.getLogger(__name__)
EXTENSION = "kintsugi.slack"
DEFAULT_API_URL = "https://slack.com/api/"
# A channel's id (C0123ABCD, G…) or its name (#incidents, incidents).
CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{2,30}|#?[a-z0-9][a-z0-9_-]{0,79})$")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class SlackSettings:
    """How Kintsugi speaks with one Slack workspace."""

    signing_secret: str
    bot_token: str
    api_url: str = DEFAULT_API_URL
    create_channels: bool = False
    announce_channel: str | None = None
    # The name of the channel opened for an incident: {id}, {slug} (of its title), {date}, {severity}.
    channel_name: str = DEFAULT_PATTERN
    # Where people reach Kintsugi (KINTSUGI_PUBLIC_URL): messages posted by the outbox's worker, outside
    # any request, link to incident pages there. None: they carry no link.
    public_url: str | None = None
    # None: the real time. Tests fix it to check a signature made at a known moment.
    clock: Clock | None = None


def read_settings(config: Mapping[str, Any]) -> SlackSettings | None:
    """The Slack settings, or None when no signing secret is set (Slack is then off); ValueError when wrong."""
    secret = config.get("SLACK_SIGNING_SECRET")
    if secret is None or (isinstance(secret, str) and not secret.strip()):
        return None
    if not isinstance(secret, str):
        raise ValueError("KINTSUGI_SLACK_SIGNING_SECRET must be the app's signing secret, as text")
    token = config.get("SLACK_BOT_TOKEN")
    if not isinstance(token, str) or not token.strip():
        raise ValueError(
            "KINTSUGI_SLACK_BOT_TOKEN must be set with KINTSUGI_SLACK_SIGNING_SECRET: Kintsugi asks Slack who "
            "types a command (users.info) with the bot token (xoxb-...)"
        )
    settings = SlackSettings(
        signing_secret=secret.strip(),
        bot_token=token.strip(),
        api_url=_api_url(config.get("SLACK_API_URL")),
        create_channels=_yes_or_no(config.get("SLACK_CREATE_CHANNELS", False), "SLACK_CREATE_CHANNELS"),
        announce_channel=_channel(config.get("SLACK_ANNOUNCE_CHANNEL")),
        channel_name=checked_pattern(config.get("SLACK_CHANNEL_NAME")),
        public_url=_public_url(config.get("PUBLIC_URL")),
    )
    if (settings.create_channels or settings.announce_channel) and settings.public_url is None:
        # Not an error: the messages are posted all the same, linking to the address Slack reaches
        # Kintsugi at once this process has served a Slack request (see outbound.page_url).
        log.warning(
            "KINTSUGI_PUBLIC_URL is not set: messages posted to Slack link to incident pages only once Slack has "
            "called this process (a `flask worker` never is called: set it)"
        )
    return settings


def settings_of(app: Flask) -> SlackSettings:
    """The settings init_app read (only asked for when Slack is on)."""
    settings: SlackSettings = app.extensions[EXTENSION]
    return settings


def _api_url(value: Any) -> str:
    if value is None or value == "":
        return DEFAULT_API_URL
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value.strip()):
        raise ValueError(f"KINTSUGI_SLACK_API_URL must be an http(s) URL such as {DEFAULT_API_URL}, not {value!r}")
    url = value.strip()
    return url if url.endswith("/") else url + "/"


def _public_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", value.strip()):
        raise ValueError(
            f"KINTSUGI_PUBLIC_URL must be an http(s) URL such as https://kintsugi.example.com, not {value!r}"
        )
    return value.strip().rstrip("/")


def _yes_or_no(value: Any, name: str) -> bool:
    # KINTSUGI_* variables arrive parsed as JSON: true is True, but "yes" stays a string.
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError(f"KINTSUGI_{name} must be true or false, not {value!r}")


def _channel(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CHANNEL.match(value.strip()):
        raise ValueError(
            f"KINTSUGI_SLACK_ANNOUNCE_CHANNEL must be a channel id (C0123ABCD) or name (#incidents), not {value!r}"
        )
    return value.strip()
