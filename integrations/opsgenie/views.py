"""POST /integrations/opsgenie: check the secret header, keep the delivery, apply its alert action."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from incidents.models import Source

from ..authenticity import require_token, secrets_of
from ..payloads import body_key
from ..receiving import answer_delivery
from .translate import action_key, translate_action

bp = Blueprint("opsgenie", __name__, url_prefix="/integrations")


@bp.post("/opsgenie")
def receive_action() -> tuple[Response, int]:
    """Take an Opsgenie alert action; the same (alertId, action, updatedAt) again changes nothing."""
    require_token(
        request.headers, secrets_of(current_app.config, "OPSGENIE_TOKEN"), setting="OPSGENIE_TOKEN", sender="Opsgenie"
    )
    raw = request.get_data(cache=True)
    key = action_key(raw) or body_key(raw)
    return answer_delivery(Source.OPSGENIE, raw=raw, delivery_key=key, translation=translate_action(raw))
