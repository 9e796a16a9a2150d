"""POST /integrations/slack/commands: verify Slack's signature on the raw body, then answer the command."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, jsonify, request
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy.exc import OperationalError

from incidents.database import get_session
from incidents.writer_turns import TurnNotTaken

from .commands import Command, Reply, answer
from .outbound import SEEN_AT
from .settings import SlackSettings, settings_of

bp = Blueprint("slack", __name__, url_prefix="/integrations/slack")
log = logging.getLogger(__name__)
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
# The command as this workspace named it (/incident, /inc, ...): the help and usage replies repeat it.
COMMAND_NAME = re.compile(r"^/[A-Za-z0-9_-]{1,32}$")


@bp.after_request
def remember_address(response: Response) -> Response:
    """Slack calls Kintsugi at its public address: messages posted later link there when
    KINTSUGI_PUBLIC_URL is not set. Only a request Slack signed (answered 200) says so: anyone can
    send another Host."""
    if response.status_code == 200:
        current_app.extensions[SEEN_AT] = request.host_url
    return response


@bp.post("/commands")
def receive_command() -> tuple[Response | str, int]:
    """Answer a slash command within Slack's 3 seconds; a request Slack did not sign changes nothing."""
    # The raw body first: once request.form is read, get_data() is empty and every signature fails.
    raw = request.get_data(cache=True)
    settings = settings_of(current_app)
    if _is_ssl_check(raw):
        # As Slack's own Bolt does: the probe is answered before the signature, as it reads and
        # changes nothing, and Slack is not known to sign it.
        return "", 200
    if not signed_by_slack(
        settings, raw, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
    ):
        return refused()
    fields = {name: values[0] for name, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    command = Command(
        session=get_session(),
        settings=settings,
        name=_command_name(fields.get("command", "")),
        text=fields.get("text", ""),
        channel_id=fields.get("channel_id", ""),
        user_id=fields.get("user_id", ""),
        trigger_id=fields.get("trigger_id", ""),
    )
    reply = _answered(command)
    return (jsonify(reply.as_json()), 200) if reply.text else ("", 200)


def refused() -> tuple[Response, int]:
    """The answer to a request Slack did not sign (or signed too long ago): 401, nothing read or stored."""
    log.warning("refused a Slack request: its signature is missing, stale or wrong")
    return jsonify(error={"code": "unauthenticated", "message": "invalid Slack signature"}), 401


def signed_by_slack(settings: SlackSettings, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Whether Slack signed exactly these bytes at this timestamp, within five minutes of now."""
    if timestamp is None or signature is None or not TIMESTAMP.match(timestamp) or not SIGNATURE.match(signature):
        return False
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    verifier = SignatureVerifier(settings.signing_secret, clock=settings.clock or Clock())
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def _command_name(given: str) -> str:
    return given if COMMAND_NAME.match(given) else "/incident"


def _is_ssl_check(raw: bytes) -> bool:
    if len(raw) > 1000 or b"ssl_check=1" not in raw:
        return False
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return fields.get("ssl_check") == ["1"] and "command" not in fields


def _answered(command: Command) -> Reply:
    if not command.user_id or not command.channel_id:
        return Reply("Slack sent this command without its user or channel; nothing was done.")
    try:
        return answer(command)
    except (OperationalError, TurnNotTaken):
        command.session.rollback()
        log.exception("the database could not take a Slack command")
        return Reply("Kintsugi's database is busy or unavailable; nothing was changed. Try again in a moment.")
    except Exception:
        # Slack shows a 500 as a bare "dispatch_failed": a reply says more, and the log keeps the rest.
        command.session.rollback()
        log.exception("a Slack command failed: %r", command.text[:200])
        return Reply("Kintsugi could not finish this command. Check the incident's page before trying again.")
