"""POST /integrations/pagerduty: verify the signature on the raw body, keep the delivery, apply its event."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from incidents.errors import AuthenticationRequired, PermissionDenied
from incidents.models import Source

from ..authenticity import any_signature_matches, refuse, secrets_of
from ..payloads import body_key
from ..receiving import answer_delivery
from .translate import translate_event, webhook_id

bp = Blueprint("pagerduty", __name__, url_prefix="/integrations")
SETTING = "KINTSUGI_PAGERDUTY_WEBHOOK_SECRETS"


@bp.post("/pagerduty")
def receive_webhook() -> tuple[Response, int]:
    """Take a PagerDuty V3 webhook; a redelivery (same X-Webhook-Id) changes nothing."""
    raw = request.get_data(cache=True)
    verify_signature(raw, request.headers.get("X-PagerDuty-Signature", ""))
    key = webhook_id(request.headers.get("X-Webhook-Id")) or body_key(raw)
    return answer_delivery(Source.PAGERDUTY, raw=raw, delivery_key=key, translation=translate_event(raw))


def verify_signature(raw: bytes, header: str) -> None:
    """Accept any v1= signature made with any configured secret (two during a rotation); refuse otherwise."""
    secrets = secrets_of(current_app.config, "PAGERDUTY_WEBHOOK_SECRETS")
    if not secrets:
        refuse(AuthenticationRequired(f"PagerDuty deliveries are refused until {SETTING} is set"), "PagerDuty")
    signatures = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    if not signatures:
        refuse(AuthenticationRequired("missing X-PagerDuty-Signature (v1=<hex HMAC-SHA256 of the body>)"), "PagerDuty")
    if not any_signature_matches(signatures, secrets, raw):
        refuse(
            PermissionDenied("the X-PagerDuty-Signature does not match the body under any configured secret"),
            "PagerDuty",
        )
