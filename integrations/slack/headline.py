"""The headline of an incident's channel: one message, posted when the channel is linked and edited as the
incident changes, showing where it stands and offering its next steps as buttons.

Whoever answers the buttons' clicks reads the ids in `actions`: each status button's value is
"<incident id>:<status>", each severity option's "<incident id>:<severity>".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from sqlalchemy.orm import Session

from incidents.accounts.service_chat import SLACK_ISSUER
from incidents.chat.models import HEADLINE
from incidents.chat.queries import IncidentFacts, Person, channels_of_incident, incident_facts, incident_of_channel
from incidents.database import get_session
from incidents.events import ChatChannelLinked, Event, IncidentChanged
from incidents.models import IncidentRole, Status
from incidents.settings import severity_scale

from .actions import OPEN_ACTION, SEVERITY_ACTION, STATUS_ACTION
from .outbound import PROVIDER, page_url, worker_client
from .posts import Message, keep_posted
from .settings import settings_of
from .translate import escaped

HEADER_MAX = 150
OPTIONS_MAX = 100
CONTROLS_BLOCK = "kintsugi_headline"
STATUS_WORDS = {
    Status.INVESTIGATING: "Investigating",
    Status.MITIGATED: "Mitigated",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
}
BUTTON_WORDS = {Status.MITIGATED: "Mark mitigated", Status.RESOLVED: "Mark resolved", Status.CLOSED: "Close"}
ROLE_WORDS = (
    (IncidentRole.COMMANDER, "Commander"),
    (IncidentRole.SCRIBE, "Scribe"),
    (IncidentRole.COMMUNICATIONS_LEAD, "Comms lead"),
)
DURATION_WORDS = (("time_to_mitigate", "Time to mitigate"), ("time_to_resolve", "Time to resolve"))


def on_linked(event: Event) -> None:
    """Post the headline in a channel just linked to an incident (while it still speaks of that incident)."""
    assert isinstance(event, ChatChannelLinked)
    if event.provider != PROVIDER:
        return
    session = get_session()
    if incident_of_channel(session, provider=PROVIDER, channel_id=event.channel_id) != event.incident_id:
        return  # linked elsewhere since: that link posts its own headline
    show_headline(session, event.incident_id, [event.channel_id])


def on_changed(event: Event) -> None:
    """Bring the headline in each of the incident's channels up to date."""
    assert isinstance(event, IncidentChanged)
    session = get_session()
    channels = channels_of_incident(session, provider=PROVIDER, incident_id=event.incident_id)
    if channels:
        show_headline(session, event.incident_id, channels)


def show_headline(session: Session, incident_id: int, channels: list[str]) -> None:
    """Post the incident's headline in each channel, or edit the one posted there."""
    settings = settings_of(current_app)
    facts = incident_facts(session, incident_id=incident_id, issuer=SLACK_ISSUER)
    if facts is None:
        return  # deleted since
    message = headline(
        facts, url=page_url(settings, "incident.show", incident_id=incident_id), severities=severity_scale()
    )
    client = worker_client(settings)
    for channel in channels:
        keep_posted(client, session, incident_id=incident_id, purpose=HEADLINE, channel=channel, message=message)


def headline(facts: IncidentFacts, *, url: str | None, severities: list[str]) -> Message:
    """The headline's text and blocks: title, status, severity, roles, times, and the controls."""
    fields = [
        f"*Status*\n{STATUS_WORDS[facts.status]}",
        f"*Severity*\n{escaped(facts.severity)}",
        *(f"*{word}*\n{people(facts.roles.get(role, []))}" for role, word in ROLE_WORDS),
        f"*Started*\n{slack_time(facts.started_at, ago=facts.status in (Status.INVESTIGATING, Status.MITIGATED))}",
    ]
    for name, word in DURATION_WORDS:
        took = facts.durations.get(name)
        if took is not None:
            fields.append(f"*{word}*\n{spoken(took)}")
    blocks: list[Block] = [
        HeaderBlock(text=cut(f"#{facts.id} {facts.title}", HEADER_MAX)),
        SectionBlock(fields=[MarkdownTextObject(text=field) for field in fields]),
    ]
    if facts.restricted:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=":lock: Restricted: only its participants see it.")])
        )
    blocks.extend(controls(facts, url=url, severities=severities))
    commanders = people(facts.roles.get(IncidentRole.COMMANDER, []), plain=True)
    text = (
        f"#{facts.id} {escaped(facts.title)}: {escaped(facts.severity)}, {facts.status.value}; commander: {commanders}"
    )
    return Message(text=text, blocks=[block.to_dict() for block in blocks])


def controls(facts: IncidentFacts, *, url: str | None, severities: list[str]) -> list[Block]:
    """The buttons and the severity menu. Slack wants an action id once per actions block, so the first
    next status shares the block of the menu and the page's link, and each further one has a block of its own."""
    nexts = next_statuses(facts.status)
    first: list[ButtonElement | StaticSelectElement] = [status_button(facts.id, s) for s in nexts[:1]]
    options = [Option(value=f"{facts.id}:{s}", text=s) for s in severities[:OPTIONS_MAX]]
    current = next((o for o in options if o.value == f"{facts.id}:{facts.severity}"), None)
    first.append(
        StaticSelectElement(action_id=SEVERITY_ACTION, placeholder="Severity", options=options, initial_option=current)
    )
    if url is not None:
        first.append(ButtonElement(action_id=OPEN_ACTION, text="Open in Kintsugi", url=url))
    blocks: list[Block] = [ActionsBlock(block_id=CONTROLS_BLOCK, elements=first)]
    blocks += [
        ActionsBlock(block_id=f"{CONTROLS_BLOCK}_{s.value}", elements=[status_button(facts.id, s)]) for s in nexts[1:]
    ]
    return blocks


def status_button(incident_id: int, status: Status) -> ButtonElement:
    """A button moving the incident to a status."""
    return ButtonElement(
        action_id=STATUS_ACTION,
        text=BUTTON_WORDS[status],
        value=f"{incident_id}:{status.value}",
        style="primary" if status is Status.RESOLVED else None,
    )


def next_statuses(status: Status) -> list[Status]:
    """The statuses an incident may be moved on to from the headline: forward, and closing once resolved."""
    if status is Status.RESOLVED:
        return [Status.CLOSED]
    return [s for s in Status if s.rank > status.rank and s is not Status.CLOSED]


def people(persons: list[Person], *, plain: bool = False) -> str:
    """Who holds a role: a Slack mention for those Slack knows, else their name; a dash for nobody."""
    if not persons:
        return "nobody yet" if plain else "—"
    if plain:
        return ", ".join(escaped(p.name) for p in persons)
    return ", ".join(f"<@{p.chat_id}>" if p.chat_id else escaped(p.name) for p in persons)


def slack_time(moment: datetime, *, ago: bool = False) -> str:
    """A time each reader sees in their own zone, with the date (and how long ago, while it is running);
    the UTC text is what a client that cannot format it shows."""
    shown = "{date_short_pretty} {time}" + (" ({ago})" if ago else "")
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{shown}|{fallback}>"


def spoken(took: timedelta) -> str:
    """A duration as people say it: 35 min, 2 h 5 min, 3 d 4 h."""
    minutes = int(took.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def cut(text: str, limit: int) -> str:
    """Text cut to a Slack field's limit, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
