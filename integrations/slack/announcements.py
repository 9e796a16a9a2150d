"""The announcement of each open incident in the channel where incidents are announced
(KINTSUGI_SLACK_ANNOUNCE_CHANNEL): posted once, on its declaration, then kept in step with it.

A restricted incident is never announced; one restricted after its announcement has the message
withdrawn to a line that tells nothing about it.
"""

from __future__ import annotations

from flask import current_app
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from incidents.accounts.service_chat import SLACK_ISSUER
from incidents.chat.models import ANNOUNCEMENT
from incidents.chat.queries import IncidentFacts, channels_of_incident, incident_facts
from incidents.database import get_session
from incidents.events import ChatChannelLinked, Event, IncidentChanged, IncidentDeclared
from incidents.models import IncidentRole, Source, Status

from .headline import people, slack_time
from .outbound import PROVIDER, page_url, worker_client
from .posts import Message, keep_posted
from .settings import settings_of
from .translate import escaped

OPEN_STATUSES = (Status.INVESTIGATING, Status.MITIGATED)


def on_event(event: Event) -> None:
    """Announce an incident just declared (or just made open), or bring its announcement up to date."""
    assert isinstance(event, IncidentDeclared | IncidentChanged | ChatChannelLinked)
    settings = settings_of(current_app)
    if settings.announce_channel is None:
        return
    session = get_session()
    facts = incident_facts(session, incident_id=event.incident_id, issuer=SLACK_ISSUER)
    if facts is None:
        return
    if isinstance(event, IncidentDeclared):
        # An imported record of the past, or one declared over already, is news to nobody.
        first = event.source != Source.IMPORT.value and facts.status in OPEN_STATUSES
    else:
        # Made open after a restricted start: announced then, once.
        first = isinstance(event, IncidentChanged) and "visibility" in event.changed and facts.status in OPEN_STATUSES
    if facts.restricted:
        message, first = withdrawn(facts.id), False
    else:
        url = page_url(settings, "incident.show", incident_id=facts.id)
        channels = channels_of_incident(session, provider=PROVIDER, incident_id=facts.id)
        message = announcement(facts, url=url, channels=channels)
    keep_posted(
        worker_client(settings),
        session,
        incident_id=facts.id,
        purpose=ANNOUNCEMENT,
        channel=settings.announce_channel,
        message=message,
        may_post=first,
    )


def announcement(facts: IncidentFacts, *, url: str | None, channels: list[str]) -> Message:
    """One line on the incident: severity, title linked to its page, status, commander, and its channels."""
    title = escaped(f"#{facts.id} {facts.title}")
    linked = f"<{url}|{title}>" if url else title
    lines = [
        f":rotating_light: *{escaped(facts.severity)}* incident {linked}",
        f"Status: {facts.status.value} · Commander: {people(facts.roles.get(IncidentRole.COMMANDER, []))} · "
        f"Declared {slack_time(facts.declared_at)}",
    ]
    if channels:
        lines.append("Worked in " + ", ".join(f"<#{channel}>" for channel in channels))
    text = f"{escaped(facts.severity)} incident #{facts.id} {escaped(facts.title)}: {facts.status.value}"
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text="\n".join(lines))).to_dict()])


def withdrawn(incident_id: int) -> Message:
    """What an announcement says once its incident is restricted: that it was withdrawn, nothing more."""
    text = f"Incident #{incident_id} is now restricted to its participants; its announcement was withdrawn."
    return Message(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text)).to_dict()])
