"""The one way every sender's delivery is stored and answered, once it is authenticated and translated."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Request, Response, current_app, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from incidents.alerts.commands import RoutingRule, Translation
from incidents.alerts.models import DeliveryOutcome
from incidents.alerts.service import receive_delivery
from incidents.database import get_session
from incidents.models import Source

from .authenticity import TOKEN_HEADER

RULES = "kintsugi.alert_rules"
# Secrets are never stored with the raw delivery.
REDACTED_HEADERS = {"authorization", TOKEN_HEADER.lower(), "cookie"}
SENDER_PATHS = "/integrations/"


class SenderlessSessions(SecureCookieSessionInterface):
    """Browser sessions, except for senders: a delivery neither reads nor sets a session cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SENDER_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)


def rules_of(app: Flask) -> Sequence[RoutingRule]:
    """The routing rules validated at start-up."""
    rules: Sequence[RoutingRule] = app.extensions[RULES]
    return rules


def stored_headers() -> dict[str, str]:
    """The request's headers as kept with the delivery, with secrets redacted."""
    return {
        name: ("[redacted]" if name.lower() in REDACTED_HEADERS else value) for name, value in request.headers.items()
    }


def answer_delivery(source: Source, *, raw: bytes, delivery_key: str, translation: Translation) -> tuple[Response, int]:
    """Store and apply the delivery; 200 when done or seen before, 202 when kept without being understood.

    Never a 4xx here: Alertmanager re-sends on 4xx forever and PagerDuty disables the feed.
    """
    receipt = receive_delivery(
        get_session(),
        source=source,
        delivery_key=delivery_key,
        headers=stored_headers(),
        body=raw,
        translation=translation,
        rules=rules_of(current_app),
    )
    if receipt.duplicate:
        return jsonify(status="duplicate", message="this delivery was received before; nothing changed"), 200
    assert receipt.outcome is not None
    body: dict[str, object] = {
        "status": receipt.outcome.value,
        "delivery": receipt.delivery_id,
        "incidents": list(receipt.incident_ids),
    }
    if receipt.problem:
        body["message"] = receipt.problem
    if receipt.outcome is DeliveryOutcome.UNDECIPHERABLE:
        body["message"] = f"kept to be replayed, but not understood: {receipt.problem}"
        return jsonify(body), 202
    return jsonify(body), 200
