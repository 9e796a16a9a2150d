"""The one writer of incident state: declare an incident, then change it.

declare() and change() are the core: they validate, record the change on the timeline and emit
its event, and never commit. Every path calls them (the pages, the API, the pager path, and next
Slack and import), with a person or a sender as the actor. The use cases around them
(declare_incident, update_incident, ...) commit once each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import key_times, validation
from .access import ensure_can_see, ensure_can_write
from .accounts.service import user_by_email
from .actors import Actor, Sender, actor_id, labels_of, text_of
from .errors import Conflict, InvalidInput, NotFound
from .events import IncidentChanged, IncidentDeclared, record_event
from .models import (
    KEY_TIMES,
    SINGLE_HOLDER_ROLES,
    TEXT_MAX,
    TITLE_MAX,
    EntryKind,
    Incident,
    IncidentLabel,
    IncidentRole,
    LabelKind,
    RoleAssignment,
    Source,
    Status,
    TimelineEntry,
    User,
    Visibility,
    utcnow,
)
from .postmortems.models import Postmortem, ReviewStatus
from .settings import postmortem_required_for, severity_scale


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
EXTERNAL_ID_MAX = 255


def declare(
    session: Session,
    *,
    actor: Actor,
    source: Source,
    title: str,
    severity: str,
    summary: str = "",
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    services: Iterable[str] = (),
    teams: Iterable[str] = (),
    tags: Iterable[str] = (),
    visibility: Visibility = Visibility.OPEN,
    reference_timezone: str | None = None,
    commander: str | None = None,
    declared_at: datetime | None = None,
    because: str = "",
    external_id: str | None = None,
    after_the_fact: bool = False,
) -> Incident:
    """Declare an incident, without committing: the core every path calls.

    A person declaring commands the incident unless they name someone else. A sender commands
    nobody: the commander its routing rule names, else the first person to act on the incident.
    declared_at is for records of the past (imports, the demo); it defaults to now. because says
    why a sender declared ("from HighErrorRate"); external_id keys its entry (the sender's event id:
    the pager path recognises a re-sent event before it gets here, and the key refuses a twin).
    after_the_fact: the incident is recorded after it ended (an imported report): it needs started_at,
    and a key time the record does not state stays unset instead of being taken as now.
    """
    person = actor if isinstance(actor, User) else None
    if person is not None:
        ensure_can_write(person)
    now = validation.past_time(declared_at, field="declared_at") if declared_at else utcnow()
    incident = Incident(
        title=text_of(actor, title, field="title", limit=TITLE_MAX, required=True),
        summary=text_of(actor, summary, field="summary", limit=TEXT_MAX),
        severity=_severity(severity),
        status=Status.INVESTIGATING,
        visibility=visibility,
        reference_timezone=_reference_zone(reference_timezone),
        declared_at=now,
        declared_by_id=actor_id(actor),
    )
    times = {"started_at": started_at, "detected_at": detected_at, "acknowledged_at": acknowledged_at}
    for name, value in times.items():
        if value is not None:
            times[name] = validation.past_time(value, field=name)
    if after_the_fact and times["started_at"] is None:
        raise InvalidInput("an incident recorded after the fact needs started_at", field="started_at")
    # Whoever declares an incident has detected it by now at the latest.
    if times["detected_at"] is None and not after_the_fact:
        times["detected_at"] = min(now, times["acknowledged_at"] or now)
    if times["started_at"] is None:
        times["started_at"] = times["detected_at"]
    key_times.check_order(times)
    for name, value in times.items():
        setattr(incident, name, value)
    for kind, values, field in (
        (LabelKind.SERVICE, services, "services"),
        (LabelKind.TEAM, teams, "teams"),
        (LabelKind.TAG, tags, "tags"),
    ):
        incident.labels.extend(IncidentLabel(kind=kind, value=v) for v in labels_of(actor, list(values), field=field))
    unknown_commander = ""
    if commander and person is None:
        # A routing rule's commander: a sender cannot be told it is wrong, so the incident goes on without one.
        lead = user_by_email(session, commander)
        if lead is None or not lead.is_active:
            lead, unknown_commander = None, commander
    else:
        lead = _user_by_email(session, commander, field="commander") if commander else person
    if lead is not None:
        incident.assignments.append(RoleAssignment(user=lead, role=IncidentRole.COMMANDER))
    if person is not None and lead is not None and lead.id != person.id:
        incident.assignments.append(RoleAssignment(user=person, role=IncidentRole.PARTICIPANT))
    session.add(incident)
    session.flush()
    if person is not None:
        note = f"Declared {incident.severity} incident; {lead.name if lead else person.name} is incident commander."
    else:
        commanded = f"{lead.name} is incident commander" if lead else "nobody commands it yet"
        if unknown_commander:
            commanded += f" (the routing rule names {unknown_commander}, who has no active account)"
        note = f"Declared a {incident.severity} incident{' ' + because if because else ''}; {commanded}."
    _record_change(session, incident, actor, source, [(note, now)], external_id=external_id)
    record_event(
        session,
        IncidentDeclared(incident_id=incident.id, actor_id=actor_id(actor), actor_name=actor.name, source=source.value),
    )
    return incident


def change(
    session: Session,
    incident: Incident,
    *,
    actor: Actor,
    source: Source,
    changes: Mapping[str, Any],
    because: str = "",
    external_id: str | None = None,
    log_times: bool = True,
    after_the_fact: bool = False,
) -> None:
    """Change an incident's fields, without committing: the core every path calls.

    Status, severity, visibility, roles and key times are recorded on the timeline. A person who
    acts on an incident an alert declared, which nobody commands yet, takes command of it.
    log_times=False when the entry that set a key time tells it already (a pager's
    acknowledgement). A change that changes nothing records nothing and emits nothing.
    after_the_fact: a record of the past (an import): moving its status forward leaves the key times
    it does not state unset instead of setting them to now.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    if isinstance(actor, User):
        ensure_can_write(actor)
    before = _state(incident)
    notes = _apply_changes(session, incident, actor, changes, log_times=log_times, fill=not after_the_fact)
    if isinstance(actor, User) and "roles" not in changes:
        notes.extend(take_command_if_unheld(session, incident, actor, source=source))
    after = _state(incident)
    changed = tuple(sorted(name for name in after if after[name] != before[name]))
    if not changed:
        return
    incident.updated_at = utcnow()
    _record_change(session, incident, actor, source, notes, because=because, external_id=external_id)
    record_event(
        session,
        IncidentChanged(
            incident_id=incident.id,
            actor_id=actor_id(actor),
            actor_name=actor.name,
            source=source.value,
            changed=changed,
        ),
    )


def take_command_if_unheld(
    session: Session, incident: Incident, person: User, *, source: Source
) -> list[tuple[str, datetime]]:
    """A person acting on an open incident an alert declared, which nobody commands, takes command; the note.

    Only then: an incident a person declared whose commander was cleared stays as its people left it,
    an import writing history takes nobody's command, and nobody takes command of a closed incident.
    """
    if (
        incident.declared_by_id is not None
        or incident.status not in (Status.INVESTIGATING, Status.MITIGATED)
        or source not in (Source.WEB, Source.API)
        or not person.can_write
        or _commanders_now(session, incident)
    ):
        return []
    incident.assignments.append(RoleAssignment(user=person, role=IncidentRole.COMMANDER))
    session.flush()
    return [(f"Incident commander: nobody → {person.name} (the first to act on it).", utcnow())]


def _commanders_now(session: Session, incident: Incident) -> list[User]:
    """Who commands the incident as stored now: on PostgreSQL its row is locked first, so that two people
    taking command at once are served one after the other (a unique index refuses a second commander
    on either database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
        session.refresh(incident, ["assignments"])
    return incident.holders(IncidentRole.COMMANDER)


def _state(incident: Incident) -> dict[str, Any]:
    """What a change can change, to tell what it did: fields, key times, labels and roles."""
    state: dict[str, Any] = {
        name: getattr(incident, name)
        for name in ("title", "summary", "severity", "status", "visibility", "reference_timezone", *KEY_TIMES)
    }
    for kind, name in ((LabelKind.SERVICE, "services"), (LabelKind.TEAM, "teams"), (LabelKind.TAG, "tags")):
        state[name] = sorted(label.value for label in incident.labels if label.kind is kind)
    state["roles"] = sorted(
        (a.role.value, a.user_id if a.user_id is not None else a.user.id) for a in incident.assignments
    )
    return state


def declare_incident(session: Session, *, actor: User, source: Source = Source.WEB, **fields: Any) -> Incident:
    """Declare a new incident; the declarer commands it unless someone else is named."""
    incident = declare(session, actor=actor, source=source, **fields)
    session.commit()
    return incident


def update_incident(
    session: Session,
    *,
    actor: User,
    incident_id: int,
    source: Source = Source.WEB,
    **changes: Any,
) -> Incident:
    """Change an incident's fields; status, severity, visibility, roles and key times are logged."""
    ensure_can_write(actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    change(session, incident, actor=actor, source=source, changes=changes)
    session.commit()
    return incident


def take_command(session: Session, *, actor: User, incident_id: int) -> Incident:
    """Take command of an incident nobody commands (one an alert declared); refused when someone does."""
    ensure_can_write(actor)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    held = _commanders_now(session, incident)
    if held:
        raise Conflict(f"{held[0].name} commands this incident already", field="roles.commander")
    change(session, incident, actor=actor, source=Source.WEB, changes={"roles": {"commander": actor.email}})
    try:
        session.commit()
    except IntegrityError:
        # Someone took command at the same moment, and the unique index kept them alone in the role.
        session.rollback()
        raise Conflict("someone took command of this incident at the same moment", field="roles.commander") from None
    return incident


def mark_key_time_from_entry(
    session: Session,
    *,
    actor: User,
    incident_id: int,
    entry_id: int,
    key_time: str,
    source: Source = Source.WEB,
) -> Incident:
    """Set a key time (say detected_at) to when a timeline entry happened, and make it a key moment."""
    ensure_can_write(actor)
    if key_time not in KEY_TIMES:
        raise InvalidInput(f"key_time must be one of {', '.join(KEY_TIMES)}", field="key_time")
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    entry = session.get(TimelineEntry, entry_id)
    if entry is None or entry.incident_id != incident.id or entry.deleted_at is not None:
        raise NotFound(f"timeline entry {entry_id} not found in incident {incident_id}")
    change(session, incident, actor=actor, source=source, changes={key_time: entry.occurred_at})
    entry.is_key_moment = True
    session.commit()
    return incident


def _apply_changes(
    session: Session, incident: Incident, actor: Actor, changes: Mapping[str, Any], *, log_times: bool, fill: bool
) -> list[tuple[str, datetime]]:
    """Apply changes, without committing; the notes they leave on the timeline, with when each happened."""
    now = utcnow()
    notes: list[tuple[str, datetime]] = []

    if changes.get("title", UNSET) is not UNSET:
        incident.title = text_of(actor, changes["title"], field="title", limit=TITLE_MAX, required=True)
    if changes.get("summary", UNSET) is not UNSET:
        incident.summary = text_of(actor, changes["summary"], field="summary", limit=TEXT_MAX)
    for kind, field in ((LabelKind.SERVICE, "services"), (LabelKind.TEAM, "teams"), (LabelKind.TAG, "tags")):
        if changes.get(field, UNSET) is not UNSET:
            _replace_labels(incident, kind, labels_of(actor, list(changes[field]), field=field))
    if changes.get("severity", UNSET) is not UNSET:
        severity = _severity(changes["severity"])
        if severity != incident.severity:
            notes.append((f"Severity changed from {incident.severity} to {severity}.", now))
            incident.severity = severity
    if changes.get("visibility", UNSET) is not UNSET and changes["visibility"] is not incident.visibility:
        incident.visibility = changes["visibility"]
        notes.append((f"Visibility changed to {incident.visibility.value}.", now))

    if changes.get("reference_timezone", UNSET) is not UNSET:
        incident.reference_timezone = _reference_zone(changes["reference_timezone"])

    times = incident.key_times()
    given = {name: changes[name] for name in KEY_TIMES if changes.get(name, UNSET) is not UNSET}
    if given.get("started_at", UNSET) is None:
        raise InvalidInput("started_at cannot be cleared", field="started_at")
    for name, value in given.items():
        if value is not None:
            given[name] = validation.past_time(value, field=name)
    times.update(given)
    closed_at = incident.closed_at
    status_time = None
    if changes.get("status", UNSET) is not UNSET and changes["status"] is not incident.status:
        new = changes["status"]
        if new is Status.CLOSED:
            _ensure_review_published(session, incident)
        status_time = key_times.STATUS_TIMES.get(new)
        closed_at, note = key_times.move_status(incident.status, new, times, closed_at, given, now, fill=fill)
        # A status reached at a time given with it happened then; otherwise it happens now.
        notes.append((note, given.get(key_times.STATUS_TIMES.get(new, "")) or now))
        incident.status = new
    key_times.check_order(times)
    for name in KEY_TIMES:
        if times[name] != getattr(incident, name):
            # A time given with the status it implies is told by the status entry, at that time.
            if name in given and name != status_time and log_times:
                was = key_times.when(getattr(incident, name))
                notes.append((f"{key_times.label(name)} set to {key_times.when(times[name])} (was {was}).", now))
            setattr(incident, name, times[name])
    incident.closed_at = closed_at

    if changes.get("roles", UNSET) is not UNSET:
        notes.extend((note, now) for note in _assign_roles(session, incident, changes["roles"]))
    return notes


def _ensure_review_published(session: Session, incident: Incident) -> None:
    """Refuse to close an incident of a severity configured to need a published post-mortem first."""
    if incident.severity not in postmortem_required_for():
        return
    status = session.scalar(select(Postmortem.status).where(Postmortem.incident_id == incident.id))
    if status is not ReviewStatus.PUBLISHED:
        raise InvalidInput(
            f"{incident.severity} incidents close once their post-mortem is published "
            f"({'it is ' + status.value.replace('_', ' ') if status else 'none is started yet'})",
            field="status",
        )


EDITABLE = (
    "title",
    "summary",
    "severity",
    "status",
    "visibility",
    "services",
    "teams",
    "tags",
    "roles",
    "reference_timezone",
    *KEY_TIMES,
)


def _assign_roles(session: Session, incident: Incident, roles: Mapping[str, Any]) -> list[str]:
    """Apply a roles object ({commander, scribe, communications_lead: email or null; participants: [emails]})."""
    notes = []
    for key, value in roles.items():
        try:
            role = IncidentRole(key if key != "participants" else "participant")
        except ValueError:
            raise InvalidInput(f"unknown role {key}", field=f"roles.{key}") from None
        if role is IncidentRole.PARTICIPANT:
            wanted = [_user_by_email(session, email, field="roles.participants") for email in value]
        else:
            wanted = [_user_by_email(session, value, field=f"roles.{key}")] if value else []
        current = incident.holders(role)
        if {u.id for u in wanted} == {u.id for u in current}:
            continue
        for assignment in [a for a in incident.assignments if a.role is role]:
            incident.assignments.remove(assignment)
        session.flush()
        incident.assignments.extend(RoleAssignment(user=u, role=role) for u in _distinct(wanted))
        title = role.value.replace("_", " ")
        before = ", ".join(u.name for u in current) or "nobody"
        after = ", ".join(u.name for u in _distinct(wanted)) or "nobody"
        if role in SINGLE_HOLDER_ROLES:
            notes.append(f"{title.capitalize()}: {before} → {after}.")
        else:
            notes.append(f"Participants: {after}.")
    return notes


def _distinct(users: list[User]) -> list[User]:
    return list({u.id: u for u in users}.values())


def _replace_labels(incident: Incident, kind: LabelKind, values: list[str]) -> None:
    keep = [label for label in incident.labels if label.kind is not kind or label.value in values]
    present = {label.value for label in keep if label.kind is kind}
    incident.labels = keep + [IncidentLabel(kind=kind, value=v) for v in values if v not in present]


def _reference_zone(value: str | None) -> str | None:
    value = (value or "").strip()
    return validation.zone(value, field="reference_timezone") if value else None


def _severity(value: str) -> str:
    scale = severity_scale()
    match = {s.lower(): s for s in scale}.get(value.strip().lower())
    if match is None:
        raise InvalidInput(f"severity must be one of {', '.join(scale)}", field="severity")
    return match


def _user_by_email(session: Session, email: str, *, field: str) -> User:
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        raise InvalidInput(f"no active user with email {email[:320]!r}", field=field)
    return user


def _record_change(
    session: Session,
    incident: Incident,
    actor: Actor,
    source: Source,
    notes: list[tuple[str, datetime]],
    *,
    because: str = "",
    external_id: str | None = None,
) -> None:
    """The notes of a change as status entries; a sender's read "Alertmanager: ..." as they always have."""
    for number, (text, at) in enumerate(notes):
        if isinstance(actor, Sender):
            why = f"{because}; " if because else ""
            text = f"{actor.name}: {why}{text[:1].lower()}{text[1:]}"
        session.add(
            TimelineEntry(
                incident_id=incident.id,
                occurred_at=at,
                recorded_at=utcnow(),
                source=source,
                kind=EntryKind.STATUS_CHANGE,
                actor_id=actor_id(actor),
                actor_name=actor.name,
                text=text,
                external_id=None if external_id is None else _nth(external_id, number),
            )
        )


def _nth(external_id: str, number: int) -> str:
    """The sender's id of a change's first note, and of its next ones with a suffix, all within 255 characters."""
    if number == 0:
        return external_id[:EXTERNAL_ID_MAX]
    suffix = f":{number}"
    return external_id[: EXTERNAL_ID_MAX - len(suffix)] + suffix
