"""Slash commands signed exactly as Slack signs them: v0 HMAC-SHA256 over "v0:<ts>:<raw form body>"."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

from flask.testing import FlaskClient

SECRET = "kb-test-signing-secret"
TOKEN = "xoxb-test-token"
ALICE = "U0ALICE01"
GENERAL = "C0GENERAL1"


def slack_settings(api_url: str) -> dict[str, Any]:
    """The app settings that turn Slack on, speaking with the Web API at this address."""
    return {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api_url}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's X-Slack-Signature for this body at this timestamp."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def command_body(
    text: str, *, user_id: str = ALICE, channel_id: str = GENERAL, trigger_id: str | None = None, **extra: str
) -> bytes:
    """The form body of an /incident command, fields in Slack's order."""
    fields = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": "T0ACME001",
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": "alice",
        "command": "/incident",
        "text": text,
        "api_app_id": "A0KBAPP01",
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0ACME001/8012345678901/AbCdEfGhIjKlMnOpQrStUvWx",
        "trigger_id": trigger_id or f"{time.time_ns()}.1234567890123.0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        **extra,
    }
    return urlencode(fields).encode("utf-8")


def post_signed(
    client: FlaskClient,
    body: bytes,
    *,
    secret: str = SECRET,
    at: float | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST the body to the command endpoint, signed at `at` (now by default)."""
    timestamp = str(int(time.time() if at is None else at))
    sent = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
        **(headers or {}),
    }
    return client.post("/integrations/slack/commands", data=body, headers=sent)


def run(client: FlaskClient, text: str, **fields: Any) -> dict[str, Any]:
    """Type `/incident <text>` in Slack; the JSON reply (asserting a 200)."""
    response = post_signed(client, command_body(text, **fields))
    assert response.status_code == 200, response.get_data(as_text=True)
    reply: dict[str, Any] = response.get_json()
    return reply
