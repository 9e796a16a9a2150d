"""POST (or PUT) /integrations/grafana: verify the HMAC signature or the token, keep the delivery, apply its alerts."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, current_app, request

from incidents.errors import AuthenticationRequired, BadRequest, PermissionDenied
from incidents.models import Source

from ..alertmanager.translate import translate_notification
from ..authenticity import any_signature_matches, refuse, require_token, secrets_of
from ..payloads import body_key
from ..receiving import answer_delivery

bp = Blueprint("grafana", __name__, url_prefix="/integrations")
SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"
# A signed timestamp older (or further ahead) than this is a replay, refused.
MAX_AGE_SECONDS = 300
STAMP = re.compile(r"[0-9]{1,12}")


@bp.route("/grafana", methods=["POST", "PUT"])
def receive_notification() -> tuple[Response, int]:
    """Take a Grafana alerting notification (Alertmanager-shaped); identical re-sends change nothing."""
    raw = request.get_data(cache=True)
    hmac_secrets = secrets_of(current_app.config, "GRAFANA_HMAC_SECRET")
    if hmac_secrets:
        verify_signature(raw, hmac_secrets)
    else:
        require_token(
            request.headers, secrets_of(current_app.config, "GRAFANA_TOKEN"), setting="GRAFANA_TOKEN", sender="Grafana"
        )
    return answer_delivery(
        Source.GRAFANA,
        raw=raw,
        delivery_key=body_key(raw),
        translation=translate_notification(raw, source=Source.GRAFANA),
    )


def verify_signature(raw: bytes, secrets: list[str]) -> None:
    """Grafana signs hex(HMAC-SHA256(secret, body)), or of "timestamp:body" when it sends a timestamp."""
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not signature:
        refuse(AuthenticationRequired(f"missing {SIGNATURE_HEADER}"), "Grafana")
    stamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    message = raw
    if stamp:
        # ASCII digits only: str.isdigit() and int() also take Arabic-Indic digits and "\u00b2" (superscript
        # two), which Grafana never sends ("\u00b2" was a 500, and so were a few thousand digits).
        if not STAMP.fullmatch(stamp):
            refuse(BadRequest(f"{TIMESTAMP_HEADER} must be Unix seconds in ASCII digits"), "Grafana")
        if abs(time.time() - int(stamp)) > MAX_AGE_SECONDS:
            refuse(
                AuthenticationRequired(f"{TIMESTAMP_HEADER} is stale (more than 5 minutes from our clock)"), "Grafana"
            )
        message = stamp.encode() + b":" + raw
    if not any_signature_matches([signature], secrets, message):
        refuse(PermissionDenied(f"the {SIGNATURE_HEADER} does not match the body"), "Grafana")
