"""The Slack app manifest: everything Slack needs to create Kintsugi's app for one deployment, from its URL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

NAME_MAX = 35  # Slack's limit on an app's name and its bot's display name
NAME = re.compile(r"^[^\s].{0,34}$")
COMMAND = "/incident"

# Each bot scope, and what of Kintsugi needs it. Nothing more: an admin installing the app reads this list.
# (No chat:write.public: the app joins a public channel before posting there, with channels:join.)
BOT_SCOPES: dict[str, str] = {
    "commands": "the /incident slash command",
    "chat:write": "the incident's headline (chat.postMessage, chat.update, chat.delete), the message after the "
    "declaration form, and word that a channel's history was imported",
    "users:read": "knowing who typed a command, clicked, or wrote in a linked channel (users.info)",
    "users:read.email": "matching a Slack member to their Kintsugi account by email",
    "channels:read": "finding an incident's public channel by name when its name is taken (conversations.list)",
    "groups:read": "the same for a private channel",
    "channels:manage": "creating an incident's public channel and inviting its responders "
    "(conversations.create, conversations.invite)",
    "groups:write": "the same for a restricted incident's private channel",
    "channels:join": "joining a public channel to post an incident's headline there (conversations.join)",
    "channels:history": "a linked public channel's messages: its events and its history import "
    "(conversations.history, conversations.replies)",
    "groups:history": "the same for a private channel",
    "pins:read": "pinned messages as the timeline's key moments (pin events)",
    "reactions:read": "a 📌 reaction that marks a message for the timeline (reaction events)",
}

# Each event the app subscribes to, and why (each needs one of the scopes above).
BOT_EVENTS: dict[str, str] = {
    "message.channels": "messages in a linked public channel (channels:history)",
    "message.groups": "messages in a linked private channel (groups:history)",
    "reaction_added": "a message marked for the timeline (reactions:read)",
    "reaction_removed": "the mark taken back (reactions:read)",
    "pin_added": "a key moment pinned (pins:read)",
    "pin_removed": "a key moment unpinned (pins:read)",
}


class ManifestError(ValueError):
    """The manifest cannot be made from what was given; the message says what to give instead."""


def base_url(given: str) -> str:
    """The deployment's public address as Slack will call it: https, a host, no path, query or fragment."""
    url = given.strip()
    example = "https://kintsugi.example.com"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ManifestError(f"--url must be an address such as {example}, not {given!r}") from None
    if parts.scheme != "https":
        raise ManifestError(f"--url must start with https:// (Slack calls only https addresses), not {given!r}")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ManifestError(f"--url must name a host, without a user or password, such as {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ManifestError(
            f"--url must be the address Kintsugi is served at, without a path, query or fragment, such as {example}"
        )
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"https://{host}" + (f":{port}" if port not in (None, 443) else "")


def manifest(url: str, *, name: str = "Kintsugi") -> dict[str, Any]:
    """The manifest of the Slack app of the deployment at `url` (checked with base_url)."""
    root = base_url(url)
    name = name.strip()
    if not NAME.match(name):
        raise ManifestError(f"--name must be 1 to {NAME_MAX} characters, not {name!r}")
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Declare and work incidents from Slack; their timelines become blameless post-mortems.",
            "background_color": "#1d2b36",
        },
        "features": {
            # The app writes to members (after the declaration form); it reads nothing sent to it.
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [
                {
                    "command": COMMAND,
                    "url": f"{root}/integrations/slack/commands",
                    "description": "Declare an incident and work it: status, severity, roles, notes",
                    "usage_hint": "declare <title> [sev1..sev5] | status | sev <1-5> | note <text> | help",
                    # Mentions arrive as <@U123|name>, which `/incident commander @person` reads.
                    "should_escape": True,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {
                "request_url": f"{root}/integrations/slack/events",
                "bot_events": list(BOT_EVENTS),
            },
            "interactivity": {"is_enabled": True, "request_url": f"{root}/integrations/slack/interactions"},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }
