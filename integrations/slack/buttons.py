"""Clicks on the headline message's buttons and menu: change the incident's status or severity, or read
its channels' history into the chat log.

The clicker acts as themselves, by the domain's rules: a read-only account changes nothing, and a
restricted incident they may not see is answered as one that does not exist.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from incidents.chat.history import request_chat_history
from incidents.errors import DomainError
from incidents.models import Source, Status
from incidents.service import update_incident

from .actions import IMPORT_ACTION, SEVERITY_ACTION, STATUS_ACTION
from .commands import sentence, summary_of
from .people import NoPerson, person_of
from .replies import Later, reply_to_response_url
from .settings import SlackSettings
from .translate import escaped, incident_number, read_choice, text_at, value_at

log = logging.getLogger(__name__)
STATUSES = {status.value: status for status in Status}


def answer_click(session: Session, settings: SlackSettings, payload: dict[str, Any]) -> list[Later]:
    """Apply the first action of a block_actions payload this app knows; the reply to send once Slack is answered.

    An action the app does not handle (the page link, or one another part answers) does nothing here.
    """
    actions = value_at(payload, "actions")
    action = actions[0] if isinstance(actions, list) and actions else None
    action_id = text_at(action, "action_id")
    if action_id == STATUS_ACTION:
        chosen = read_choice(text_at(action, "value"))
        what = "status"
    elif action_id == SEVERITY_ACTION:
        chosen = read_choice(text_at(action, "selected_option", "value"))
        what = "severity"
    elif action_id == IMPORT_ACTION:
        number = incident_number(text_at(action, "value"))
        chosen = (number, "history") if number is not None else None
        what = "history"
    else:
        return []
    slack_user_id = text_at(payload, "user", "id")
    response_url = text_at(payload, "response_url")
    if chosen is None or not slack_user_id:
        log.warning("a Slack click on %s carried no readable value or user; nothing was changed", action_id)
        return []
    incident_id, choice = chosen
    text = _changed(session, settings, slack_user_id, incident_id, what, choice)
    if not response_url:
        return []
    return [lambda: reply_to_response_url(settings, response_url, text)]


def _changed(
    session: Session, settings: SlackSettings, slack_user_id: str, incident_id: int, what: str, choice: str
) -> str:
    """Make the change as the member who clicked; what to tell them."""
    try:
        person = person_of(session, settings, slack_user_id)
        if what == "history":
            channels = request_chat_history(session, actor=person, incident_id=incident_id, provider="slack")
            shown = ", ".join(f"<#{channel}>" for channel in channels)
            return f"Reading the history of {shown} into incident #{incident_id}'s chat log; a note says when done."
        if what == "status":
            status = STATUSES.get(choice)
            if status is None:
                return f"Kintsugi knows no status `{escaped(choice[:40])}`; nothing was changed."
            incident = update_incident(
                session, actor=person, incident_id=incident_id, source=Source.SLACK, status=status
            )
            done = f"marked the incident {status.value}"
        else:
            incident = update_incident(
                session, actor=person, incident_id=incident_id, source=Source.SLACK, severity=choice
            )
            done = f"set the severity to {incident.severity}"
    except NoPerson as exc:
        session.rollback()
        return exc.message
    except DomainError as exc:
        # A viewer is told they may not change it; an outsider to a restricted incident hears what
        # anyone hears of an incident that does not exist.
        session.rollback()
        return f"{sentence(escaped(exc.message[:500]))} Nothing was changed."
    return f"You {done}: {summary_of(incident)}"
