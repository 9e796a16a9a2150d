"""POST /integrations/alertmanager: check the token, keep the delivery, apply its alerts."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from incidents.models import Source

from ..authenticity import require_token, secrets_of
from ..payloads import body_key
from ..receiving import answer_delivery
from .translate import translate_notification

bp = Blueprint("alertmanager", __name__, url_prefix="/integrations")


@bp.post("/alertmanager")
def receive_notification() -> tuple[Response, int]:
    """Take an Alertmanager webhook notification; identical re-sends (repeat_interval) change nothing."""
    require_token(
        request.headers,
        secrets_of(current_app.config, "ALERTMANAGER_TOKEN"),
        setting="ALERTMANAGER_TOKEN",
        sender="Alertmanager",
    )
    raw = request.get_data(cache=True)
    return answer_delivery(
        Source.ALERTMANAGER, raw=raw, delivery_key=body_key(raw), translation=translate_notification(raw)
    )
