"""What an alert delivery does to incidents: occurrences, declarations, timeline entries. No commits here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from .. import key_times, service
from ..actors import Sender, cut
from ..events import TimelineEntriesRecorded, record_event
from ..models import (
    LABEL_MAX,
    TEXT_MAX,
    TITLE_MAX,
    EntryKind,
    Incident,
    Source,
    Status,
    key_time_conflicts,
    utcnow,
)
from ..settings import severity_scale
from . import rows
from .commands import AlertSignal, AlertState, RouteAction, RoutingRule, Translation, route, sender_name
from .models import Delivery, DeliveryOutcome
from .responses import apply_response
from .writes import (
    KEY_MAX,
    KnownOccurrence,
    add_entry,
    checked_link,
    clip,
    flush_writes,
    not_after,
    start_writes,
    writes_of,
)


def delivery_outcome(translation: Translation) -> tuple[DeliveryOutcome, str]:
    """What a delivery's outcome is, by its translation alone, and the reason kept with it."""
    if translation.problem is not None:
        return DeliveryOutcome.UNDECIPHERABLE, clip(translation.problem, TEXT_MAX)
    outcome = DeliveryOutcome.APPLIED if translation.commands else DeliveryOutcome.IGNORED
    return outcome, clip(translation.ignored or "", TEXT_MAX)


def apply_translation(
    session: Session, translation: Translation, rules: Sequence[RoutingRule], *, received_at: datetime
) -> tuple[int, ...]:
    """Apply a translation's commands to the incidents, without committing; returns the incidents touched."""
    # A retried attempt starts afresh.
    start_writes(session)
    if translation.problem is not None:
        return ()
    touched: dict[int, None] = {}
    signals = [c for c in translation.commands if isinstance(c, AlertSignal)]
    # Deliveries about the same group (or PagerDuty incident) take turns, so that one never inserts
    # an occurrence another is inserting at the same moment.
    for topic in sorted({f"{c.source.value}\x1f{c.dedup_key or c.alert_key}" for c in signals}):
        rows.take_turn_on(session, topic)
    # Alertmanager re-sends the whole group each time: look its alerts up at once, not one by one.
    known: dict[tuple[Source, str, str], KnownOccurrence] = {}
    for source in {c.source for c in signals}:
        keys = [clip(c.alert_key, KEY_MAX) for c in signals if c.source is source]
        for alert_key, occurrence_key, state, incident_id in rows.known_occurrences(
            session, source=source, alert_keys=keys
        ):
            known[(source, alert_key, occurrence_key)] = KnownOccurrence(alert_key, occurrence_key, state, incident_id)
    # The alerts of a group share their dedup key and service: find their incident once.
    open_incidents: dict[tuple[Source, str | None, str | None], int | None] = {}
    for command in translation.commands:
        if isinstance(command, AlertSignal):
            incident_id = _apply_signal(
                session, command, rules, received_at=received_at, known=known, open_incidents=open_incidents
            )
        else:
            incident_id = apply_response(session, command)
        if incident_id is not None:
            touched.setdefault(incident_id, None)
    flush_writes(session)
    for incident_id, source in writes_of(session).timelines.items():
        # The entries went in as one statement, without their ids: handlers read the incident's timeline.
        record_event(session, TimelineEntriesRecorded(incident_id=incident_id, entry_ids=(), source=source.value))
    return tuple(touched)


def _apply_signal(
    session: Session,
    signal: AlertSignal,
    rules: Sequence[RoutingRule],
    *,
    received_at: datetime,
    known: dict[tuple[Source, str, str], KnownOccurrence],
    open_incidents: dict[tuple[Source, str | None, str | None], int | None],
) -> int | None:
    """Record an alert occurrence firing or resolving; declare or attach per the rules; the incident's id.

    known holds the occurrences of this delivery's alerts, and gets the ones created here;
    open_incidents remembers, for this delivery, the open incident of a dedup key and service.
    """
    alert_key = clip(signal.alert_key, KEY_MAX)
    occurrence_key = clip(signal.occurrence_key, 64)
    occurrence = known.get((signal.source, alert_key, occurrence_key))
    resolving = (
        occurrence is not None and occurrence.state == AlertState.FIRING.value and signal.state is AlertState.RESOLVED
    )
    if occurrence is not None and not resolving:
        # The same state again (a group re-sent every repeat_interval), or a late firing after its resolution.
        return None
    now = utcnow()
    rule = route(rules, signal.source, signal.facts)
    if occurrence is None:
        started = not_after(signal.started_at or signal.occurred_at or received_at, now)
        incident_id = _incident_for(
            session, signal, rule, started=started, received_at=received_at, open_incidents=open_incidents
        )
        occurrence = KnownOccurrence(alert_key, occurrence_key, signal.state.value, incident_id)
        occurrence.new_row = {
            "source": signal.source,
            "alert_key": alert_key,
            "occurrence_key": occurrence_key,
            "state": signal.state.value,
            "action": rule.action.value,
            "incident_id": incident_id,
            "name": clip(signal.name, TITLE_MAX) or "alert",
            "service": clip(signal.service or "", LABEL_MAX) or None,
            "dedup_key": clip(signal.dedup_key or "", KEY_MAX) or None,
            "started_at": started,
            "ended_at": _resolved_at(signal, now),
            "first_seen_at": now,
            "updated_at": now,
        }
        writes_of(session).occurrences.append(occurrence)
        known[(signal.source, alert_key, occurrence_key)] = occurrence
    else:
        _set_resolved(session, signal.source, occurrence, _resolved_at(signal, now), now)
        incident_id = occurrence.incident_id
    if incident_id is None:
        return None
    _record_signal(session, incident_id, signal, now)
    if signal.state is AlertState.RESOLVED:
        _mitigate_if_all_resolved(session, incident_id, signal, rule, now)
    return incident_id


def _set_resolved(
    session: Session, source: Source, occurrence: KnownOccurrence, ended_at: datetime | None, now: datetime
) -> None:
    """Mark an occurrence resolved: its pending insert if it is new here, else an update of the stored row."""
    occurrence.state = AlertState.RESOLVED.value
    if occurrence.new_row is not None:
        occurrence.new_row.update(state=AlertState.RESOLVED.value, ended_at=ended_at, updated_at=now)
        return
    writes_of(session).resolutions.append(
        {
            "b_source": source,
            "b_alert_key": occurrence.alert_key,
            "b_occurrence_key": occurrence.occurrence_key,
            "b_ended_at": ended_at,
            "b_updated_at": now,
        }
    )


def _incident_for(
    session: Session,
    signal: AlertSignal,
    rule: RoutingRule,
    *,
    started: datetime,
    received_at: datetime,
    open_incidents: dict[tuple[Source, str | None, str | None], int | None],
) -> int | None:
    if rule.action is RouteAction.RECORD:
        return None
    key = (signal.source, signal.dedup_key, signal.service)
    if key in open_incidents:
        found = open_incidents[key]
    else:
        flush_writes(session)
        found = open_incidents[key] = rows.open_incident_for(
            session, source=signal.source, dedup_key=signal.dedup_key, service=signal.service
        )
    # A resolution we never saw firing joins an open incident but never declares one.
    if found is not None or rule.action is RouteAction.ATTACH or signal.state is AlertState.RESOLVED:
        return found
    if _wait_for_other_declarations(session, signal):
        found = open_incidents[key] = rows.open_incident_for(
            session, source=signal.source, dedup_key=signal.dedup_key, service=signal.service
        )
        if found is not None:
            return found
    declared = open_incidents[key] = _declare(session, signal, rule, started=started, received_at=received_at)
    return declared


def _wait_for_other_declarations(session: Session, signal: AlertSignal) -> bool:
    """Before declaring, wait for any other delivery declaring for the same service (or dedup key).

    Two deliveries about one new problem can be applied at once by two workers; the second waits
    here, then finds the first one's incident. Returns whether it waited, so the caller looks again.
    """
    topic = f"declare\x1f{signal.service or ''}\x1f{'' if signal.service else signal.dedup_key or ''}"
    return rows.take_turn_on(session, topic)


def _declare(
    session: Session, signal: AlertSignal, rule: RoutingRule, *, started: datetime, received_at: datetime
) -> int:
    """Declare an incident from its first alert, through the one writer of incident state: impact
    began when the alert started, detection when the sender first told someone (or it reached us)."""
    sender = sender_name(signal.source)
    # Delivery can lag (retries while we were down): the sender's own notification time wins when earlier.
    noticed: datetime | None = not_after(min(signal.detected_at or received_at, received_at), utcnow())
    if key_time_conflicts({"started_at": started, "detected_at": noticed}):
        # The sender's clocks disagree with each other: detection is taken as now, when Kintsugi declares.
        noticed = None
    incident = service.declare(
        session,
        actor=Sender(sender),
        source=signal.source,
        title=(signal.title or signal.name).strip() or f"{sender} alert",
        severity=severity_for(signal.severity_hint, rule, severity_scale()),
        started_at=started,
        detected_at=noticed,
        services=[signal.service] if signal.service else [],
        commander=rule.commander,
        declared_at=noticed,
        because=f"from {cut(signal.name, TITLE_MAX)}",
        external_id=clip(f"{signal.event_id}#declared", KEY_MAX),
    )
    return incident.id


def severity_for(hint: str | None, rule: RoutingRule, scale: Sequence[str]) -> str:
    """The severity of an incident an alert declares: the alert's own if on the scale, else the rule's."""
    by_name = {s.lower(): s for s in scale}
    if hint:
        hint = hint.strip().lower()
        if hint in by_name:
            return by_name[hint]
        priority = re.fullmatch(r"p([1-9])", hint)
        if priority and int(priority.group(1)) <= len(scale):
            return scale[int(priority.group(1)) - 1]
    if rule.severity and rule.severity.lower() in by_name:
        return by_name[rule.severity.lower()]
    return scale[min(1, len(scale) - 1)]


def _record_signal(session: Session, incident_id: int, signal: AlertSignal, now: datetime) -> None:
    """The alert's entry, carrying its first link; each further link once per incident.

    A runbook or dashboard shared by the fifty alerts of a group is one piece of evidence, not
    fifty entries: its entry is keyed by the incident and the link, and written once.
    """
    at = not_after(
        (signal.ended_at if signal.state is AlertState.RESOLVED else signal.started_at) or signal.occurred_at or now,
        now,
    )
    links = [(what, checked) for what, url in signal.links if (checked := checked_link(url))]
    add_entry(
        session,
        incident_id,
        source=signal.source,
        kind=EntryKind.ALERT,
        text=signal.text,
        occurred_at=at,
        actor_name=signal.actor_name or sender_name(signal.source),
        external_id=signal.event_id,
        evidence_url=links[0][1] if links else None,
    )
    pending = writes_of(session)
    for what, url in links[1:]:
        key = f"evidence:{incident_id}:{hashlib.sha256(url.encode('utf-8')).hexdigest()[:32]}"
        if key in pending.evidence:
            continue
        pending.evidence.add(key)
        add_entry(
            session,
            incident_id,
            source=signal.source,
            kind=EntryKind.EVIDENCE,
            text=f"{sender_name(signal.source)}: {what} for {signal.name}",
            occurred_at=at,
            actor_name=sender_name(signal.source),
            external_id=key,
            evidence_url=url,
        )


def _mitigate_if_all_resolved(
    session: Session, incident_id: int, signal: AlertSignal, rule: RoutingRule, now: datetime
) -> None:
    """When the rule says so, the last alert resolving marks the incident mitigated; a person resolves it."""
    if not rule.mitigate_when_resolved:
        return
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status is not Status.INVESTIGATING:
        return
    flush_writes(session)
    if rows.has_firing_alerts(session, incident_id=incident_id):
        return
    at = not_after(signal.ended_at or signal.occurred_at or now, now)
    # Impact ended when the last alert did, unless that breaks the order of the incident's times
    # (it resolved before anyone was told): then it is mitigated now, when Kintsugi learns it.
    given = {"mitigated_at": at} if key_times.times_in_order(incident, {"mitigated_at": at}) else {}
    service.change(
        session,
        incident,
        actor=Sender(sender_name(signal.source)),
        source=signal.source,
        changes={"status": Status.MITIGATED, **given},
        because="every alert of this incident has resolved",
        external_id=clip(f"{signal.event_id}#mitigated", KEY_MAX),
    )


def _resolved_at(signal: AlertSignal, now: datetime) -> datetime | None:
    if signal.state is not AlertState.RESOLVED:
        return None
    return not_after(signal.ended_at or signal.occurred_at or now, now)


def mark_undecipherable(delivery: Delivery, problem: str) -> None:
    """Keep the delivery as not understood, with the reason, to be replayed later."""
    delivery.outcome = DeliveryOutcome.UNDECIPHERABLE
    delivery.problem = clip(problem, TEXT_MAX)
    delivery.processed_at = utcnow()
