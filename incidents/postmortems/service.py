"""Use cases of the blameless review: start a post-mortem, write its sections, agree its timeline and
metrics, and move it from draft through review to published. One transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import validation
from ..access import ensure_can_see, ensure_can_write
from ..accounts.service import user_by_email
from ..actors import Actor, Sender, actor_id, ensure_can_act, text_of
from ..errors import Conflict, InvalidInput, NotFound
from ..events import (
    PostmortemChanged,
    PostmortemPublished,
    PostmortemStarted,
    TimelineEntriesRecorded,
    record_event,
)
from ..models import INT_MAX, TEXT_MAX, EntryKind, Incident, Source, TimelineEntry, User, utcnow
from ..queries import list_timeline
from ..settings import severity_scale
from . import readiness, templates, times
from .blameless import check_language
from .models import (
    AgreedTimelineEntry,
    Postmortem,
    PostmortemChange,
    PostmortemSection,
    ReviewStatus,
)
from .prefill import prefill
from .queries import get_postmortem


def start_postmortem(session: Session, *, actor: User, incident_id: int, template: str | None = None) -> Postmortem:
    """Start the incident's post-mortem from a template, pre-filled with what the incident already tells."""
    ensure_can_write(actor)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    entries = list_timeline(session, viewer=actor, incident_id=incident.id)
    try:
        postmortem = start(session, incident, actor=actor, template=template, entries=entries)
    except IntegrityError:
        # Someone started it a moment ago: one incident, one post-mortem.
        session.rollback()
        raise Conflict(f"incident {incident_id} has a post-mortem already") from None
    session.commit()
    return postmortem


def start(
    session: Session, incident: Incident, *, actor: Actor, template: str | None, entries: Sequence[TimelineEntry]
) -> Postmortem:
    """Start the incident's post-mortem, without committing: the core every path calls.

    entries: the incident's timeline as the actor sees it, to pre-fill from.
    """
    ensure_can_act(actor)
    existing = session.scalar(select(Postmortem.id).where(Postmortem.incident_id == incident.id))
    if existing is not None:
        raise Conflict(f"incident {incident.id} has a post-mortem already", details={"postmortem_id": existing})
    chosen = templates.template(template, severity=incident.severity)
    durations = incident.durations()
    postmortem = Postmortem(
        incident=incident,
        template_key=chosen.key,
        template_name=chosen.name,
        title=incident.title,
        agreed_severity=incident.severity,
        agreed_downtime_seconds=_seconds(durations["impact_duration"]),
        agreed_time_to_detect_seconds=_seconds(durations["time_to_detect"]),
        agreed_time_to_resolve_seconds=_seconds(durations["time_to_resolve"]),
        created_by_id=actor_id(actor),
        acknowledged_findings=[],
    )
    for position, section in enumerate(chosen.sections):
        given = prefill(section.prefill, incident, entries) if section.prefill else ""
        postmortem.sections.append(
            PostmortemSection(
                key=section.key,
                title=section.title,
                prompt=section.prompt,
                required=section.required,
                position=position,
                body=given,
                prefill=given,
                updated_by_id=actor_id(actor),
            )
        )
    for entry in entries:
        if entry.is_key_moment or entry.kind is EntryKind.ALERT:
            postmortem.agreed_timeline.append(AgreedTimelineEntry(entry=entry))
    session.add(postmortem)
    session.flush()
    record_change(
        session, postmortem, actor, "status", f"Started from the template “{chosen.name}”.", milestone="started"
    )
    return postmortem


def save_section(
    session: Session,
    *,
    actor: User,
    postmortem_id: int,
    key: str,
    body: str,
    version: int,
    words_in: str | None = None,
) -> PostmortemSection:
    """Save a section's text; a save based on an older version than the stored one is refused.

    words_in: the zone the editor showed times in; times written as words in it become times.
    """
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    section = write_section(session, postmortem, actor=actor, key=key, body=body, version=version, words_in=words_in)
    try:
        session.commit()
    except StaleDataError:
        # Someone saved this section between our read and our write: theirs stands.
        session.rollback()
        session.refresh(section)
        raise _stale(section, key, version, body.strip()) from None
    return section


def write_section(
    session: Session,
    postmortem: Postmortem,
    *,
    actor: Actor,
    key: str,
    body: str,
    version: int,
    words_in: str | None = None,
) -> PostmortemSection:
    """Write a section's text, without committing: the core every path calls (the post-mortem is editable)."""
    ensure_can_act(actor)
    section = postmortem.section(key)
    if section is None:
        raise NotFound(f"post-mortem {postmortem.id} has no section {key!r}")
    # The editor shows times as words in the reader's zone; what is stored keeps them as times.
    text = times.stored(text_of(actor, body, field="body", limit=TEXT_MAX), words_in)
    if version != section.version:
        raise _stale(section, key, version, text)
    if text == section.body:
        return section
    before = section.body
    section.body = text
    section.updated_by_id = actor_id(actor)
    section.updated_at = utcnow()
    record_change(session, postmortem, actor, f"section:{key}", f"Edited “{section.title}”.", before, text)
    return section


def _stale(section: PostmortemSection, key: str, version: int, text: str) -> Conflict:
    """The refusal of a save made on an older version, with both texts to merge."""
    who = section.updated_by.name if section.updated_by else "someone"
    return Conflict(
        f"“{section.title}” was changed by {who} after you opened it. Compare, merge your text into theirs, "
        "and save again.",
        field="version",
        details={
            "section": key,
            "your_version": version,
            "current_version": section.version,
            "current_body": section.body,
            "your_body": text,
            "updated_by": section.updated_by.name if section.updated_by else None,
            "updated_at": section.updated_at.isoformat(),
        },
    )


def update_review(session: Session, *, actor: User, postmortem_id: int, **changes: Any) -> Postmortem:
    """Record the facilitator, the meeting time and the agreed metrics."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    agree(session, postmortem, actor=actor, **changes)
    session.commit()
    return postmortem


def agree(session: Session, postmortem: Postmortem, *, actor: Actor, **changes: Any) -> None:
    """Record what the review agreed, without committing: the core every path calls."""
    ensure_can_act(actor)
    unknown = set(changes) - REVIEW_FIELDS
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    said = []
    if "facilitator" in changes:
        email = changes["facilitator"]
        facilitator = known_person(session, email, field="facilitator") if email else None
        if postmortem.facilitator_id != (facilitator.id if facilitator else None):
            postmortem.facilitator_id = facilitator.id if facilitator else None
            said.append(f"facilitator {facilitator.name if facilitator else 'nobody'}")
    if "meeting_at" in changes:
        meeting: datetime | None = changes["meeting_at"]
        if postmortem.meeting_at != meeting:
            postmortem.meeting_at = meeting
            said.append(f"meeting {meeting.isoformat() if meeting else 'unset'}")
    if "agreed_severity" in changes:
        severity = changes["agreed_severity"]
        if severity is not None and severity not in severity_scale():
            raise InvalidInput(f"severity must be one of {', '.join(severity_scale())}", field="agreed_severity")
        if postmortem.agreed_severity != severity:
            postmortem.agreed_severity = severity
            said.append(f"severity {severity or 'unset'}")
    for name in METRIC_FIELDS:
        if name in changes:
            value = changes[name]
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT_MAX
            ):
                raise InvalidInput(f"{name} must be a whole number of seconds, 0 to {INT_MAX}", field=name)
            if getattr(postmortem, name) != value:
                setattr(postmortem, name, value)
                said.append(f"{name.removeprefix('agreed_').removesuffix('_seconds').replace('_', ' ')} {value}")
    if said:
        record_change(session, postmortem, actor, "review", "Agreed " + "; ".join(said) + ".")


METRIC_FIELDS = ("agreed_downtime_seconds", "agreed_time_to_detect_seconds", "agreed_time_to_resolve_seconds")
REVIEW_FIELDS = {"facilitator", "meeting_at", "agreed_severity", *METRIC_FIELDS}


def set_agreed_timeline(session: Session, *, actor: User, postmortem_id: int, entry_ids: list[int]) -> Postmortem:
    """Choose which of the incident's timeline entries make the agreed timeline."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    entries = {e.id: e for e in list_timeline(session, viewer=actor, incident_id=postmortem.incident_id)}
    missing = [i for i in entry_ids if i not in entries]
    if missing:
        raise InvalidInput(f"timeline entry {missing[0]} is not in this incident's timeline", field="entry_ids")
    chosen = set(entry_ids)
    before = sorted(a.entry_id for a in postmortem.agreed_timeline)
    postmortem.agreed_timeline[:] = [a for a in postmortem.agreed_timeline if a.entry_id in chosen]
    kept = {a.entry_id for a in postmortem.agreed_timeline}
    postmortem.agreed_timeline.extend(AgreedTimelineEntry(entry=entries[i]) for i in sorted(chosen - kept))
    after = sorted(chosen)
    if after != before:
        record_change(
            session, postmortem, actor, "timeline", f"Agreed timeline: {len(after)} entries.", str(before), str(after)
        )
    session.commit()
    return postmortem


def add_meeting_entry(
    session: Session, *, actor: User, postmortem_id: int, text: str, occurred_at: datetime | None = None
) -> Postmortem:
    """Add what the meeting found to the incident's timeline and to the agreed timeline, at once."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    now = utcnow()
    entry = TimelineEntry(
        incident_id=postmortem.incident_id,
        occurred_at=validation.past_time(occurred_at, field="occurred_at") if occurred_at else now,
        recorded_at=now,
        source=Source.WEB,
        kind=EntryKind.NOTE,
        actor_id=actor.id,
        actor_name=actor.name,
        text=validation.text(text, field="text", limit=TEXT_MAX, required=True),
    )
    session.add(entry)
    postmortem.agreed_timeline.append(AgreedTimelineEntry(entry=entry))
    session.flush()
    record_event(
        session,
        TimelineEntriesRecorded(incident_id=postmortem.incident_id, entry_ids=(entry.id,), source=Source.WEB.value),
    )
    record_change(session, postmortem, actor, "timeline", "Added an entry found in the meeting.", None, entry.text)
    session.commit()
    return postmortem


def submit_for_review(session: Session, *, actor: User, postmortem_id: int) -> Postmortem:
    """Move a draft into review."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    if postmortem.status is not ReviewStatus.DRAFT:
        raise Conflict("only a draft can be submitted for review", field="status")
    postmortem.status = ReviewStatus.IN_REVIEW
    record_change(session, postmortem, actor, "status", "Submitted for review.")
    session.commit()
    return postmortem


def publish_postmortem(
    session: Session, *, actor: User, postmortem_id: int, acknowledge: list[dict[str, str]] | None = None
) -> Postmortem:
    """Publish: every required section filled, every action item owned and dated, every blameless finding
    reframed or acknowledged with a reason."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    publish(session, postmortem, actor=actor, acknowledge=acknowledge)
    session.commit()
    return postmortem


def publish(
    session: Session,
    postmortem: Postmortem,
    *,
    actor: Actor,
    acknowledge: list[dict[str, str]] | None = None,
    as_written: str = "",
) -> None:
    """Publish, without committing: the core every path calls.

    as_written: the review was held and published elsewhere (an imported report) and is kept as its
    authors wrote it. What publishing here would ask first (a required section, an owner, a date, a
    blameless finding) is then recorded as acknowledged with this reason instead of refused.
    """
    ensure_can_act(actor)
    problems = publishing_problems(postmortem)
    findings = blameless_findings(session, postmortem)
    if as_written:
        findings += [{"where": "publishing", "rule": "requirement", "phrase": problem} for problem in problems]
        acknowledge = [{**f, "reason": as_written} for f in findings]
        problems = []
    acknowledged = {(a.get("where"), a.get("rule"), a.get("phrase")): a for a in acknowledge or []}
    for ack in acknowledge or []:
        if not str(ack.get("reason", "")).strip():
            raise InvalidInput("an acknowledged finding needs a reason", field="acknowledge")
    open_findings = [f for f in findings if (f["where"], f["rule"], f["phrase"]) not in acknowledged]
    if problems or open_findings:
        reasons = problems + (
            [f"{len(open_findings)} blameless finding(s) to reframe or acknowledge"] if open_findings else []
        )
        raise InvalidInput(
            "not ready to publish: " + "; ".join(reasons),
            field="status",
            details={"problems": problems, "findings": open_findings},
        )
    postmortem.acknowledged_findings = [
        {**f, "reason": str(acknowledged[(f["where"], f["rule"], f["phrase"])]["reason"]).strip()} for f in findings
    ]
    postmortem.status = ReviewStatus.PUBLISHED
    postmortem.published_at = utcnow()
    record_change(
        session,
        postmortem,
        actor,
        "status",
        f"Published ({len(findings)} finding(s) acknowledged).",
        milestone="published",
    )


def reopen_postmortem(session: Session, *, actor: User, postmortem_id: int) -> Postmortem:
    """Take a published post-mortem back to draft, recorded in its history."""
    ensure_can_write(actor)
    postmortem = get_postmortem(session, viewer=actor, postmortem_id=postmortem_id)
    reopen(session, postmortem, actor=actor)
    session.commit()
    return postmortem


def reopen(session: Session, postmortem: Postmortem, *, actor: Actor, because: str = "") -> None:
    """Take a published post-mortem back to draft, without committing: the core every path calls."""
    ensure_can_act(actor)
    if postmortem.status is not ReviewStatus.PUBLISHED:
        raise Conflict("only a published post-mortem can be reopened", field="status")
    postmortem.status = ReviewStatus.DRAFT
    record_change(session, postmortem, actor, "status", f"Reopened{': ' + because if because else ''}.")


def publishing_problems(postmortem: Postmortem) -> list[str]:
    """What stands between the post-mortem and publishing, besides blameless findings."""
    return [problem.message for problem in readiness.publishing_problems(postmortem)]


def blameless_findings(session: Session, postmortem: Postmortem) -> list[dict[str, Any]]:
    """The blameless check over every section, contributing factor and action item."""
    people = [name for name in session.scalars(select(User.name).where(User.is_active.is_(True)))]
    texts = [(f"section:{s.key}", s.body) for s in postmortem.sections]
    texts += [(f"factor:{f.id}", f.text) for f in postmortem.factors]
    texts += [(f"action_item:{a.id}", a.title) for a in postmortem.action_items]
    found = []
    for where, text in texts:
        for finding in check_language(text, people=people):
            found.append({"where": where, "phrase": text[finding.start : finding.end], **finding.as_dict()})
    return found


def editable_postmortem(session: Session, *, actor: User, postmortem_id: int) -> Postmortem:
    """The post-mortem, if the actor may change it and it is not published (reopen it first)."""
    ensure_can_write(actor)
    postmortem = get_postmortem(session, viewer=actor, postmortem_id=postmortem_id)
    if postmortem.status is ReviewStatus.PUBLISHED:
        raise Conflict("this post-mortem is published; reopen it to change it", field="status")
    return postmortem


def record_change(
    session: Session,
    postmortem: Postmortem,
    actor: Actor,
    subject: str,
    summary: str,
    before: str | None = None,
    after: str | None = None,
    *,
    milestone: str = "",
) -> None:
    """Log a change to the review in its history and emit its event, without committing (the use case commits).

    Starting and publishing (milestone "started", "published") are events of their own; every
    other change is a PostmortemChanged naming its subject (a section, the factors, an action
    item, the review, the status). A sender's change reads "Import: ..." as its timeline entries do.
    """
    if isinstance(actor, Sender):
        summary = f"{actor.name}: {summary}"
    now = utcnow()
    postmortem.updated_at = now
    # Counted in the database, so that changes saved at once (two sections) both count.
    postmortem.version = Postmortem.version + 1
    session.add(
        PostmortemChange(
            postmortem_id=postmortem.id,
            changed_by_id=actor_id(actor),
            changed_at=now,
            subject=subject,
            summary=summary[:500],
            before=before,
            after=after,
        )
    )
    ids: dict[str, Any] = {
        "postmortem_id": postmortem.id,
        "incident_id": postmortem.incident_id,
        "actor_id": actor_id(actor),
    }
    event = {"started": PostmortemStarted(**ids), "published": PostmortemPublished(**ids)}.get(
        milestone, PostmortemChanged(**ids, what=subject)
    )
    record_event(session, event)


def known_person(session: Session, email: str, *, field: str) -> User:
    """The active user with this email, or a clear refusal naming the field."""
    user = user_by_email(session, email)
    if user is None or not user.is_active:
        raise InvalidInput(f"nobody with the email {email!r} can be named here", field=field)
    return user


def _seconds(value: Any) -> int | None:
    """A duration to pre-fill an agreed one with; none when longer than the column keeps (times a century apart)."""
    seconds = int(value.total_seconds()) if value is not None else None
    return seconds if seconds is not None and abs(seconds) <= INT_MAX else None
