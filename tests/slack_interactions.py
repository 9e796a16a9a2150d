"""Interaction payloads (clicks and submitted forms) as Slack sends them: `payload=<URL-encoded JSON>`, signed
like every Slack request."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from slack_requests import ALICE, SECRET, signature

from integrations.slack.actions import DECLARE_VIEW

HOOKS = "https://hooks.slack.com/actions/T0ACME001/8012345678902/ZyXwVuTsRqPoNmLkJiHgFeDc"


def interaction_body(payload: dict[str, Any]) -> bytes:
    """The form body Slack posts: one field, `payload`, its JSON URL-encoded."""
    return f"payload={quote(json.dumps(payload))}".encode("ascii")


def post_interaction(
    client: FlaskClient, body: bytes, *, secret: str = SECRET, at: float | None = None, sent: bool = True
) -> Any:
    """POST a body to the interactions endpoint, signed at `at` (now by default).

    sent: close the response, as a server does once it has sent it (what waits for that runs then).
    """
    timestamp = str(int(time.time() if at is None else at))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }
    response = client.post("/integrations/slack/interactions", data=body, headers=headers)
    if sent:
        response.close()
    return response


def submission(
    *,
    title: str | None = "Checkout returns 500s",
    severity: str | None = "SEV2",
    services: str | None = "checkout, payments",
    summary: str | None = "Card payments fail.\nRetries make it worse.",
    user_id: str = ALICE,
    view_id: str = "V0DECLARE1",
    view_hash: str = "1732255200.AbCdEf12",
    callback_id: str = DECLARE_VIEW,
    private_metadata: str = "/incident",
) -> dict[str, Any]:
    """A view_submission of the declaration form, filled in as given (None: the input left empty)."""

    def typed(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    chosen = {"type": "static_select", "selected_option": None}
    if severity is not None:
        chosen["selected_option"] = {"text": {"type": "plain_text", "text": severity}, "value": severity}
    return {
        "type": "view_submission",
        "team": {"id": "T0ACME001", "domain": "acme"},
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": "T0ACME001"},
        "api_app_id": "A0KBAPP01",
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "trigger_id": "8012345678901.1234567890123.bb11bb22cc33dd44ee55ff6677889900",
        "view": {
            "id": view_id,
            "team_id": "T0ACME001",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "hash": view_hash,
            "state": {
                "values": {
                    "declare_title": {"title": typed(title)},
                    "declare_severity": {"severity": chosen},
                    "declare_services": {"services": typed(services)},
                    "declare_summary": {"summary": typed(summary)},
                }
            },
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def click(
    action_id: str, value: str, *, menu: bool = False, user_id: str = ALICE, response_url: str = HOOKS
) -> dict[str, Any]:
    """A block_actions payload: a click on a button of the headline message, or (menu) a choice in its menu."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": "incident_controls", "action_ts": "1732256000.1"}
    if menu:
        option = {"text": {"type": "plain_text", "text": value}, "value": value}
        action |= {"type": "static_select", "selected_option": option}
    else:
        action |= {"type": "button", "text": {"type": "plain_text", "text": "Resolve"}, "value": value}
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": "T0ACME001"},
        "api_app_id": "A0KBAPP01",
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "container": {"type": "message", "message_ts": "1732255200.000100", "channel_id": "C0INC0001"},
        "trigger_id": "8012345678901.1234567890123.aa11bb22cc33dd44ee55ff6677889900",
        "team": {"id": "T0ACME001", "domain": "acme"},
        "channel": {"id": "C0INC0001", "name": "inc-checkout"},
        "response_url": response_url,
        "actions": [action],
    }
