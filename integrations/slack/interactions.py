"""POST /integrations/slack/interactions: clicks and form submissions, signed like every Slack request.

Slack sends them form-encoded, with one field, `payload`, holding the JSON. What this app does not
know (another payload type, another action or form) is answered with an empty 200 and changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from incidents.database import get_session
from incidents.writer_turns import TurnNotTaken

from .actions import DECLARE_VIEW
from .buttons import answer_click
from .declare_form import TITLE_BLOCK
from .replies import Later, after_answer, reply_to_response_url
from .settings import settings_of
from .submissions import Answer, declare_from_form
from .translate import text_at
from .views import bp, refused, signed_by_slack

log = logging.getLogger(__name__)


@bp.post("/interactions")
def receive_interaction() -> tuple[Response | str, int]:
    """Answer a click or a submitted form within Slack's 3 seconds; a request Slack did not sign changes nothing."""
    # The raw body first: once request.form is read, get_data() is empty and every signature fails.
    raw = request.get_data(cache=True)
    settings = settings_of(current_app)
    if not signed_by_slack(
        settings, raw, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
    ):
        return refused()
    payload = _payload(raw)
    if payload is None:
        message = "expected a form field `payload` holding a JSON object, as Slack sends interactions"
        return jsonify(error={"code": "bad_request", "message": message}), 400
    kind = text_at(payload, "type")
    if kind == "view_submission" and text_at(payload, "view", "callback_id") == DECLARE_VIEW:
        answer = _declared(payload)
        body = jsonify(answer.body) if answer.body is not None else Response("", 200)
        return after_answer(body, answer.later), 200
    if kind == "block_actions":
        return after_answer(Response("", 200), _clicked(payload)), 200
    return "", 200


def _payload(raw: bytes) -> dict[str, Any] | None:
    """The JSON object in the form's `payload` field, or None when there is none."""
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        given = fields.get("payload")
        payload = json.loads(given[0]) if given and len(given) == 1 else None
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _declared(payload: dict[str, Any]) -> Answer:
    session = get_session()
    try:
        return declare_from_form(session, settings_of(current_app), payload)
    except (OperationalError, TurnNotTaken):
        session.rollback()
        log.exception("the database could not take a Slack form")
        return Answer(_error("Kintsugi's database is busy or unavailable; nothing was declared. Submit again."))
    except Exception:
        # Slack shows a failed answer as a bare connection error: the form says more, and the log the rest.
        session.rollback()
        log.exception("a Slack declaration form failed")
        return Answer(
            _error("Kintsugi could not declare this incident. Check the incidents page before submitting again.")
        )


def _clicked(payload: dict[str, Any]) -> list[Later]:
    session = get_session()
    settings = settings_of(current_app)
    try:
        return answer_click(session, settings, payload)
    except (OperationalError, TurnNotTaken):
        session.rollback()
        log.exception("the database could not take a Slack click")
        text = "Kintsugi's database is busy or unavailable; nothing was changed. Try again in a moment."
    except Exception:
        session.rollback()
        log.exception("a Slack click failed")
        text = "Kintsugi could not make this change. Check the incident's page before trying again."
    response_url = text_at(payload, "response_url")
    return [lambda: reply_to_response_url(settings, response_url, text)] if response_url else []


def _error(message: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {TITLE_BLOCK: message}}
