"""The declaration form submitted: declare the incident as `/incident declare` does, once per submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.errors import DomainError
from incidents.models import Source
from incidents.service import declare_incident
from incidents.settings import severity_scale

from .commands import incident_link, sentence, similar_lines
from .declare_form import TITLE_BLOCK, block_of, read_form
from .people import NoPerson, person_of
from .replies import Later, message_to_member
from .settings import SlackSettings
from .translate import readable, text_at
from .views import COMMAND_NAME

# An error shows in a line or two under its block: kept short.
ERROR_MAX = 150


@dataclass
class Answer:
    """The body to answer Slack with (None: an empty 200, which closes the form), and what to do once sent."""

    body: dict[str, Any] | None = None
    later: list[Later] = field(default_factory=list)


def submission_key(view: object) -> str | None:
    """The key of one submission: the view's id and its hash, which a second delivery of it repeats."""
    view_id, view_hash = text_at(view, "id"), text_at(view, "hash")
    return f"view:{view_id}:{view_hash}" if view_id and view_hash else None


def declare_from_form(session: Session, settings: SlackSettings, payload: dict[str, Any]) -> Answer:
    """Declare the incident the form describes, commanded by whoever submitted it, and tell them its link.

    A wrong field is shown under its block and the form stays open; a second delivery of the same
    submission declares nothing more.
    """
    view = payload.get("view")
    form = read_form(view)
    if not form.title:
        return _errors(TITLE_BLOCK, "Say what is happening: the title is what responders see first.")
    slack_user_id = text_at(payload, "user", "id")
    if not slack_user_id:
        return _errors(TITLE_BLOCK, "Slack sent this form without saying who submitted it; nothing was declared.")
    key = submission_key(view)
    command = command_of(view)
    try:
        person = person_of(session, settings, slack_user_id)
        incident = declare_incident(
            session,
            actor=person,
            source=Source.SLACK,
            title=form.title,
            severity=form.severity or severity_scale()[-1],
            services=list(form.services),
            summary=form.summary,
            external_id=key,
        )
    except NoPerson as exc:
        session.rollback()
        return _errors(TITLE_BLOCK, readable(exc.message))
    except DomainError as exc:
        session.rollback()
        return _errors(block_of(exc.field), sentence(exc.message))
    except IntegrityError:
        # The key of its first entry refused a twin: this very submission, delivered again.
        session.rollback()
        if key is None:
            raise
        return Answer()
    lines = [
        f"You declared a {incident.severity} incident and command it: {incident_link(incident.id, incident.title)}.",
        f"To work it from a channel, type `{command} attach {incident.id}` there.",
    ]
    similar = similar_lines(session, person, incident.id)
    if similar:
        lines += ["Past post-mortems like this one:", *similar]
    text = "\n".join(lines)
    return Answer(later=[lambda: message_to_member(settings, slack_user_id, text)])


def command_of(view: object) -> str:
    """The name of the command that opened the form (kept in its private_metadata), /incident by default."""
    given = text_at(view, "private_metadata")
    return given if COMMAND_NAME.match(given) else "/incident"


def _errors(block_id: str, message: str) -> Answer:
    shown = message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…"
    return Answer({"response_action": "errors", "errors": {block_id: shown}})
