"""Events API deliveries built and signed as Slack sends them (JSON body, v0 signature over its bytes)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from flask.testing import FlaskClient
from slack_requests import SECRET, signature

BOT = "U0BOT0001"
_ids = itertools.count(1)


def envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The event_callback envelope around an inner event."""
    return {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": "T0ACME001",
        "api_app_id": "A0KBAPP01",
        "type": "event_callback",
        "event_id": event_id or f"Ev0TEST{next(_ids):05d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T0ACME001",
                "user_id": BOT,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
        "event": event,
    }


def message(channel: str, user: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:
    """A plain message event."""
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "team": "T0ACME001",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }


def reaction(channel: str, user: str, ts: str, *, name: str = "pushpin", added: bool = True) -> dict[str, Any]:
    """A reaction_added (or _removed) event on a message."""
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": user,
        "event_ts": f"{time.time():.6f}",
    }


def pin(channel: str, user: str, pinned: dict[str, Any], *, added: bool = True) -> dict[str, Any]:
    """A pin_added (or pin_removed) event carrying the whole message, as Slack sends it."""
    return {
        "type": "pin_added" if added else "pin_removed",
        "user": user,
        "channel_id": channel,
        "item": {
            "type": "message",
            "created": int(time.time()),
            "created_by": user,
            "channel": channel,
            "message": {
                **pinned,
                "permalink": f"https://acme.slack.com/archives/{channel}/p{pinned['ts'].replace('.', '')}",
            },
        },
        "item_user": pinned.get("user"),
        "pin_count": 1,
        "event_ts": f"{time.time():.6f}",
    }


def send(
    client: FlaskClient,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    at: float | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a delivery to the events endpoint, signed at `at` (now by default)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    timestamp = str(int(time.time() if at is None else at))
    sent = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, raw),
        **(headers or {}),
    }
    return client.post("/integrations/slack/events", data=raw, headers=sent)
