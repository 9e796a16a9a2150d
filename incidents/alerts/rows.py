"""The rows a pager delivery reads and writes, as Core statements built once per process.

A storm of deliveries is the hottest path we have: each statement here skips the ORM's unit of
work and identity map, and is compiled once and reused. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Select,
    String,
    Table,
    TextClause,
    Update,
    any_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Incident, IncidentLabel, LabelKind, Source, Status, TimelineEntry
from .models import AlertOccurrence, Delivery, DeliveryOutcome

OPEN_STATUSES = (Status.INVESTIGATING, Status.MITIGATED)

deliveries = cast(Table, Delivery.__table__)
occurrences = cast(Table, AlertOccurrence.__table__)
entries = cast(Table, TimelineEntry.__table__)
incidents = cast(Table, Incident.__table__)
labels = cast(Table, IncidentLabel.__table__)


def store_delivery(
    session: Session,
    *,
    source: Source,
    delivery_key: str,
    headers: Mapping[str, str],
    body: bytes,
    outcome: DeliveryOutcome,
    problem: str,
    received_at: datetime,
) -> int | None:
    """Insert the raw delivery; its id, or None when one with the same key is stored already.

    One statement both checks and inserts: a concurrent twin waits for this transaction and
    then finds the row, instead of failing on the unique key.
    """
    conn = session.connection()
    row = {
        "source": source,
        "delivery_key": delivery_key,
        "headers": dict(headers),
        "body": body,
        "outcome": outcome,
        "problem": problem,
        "received_at": received_at,
        "processed_at": received_at,
    }
    delivery_id: int | None = conn.execute(_delivery_insert(conn.dialect.name), row).scalar()
    return delivery_id


def take_turn(session: Session, lock_id: int) -> bool:
    """On PostgreSQL, wait for and hold the advisory lock until the transaction ends; whether taken.

    The same statement tells the planner, for this transaction only, that every read here is a
    look-up by key: a new table without statistics is otherwise planned as a scan.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(_turn_statement(), {"lock_id": lock_id})
    return True


def take_turn_on(session: Session, topic: str) -> bool:
    """On PostgreSQL, hold a lock on the topic (a group, an incident) until the transaction ends; whether
    one was taken. SQLite needs none: from a delivery's first write on, it lets one writer at a time."""
    lock_id = int.from_bytes(hashlib.sha256(topic.encode("utf-8", "replace")).digest()[:8], "big", signed=True)
    return take_turn(session, lock_id)


def known_occurrences(
    session: Session, *, source: Source, alert_keys: Sequence[str]
) -> list[tuple[str, str, str, int | None]]:
    """(alert_key, occurrence_key, state, incident_id) of the stored occurrences of these alerts."""
    if not alert_keys:
        return []
    conn = session.connection()
    keys: list[str] | str = sorted(set(alert_keys))
    if conn.dialect.name != "postgresql":
        keys = json.dumps(keys)
    rows = conn.execute(_occurrences_select(conn.dialect.name), {"source": source, "keys": keys})
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def latest_incident_of_alert(session: Session, *, source: Source, alert_key: str) -> int | None:
    """The incident of the alert's most recent occurrence, if any."""
    incident_id: int | None = (
        session.connection().execute(_latest_select(), {"source": source, "alert_key": alert_key}).scalar()
    )
    return incident_id


def open_incident_for(session: Session, *, source: Source, dedup_key: str | None, service: str | None) -> int | None:
    """The newest open incident already fed by the same dedup key, else the newest open for the same service."""
    if not dedup_key and not service:
        return None
    found: int | None = (
        session.connection()
        .execute(_open_incident_select(), {"source": source, "dedup_key": dedup_key, "service": service})
        .scalar()
    )
    return found


def has_firing_alerts(session: Session, *, incident_id: int) -> bool:
    """Whether any alert occurrence of the incident is still firing."""
    return bool(session.connection().execute(_firing_exists(), {"incident_id": incident_id}).scalar())


def entry_recorded(session: Session, *, source: Source, external_id: str) -> bool:
    """Whether the sender's event is on a timeline already."""
    return bool(session.connection().execute(_entry_exists(), {"source": source, "external_id": external_id}).scalar())


def insert_occurrences(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """New alert occurrences, in one statement."""
    if rows:
        conn = session.connection()
        conn.execute(_occurrences_insert(conn.dialect.name), list(rows))


def resolve_occurrences(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Mark occurrences resolved: rows of source, alert_key, occurrence_key, ended_at, updated_at."""
    if rows:
        session.connection().execute(_resolve_update(), list(rows))


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Timeline entries of senders' events, in one statement; one whose (source, external_id) is
    on a timeline already is skipped (evidence links, one per incident)."""
    if rows:
        conn = session.connection()
        conn.execute(_entries_insert(conn.dialect.name), list(rows))


@cache
def _delivery_insert(dialect: str) -> Insert:
    return _insert_unless_present(dialect, deliveries, "source", "delivery_key").returning(deliveries.c.id)


@cache
def _entries_insert(dialect: str) -> Insert:
    return _many_rows(dialect, _insert_unless_present(dialect, entries, "source", "external_id"), entries)


@cache
def _occurrences_insert(dialect: str) -> Insert:
    return _many_rows(dialect, occurrences.insert(), occurrences)


def _many_rows(dialect: str, statement: Insert, table: Table) -> Insert:
    """The insert as each driver takes many rows best.

    On SQLite, RETURNING (though nothing reads the ids) makes SQLAlchemy send the rows as one
    INSERT ... VALUES (...), (...), instead of one statement per row, each of which lets another
    thread take the interpreter. On PostgreSQL, psycopg 3's own executemany sends one prepared
    statement and every row in one round trip; the multi-row VALUES would be a new, long statement
    for each number of rows, parsed anew by psycopg each time (half again the CPU, measured at 5
    and 20 rows).
    """
    return statement.returning(table.c.id) if dialect == "sqlite" else statement


def _insert_unless_present(dialect: str, table: Table, *key: str) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING, as each database spells it."""
    on_conflict = [table.c[name] for name in key]
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=on_conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=on_conflict)
    else:
        raise RuntimeError(f"Kintsugi runs on SQLite or PostgreSQL, not {dialect}")
    return statement


@cache
def _occurrences_select(dialect: str) -> Select[Any]:
    c = occurrences.c
    # One parameter for any number of alerts (an array; on SQLite a JSON list) keeps the statement
    # the same, so it is prepared and planned once; an IN list would be written out anew each time.
    keys = (
        c.alert_key == any_(bindparam("keys", type_=postgresql.ARRAY(String)))
        if dialect == "postgresql"
        else c.alert_key.in_(select(func.json_each(bindparam("keys", type_=String)).table_valued("value").c.value))
    )
    return select(c.alert_key, c.occurrence_key, c.state, c.incident_id).where(c.source == bindparam("source"), keys)


@cache
def _turn_statement() -> TextClause:
    return text("SELECT pg_advisory_xact_lock(:lock_id), set_config('enable_seqscan', 'off', true)")


@cache
def _latest_select() -> Select[Any]:
    c = occurrences.c
    return (
        select(c.incident_id)
        .where(c.source == bindparam("source"), c.alert_key == bindparam("alert_key"))
        .order_by(c.id.desc())
        .limit(1)
    )


@cache
def _open_incident_select() -> Select[Any]:
    i, o = incidents.c, occurrences.c
    same_key = exists(
        select(o.id).where(
            o.incident_id == i.id, o.source == bindparam("source"), o.dedup_key == bindparam("dedup_key")
        )
    )
    same_service = exists(
        select(labels.c.id).where(
            labels.c.incident_id == i.id, labels.c.kind == LabelKind.SERVICE, labels.c.value == bindparam("service")
        )
    )
    # One statement for both: a dedup key's incident first, then a service's, each newest first.
    return (
        select(i.id)
        .where(i.status.in_(OPEN_STATUSES), or_(same_key, same_service))
        .order_by(same_key.desc(), i.started_at.desc(), i.id.desc())
        .limit(1)
    )


@cache
def _firing_exists() -> Select[Any]:
    c = occurrences.c
    return select(exists().where(c.incident_id == bindparam("incident_id"), c.state == "firing"))


@cache
def _entry_exists() -> Select[Any]:
    c = entries.c
    return select(exists().where(c.source == bindparam("source"), c.external_id == bindparam("external_id")))


@cache
def _resolve_update() -> Update:
    c = occurrences.c
    return (
        update(occurrences)
        .where(
            c.source == bindparam("b_source"),
            c.alert_key == bindparam("b_alert_key"),
            c.occurrence_key == bindparam("b_occurrence_key"),
        )
        .values(state="resolved", ended_at=bindparam("b_ended_at"), updated_at=bindparam("b_updated_at"))
    )
