"""The /incident subcommands: one registry that both dispatches and writes the help.

Each handler reads what was typed (translate), makes one call to the domain and words the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.chat.history import request_chat_history
from incidents.chat.queries import incident_of_channel
from incidents.chat.service import link_channel
from incidents.errors import DomainError
from incidents.models import Incident, IncidentRole, Source, Status, User, Visibility
from incidents.postmortems.queries import postmortem_of_incident
from incidents.postmortems.service import start_postmortem
from incidents.queries import get_incident, list_timeline
from incidents.service import declare_incident, update_incident
from incidents.settings import severity_scale
from incidents.timefmt import local
from incidents.timeline import record_timeline_entry
from search.service import similar_to_incident

from .declare_form import open_declare_form
from .people import NoPerson, person_of
from .settings import SlackSettings
from .translate import (
    Unreadable,
    escaped,
    incident_number,
    read_declaration,
    read_mention,
    read_severity,
    readable,
    subcommand_of,
    take_incident,
)

log = logging.getLogger(__name__)
PROVIDER = "slack"
SIMILAR_SHOWN = 3
TIMELINE_SHOWN = 10
ENTRY_SHOWN = 300


@dataclass(frozen=True)
class Reply:
    """The immediate answer to a command: seen by the one who typed it, or by the whole channel.

    No text: nothing to say (a form was opened instead); Slack is answered with an empty 200.
    """

    text: str
    in_channel: bool = False

    def as_json(self) -> dict[str, str]:
        """The body Slack expects in the 200 answer."""
        return {"response_type": "in_channel" if self.in_channel else "ephemeral", "text": self.text}


@dataclass
class Command:
    """One /incident command as Slack sent it, and the person who typed it once known."""

    session: Session
    settings: SlackSettings
    name: str
    text: str
    channel_id: str
    user_id: str
    trigger_id: str = ""
    _person: User | None = field(default=None, repr=False)

    @property
    def key(self) -> str | None:
        """The key of what this command records: Slack's trigger id is unique to one typing of a command,
        so the same request delivered twice (a replay within the signature's five minutes) records once."""
        return f"command:{self.trigger_id}" if self.trigger_id else None

    def person(self) -> User:
        """The Kintsugi account of whoever typed the command (NoPerson when they cannot be known)."""
        if self._person is None:
            self._person = person_of(self.session, self.settings, self.user_id)
        return self._person


Handler = Callable[[Command, int | None, str], Reply]


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its name, how it is typed, what it does, and who handles it.

    arguments: how many words it takes after the incident (None: free text); acts_on_incident: it
    needs an incident, the channel's or one named by id.
    """

    name: str
    usage: str
    summary: str
    handler: Handler
    arguments: int | None = 0
    acts_on_incident: bool = True


REGISTRY: dict[str, Subcommand] = {}


def subcommand(
    name: str, usage: str, summary: str, *, arguments: int | None = 0, acts_on_incident: bool = True
) -> Callable[[Handler], Handler]:
    """Register a handler under a name, with the usage and summary the help shows."""

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = Subcommand(name, usage, summary, handler, arguments, acts_on_incident)
        return handler

    return register


def answer(command: Command) -> Reply:
    """Dispatch a command to its subcommand; every mistake gets a reply saying what to type."""
    name, rest = subcommand_of(command.text)
    if not name:
        return help_reply(command)
    chosen = REGISTRY.get(name)
    if chosen is None:
        return Reply(f"There is no `{command.name} {escaped(name[:40])}`.\n{help_reply(command).text}")
    incident_id = linked = None
    if chosen.acts_on_incident:
        linked = incident_of_channel(command.session, provider=PROVIDER, channel_id=command.channel_id)
        named, rest = take_incident(rest, in_incident_channel=linked is not None, arguments=chosen.arguments)
        incident_id = named if named is not None else linked
        if incident_id is None:
            return Reply(
                f"Which incident? This channel is linked to none: put the incident's id first, as in "
                f"`{command.name} {usage_with_id(chosen)}`, or link the channel with `{command.name} attach <id>`."
            )
    try:
        reply = chosen.handler(command, incident_id, rest)
        if reply.in_channel and incident_id is not None and incident_id != linked and _restricted(command, incident_id):
            # Said in a channel of its own, a restricted incident is its members' business; said
            # anywhere else, its news reaches only the one who asked.
            return Reply(reply.text)
        return reply
    except Unreadable as exc:
        return Reply(f"{sentence(str(exc))}\nUsage: `{command.name} {chosen.usage}`")
    except NoPerson as exc:
        command.session.rollback()
        return Reply(exc.message)
    except DomainError as exc:
        command.session.rollback()
        return Reply(sentence(escaped(exc.message[:500])))


def _restricted(command: Command, incident_id: int) -> bool:
    incident = get_incident(command.session, viewer=command.person(), incident_id=incident_id)
    return incident.visibility is Visibility.RESTRICTED


def sentence(text: str) -> str:
    """A message as a sentence: a capital first, a full stop last."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def usage_with_id(chosen: Subcommand) -> str:
    """The usage with the incident's id in its place, for a channel linked to none."""
    name, _, rest = chosen.usage.partition(" ")
    return f"{name} <id> {rest}".strip()


def help_reply(command: Command) -> Reply:
    """Every registered subcommand, how to type it and what it does."""
    lines = [f"*{command.name}* — work an incident from Slack:"]
    lines += [f"• `{command.name} {s.usage}` — {s.summary}" for s in REGISTRY.values()]
    lines.append(
        "In an incident's channel (see `attach`), commands act on that incident. Elsewhere, put the incident's "
        f"id first: `{command.name} status 42`, `{command.name} sev 42 2`. In an incident's channel, `#42` "
        "names another incident."
    )
    return Reply("\n".join(lines))


def incident_link(incident_id: int, title: str) -> str:
    """A Slack link to the incident's page, with its id and title."""
    url = url_for("incident.show", incident_id=incident_id, _external=True)
    return f"<{url}|#{incident_id} {escaped(title)}>"


def summary_of(incident: Incident) -> str:
    """One line: the incident's link, severity, status and commander."""
    commanders = ", ".join(escaped(u.name) for u in incident.holders(IncidentRole.COMMANDER)) or "nobody yet"
    return (
        f"{incident_link(incident.id, incident.title)} — {incident.severity}, {incident.status.value}; "
        f"commander: {commanders}"
    )


def similar_lines(session: Session, viewer: User, incident_id: int) -> list[str]:
    """Up to three published post-mortems like the incident, as Slack lines; none when search fails."""
    try:
        hits = similar_to_incident(session, viewer=viewer, incident_id=incident_id, limit=SIMILAR_SHOWN)
    except DomainError:
        raise
    except Exception:
        # Past lessons help, but a declaration does not wait on the index: it is already recorded.
        log.exception("similar post-mortems of incident %s could not be found", incident_id)
        return []
    lines = []
    for hit in hits:
        if hit.postmortem_id is not None:
            url = url_for("review.show", postmortem_id=hit.postmortem_id, _external=True)
        else:
            url = url_for("incident.show", incident_id=hit.incident_id, _external=True)
        lines.append(f"• <{url}|#{hit.incident_id} {escaped(hit.title)}> ({hit.severity})")
    return lines


@subcommand(
    "declare",
    "declare <title> [sev1..sev5] [service:NAME …]",
    "declare an incident, which you command (the least severe unless you give sevN)",
    arguments=None,
    acts_on_incident=False,
)
def declare(command: Command, _incident_id: int | None, rest: str) -> Reply:
    if not rest.strip():
        # Nothing typed: the form asks for the rest. Opened before anything else, as its trigger
        # lasts 3 seconds; when Slack will not open it, the usage says how to declare by text.
        if open_declare_form(command.settings, command.trigger_id, command.name):
            return Reply("")
        raise Unreadable("Say what is happening")
    declared = read_declaration(rest, severity_scale())
    person = command.person()
    severity = declared.severity or severity_scale()[-1]
    try:
        incident = declare_incident(
            command.session,
            actor=person,
            source=Source.SLACK,
            title=declared.title,
            severity=severity,
            services=list(declared.services),
            external_id=command.key,
        )
    except IntegrityError:
        # The key of its first entry refused a twin: the same typing of the command, delivered again.
        command.session.rollback()
        if command.key is None:
            raise
        return Reply("Slack delivered this command twice; the incident was declared the first time.")
    incident_id, title = incident.id, incident.title
    services = f" Services: {escaped(', '.join(declared.services))}." if declared.services else ""
    lines = [
        f"<@{command.user_id}> declared a {incident.severity} incident: {incident_link(incident_id, title)}. "
        f"<@{command.user_id}> is incident commander.{services}",
        "Kintsugi is opening a channel for it and will invite you there."
        if command.settings.create_channels
        else f"To work it from a channel, type `{command.name} attach {incident_id}` there.",
    ]
    if declared.severity is None:
        lines[0] += f" No severity was given: change it with `{command.name} sev {incident_id} <1-5>`."
    similar = similar_lines(command.session, person, incident_id)
    if similar:
        lines += ["Past post-mortems like this one:", *similar]
    return Reply("\n".join(lines), in_channel=True)


@subcommand("status", "status [id]", "the incident's severity, status and commander")
def status(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    return Reply(summary_of(get_incident(command.session, viewer=command.person(), incident_id=incident_id)))


@subcommand("sev", "sev <1-5>", "change the severity (also `sev2`, or a level of your scale such as `P2`)", arguments=1)
def sev(command: Command, incident_id: int | None, rest: str) -> Reply:
    assert incident_id is not None
    severity = read_severity(rest, severity_scale())
    return _changed(command, incident_id, f"set the severity to {severity}", severity=severity)


def _role(role: IncidentRole, label: str) -> Handler:
    def assign(command: Command, incident_id: int | None, rest: str) -> Reply:
        assert incident_id is not None
        slack_id = read_mention(rest)
        person = command.person()
        holder = person if slack_id == command.user_id else person_of(command.session, command.settings, slack_id)
        return _changed(command, incident_id, f"made <@{slack_id}> {label}", roles={role.value: holder.email})

    return assign


for _name, _role_held, _label in (
    ("commander", IncidentRole.COMMANDER, "incident commander"),
    ("scribe", IncidentRole.SCRIBE, "scribe"),
    ("comms", IncidentRole.COMMUNICATIONS_LEAD, "communications lead"),
):
    subcommand(_name, f"{_name} @person", f"make someone {_label}", arguments=1)(_role(_role_held, _label))


@subcommand("mitigated", "mitigated", "mark the impact mitigated")
def mitigated(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    return _changed(command, incident_id, "marked the incident mitigated", status=Status.MITIGATED)


@subcommand("resolved", "resolved", "mark the incident resolved")
def resolved(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    return _changed(command, incident_id, "marked the incident resolved", status=Status.RESOLVED)


def _changed(command: Command, incident_id: int, what: str, **changes: Any) -> Reply:
    incident = update_incident(
        command.session, actor=command.person(), incident_id=incident_id, source=Source.SLACK, **changes
    )
    return Reply(f"<@{command.user_id}> {what}: {summary_of(incident)}", in_channel=True)


@subcommand("note", "note <text>", "add a note to the timeline, in your name", arguments=None)
def note(command: Command, incident_id: int | None, rest: str) -> Reply:
    assert incident_id is not None
    text = readable(rest).strip()
    if not text:
        raise Unreadable("Say what to note")
    entry, created = record_timeline_entry(
        command.session,
        actor=command.person(),
        incident_id=incident_id,
        text=text,
        source=Source.SLACK,
        external_id=command.key,
    )
    if not created:
        return Reply(f"That note is on incident #{entry.incident_id}'s timeline already.")
    return Reply(f"Noted on incident #{entry.incident_id}'s timeline.")


@subcommand("timeline", "timeline", f"the last {TIMELINE_SHOWN} timeline entries")
def timeline(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    person = command.person()
    incident = get_incident(command.session, viewer=person, incident_id=incident_id)
    entries = list_timeline(command.session, viewer=person, incident_id=incident_id)[-TIMELINE_SHOWN:]
    zone = person.timezone or incident.reference_timezone or "UTC"
    lines = [f"Timeline of {incident_link(incident.id, incident.title)} (last {len(entries)}, {zone}):"]
    for entry in entries:
        text = entry.text if len(entry.text) <= ENTRY_SHOWN else entry.text[: ENTRY_SHOWN - 1] + "…"
        when = local(entry.occurred_at, zone, "%Y-%m-%d %H:%M")
        lines.append(f"• {when} {escaped(entry.actor_name)}: {escaped(text)}")
    return Reply("\n".join(lines))


@subcommand("page", "page", "the link to the incident's page")
def page(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    incident = get_incident(command.session, viewer=command.person(), incident_id=incident_id)
    return Reply(incident_link(incident.id, incident.title))


@subcommand(
    "attach",
    "attach <id>",
    "link this channel to an incident: commands here act on it",
    arguments=1,
    acts_on_incident=False,
)
def attach(command: Command, _incident_id: int | None, rest: str) -> Reply:
    number = incident_number(rest)
    if number is None:
        raise Unreadable("Give the id of the incident to link this channel to")
    person = command.person()
    link = link_channel(
        command.session, actor=person, incident_id=number, provider=PROVIDER, channel_id=command.channel_id
    )
    incident = get_incident(command.session, viewer=person, incident_id=link.incident_id)
    return Reply(
        f"<@{command.user_id}> linked this channel to {summary_of(incident)}. Commands typed here act on it.",
        in_channel=True,
    )


@subcommand("postmortem", "postmortem", "start the blameless post-mortem, or link the one started")
def postmortem(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    person = command.person()
    existing = postmortem_of_incident(command.session, viewer=person, incident_id=incident_id)
    if existing is not None:
        url = url_for("review.show", postmortem_id=existing.id, _external=True)
        return Reply(f"Incident #{incident_id}'s post-mortem: <{url}|{escaped(existing.title)}>")
    started = start_postmortem(command.session, actor=person, incident_id=incident_id)
    url = url_for("review.show", postmortem_id=started.id, _external=True)
    return Reply(
        f"<@{command.user_id}> started the blameless post-mortem of incident #{incident_id}: "
        f"<{url}|{escaped(started.title)}>",
        in_channel=True,
    )


@subcommand("similar", "similar", f"up to {SIMILAR_SHOWN} past post-mortems like this incident")
def similar(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    person = command.person()
    incident = get_incident(command.session, viewer=person, incident_id=incident_id)
    shown = incident_link(incident.id, incident.title)
    lines = similar_lines(command.session, person, incident_id)
    if not lines:
        return Reply(f"No published post-mortem is like {shown} yet.")
    return Reply("\n".join([f"Past post-mortems like {shown}:", *lines]))


@subcommand("import", "import", "read the channel's history into the incident's chat log; pins become key moments")
def import_history(command: Command, incident_id: int | None, _rest: str) -> Reply:
    assert incident_id is not None
    channels = request_chat_history(command.session, actor=command.person(), incident_id=incident_id, provider=PROVIDER)
    shown = ", ".join(f"<#{channel}>" for channel in channels)
    return Reply(
        f"Reading the history of {shown} into incident #{incident_id}'s chat log; a note will say when it is done."
    )


@subcommand("help", "help", "this list", acts_on_incident=False)
def help_(command: Command, _incident_id: int | None, _rest: str) -> Reply:
    return help_reply(command)
