"""POST /integrations/slack/events: what is said in a linked channel writes the incident's chat log and,
when marked with a pin or a 📌, its timeline. Signed as every Slack request; answered within three seconds."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from incidents.chat.messages import receive_chat_delivery
from incidents.chat.queries import delivery_seen, incident_of_channel, message_known
from incidents.database import get_session
from incidents.writer_turns import TurnNotTaken

from .events_translate import (
    Challenge,
    Ignored,
    Reading,
    Unreadable,
    change_of,
    people_named,
    permalink_guess,
    read_delivery,
)
from .settings import SlackSettings, settings_of
from .speakers import Lookups
from .views import bp, refused, signed_by_slack

log = logging.getLogger(__name__)
PROVIDER = "slack"


@bp.post("/events")
def receive_event() -> tuple[Response, int]:
    """Keep an event about a linked channel; anything else, and any retry, is answered 200 and changes nothing."""
    raw = request.get_data(cache=True)
    settings = settings_of(current_app)
    if not signed_by_slack(
        settings, raw, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
    ):
        return refused()
    try:
        reading = _read(raw)
    except Unreadable as exc:
        # Not an event Slack would send: say so (a retry of the same bytes would not do better).
        return jsonify(error={"code": "invalid_event", "message": str(exc)}), 400
    if isinstance(reading, Challenge):
        return jsonify(challenge=reading.challenge), 200
    if isinstance(reading, Ignored):
        return jsonify(ok=True, ignored=reading.reason), 200
    session = get_session()
    try:
        return _keep(session, settings, raw, reading)
    except (OperationalError, TurnNotTaken):
        session.rollback()
        log.exception("the database could not take a Slack event")
        # A 5xx makes Slack send the event again later: nothing it delivered is lost.
        return jsonify(error={"code": "unavailable", "message": "the database is busy; send it again"}), 503


def _read(raw: bytes) -> Challenge | Ignored | Reading:
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise Unreadable("the body is not JSON") from None
    return read_delivery(envelope)


def _keep(session: Session, settings: SlackSettings, raw: bytes, reading: Reading) -> tuple[Response, int]:
    if incident_of_channel(session, provider=PROVIDER, channel_id=reading.channel_id) is None:
        return jsonify(ok=True, ignored="a channel linked to no incident"), 200
    if delivery_seen(session, provider=PROVIDER, delivery_key=reading.event_id):
        return jsonify(ok=True, duplicate=True), 200
    lookups = Lookups(session, settings)
    if reading.what == "marked" and reading.message is None:
        reading = _with_message(lookups, reading)
    speakers = lookups.speakers(people_named(reading))
    permalink = None
    if reading.what == "marked" and (reading.message is None or not reading.message.permalink):
        permalink = lookups.permalink(reading.channel_id, reading.ts) or permalink_guess(reading.channel_id, reading.ts)
    change = change_of(reading, speakers, permalink=permalink)
    receipt = receive_chat_delivery(
        session, provider=PROVIDER, delivery_key=reading.event_id, body=raw, changes=[change]
    )
    return jsonify(ok=True, duplicate=receipt.duplicate, entries=list(receipt.entry_ids)), 200


def _with_message(lookups: Lookups, reading: Reading) -> Reading:
    """A 📌 names only the message's ts: its text comes from the log, else from Slack."""
    if message_known(lookups.session, provider=PROVIDER, channel_id=reading.channel_id, ts=reading.ts):
        return reading
    found = lookups.message(reading.channel_id, reading.ts)
    return replace(reading, message=found) if found is not None else reading
