"""Delivering the outbox: claim a batch under a lease, apply it, mark what came of it; retry, status, pruning.

Several workers may drain one outbox at once (threads of web processes, `flask worker` processes
on several hosts), so a row is claimed before it is applied. Claiming is one short transaction
that moves each row's `available_at` to the end of the worker's lease and names the worker in
`claimed_by`; the handlers then run outside any write transaction (SQLite has one write lock for
the whole database, and a pager storm is waiting for it), and the results are marked in another
short transaction. A row whose worker was killed becomes claimable again when its lease ends, so
a kill loses nothing: delivery is at least once, and handlers are idempotent.

On PostgreSQL the claim's SELECT takes its rows FOR UPDATE SKIP LOCKED, so concurrent claims
pass over each other's rows instead of queueing on them; on SQLite a claim is one UPDATE, and
SQLite runs one at a time.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from ..database import EXTENSION, writer_turn
from ..errors import Conflict, NotFound
from ..events import (
    ROWS_WRITTEN,
    BatchHandler,
    Event,
    EventError,
    Subscriptions,
    from_payload,
    subscriptions_of,
)
from ..models import UTCDateTime, utcnow
from .models import APPLIED, OUTBOX_TABLE, PARKED, PENDING, STATES, OutboxRow

log = logging.getLogger(__name__)
ERROR_MAX = 4000  # the tail of a traceback says where it failed
RETRY = "retry"
NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class OutboxSettings:
    """How workers deliver; each is app.config["OUTBOX_<NAME>"] (KINTSUGI_OUTBOX_<NAME> in the environment)."""

    # With the backoff of 2, 4 … 256 then 300 s between tries, 12 tries span about 24 minutes: a chat
    # service's outage of a few minutes parks nothing.
    max_attempts: int = 12
    batch_size: int = 200
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    backoff_cap_seconds: float = 300.0
    keep_applied_seconds: float = 7 * 24 * 3600.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        """The settings in app.config; a value that is not a positive number is a clear error."""
        values: dict[str, Any] = {}
        for setting in dataclasses.fields(cls):
            key = f"OUTBOX_{setting.name.upper()}"
            if key not in config:
                continue
            kind = int if isinstance(setting.default, int) else float
            try:
                value = kind(config[key])
            except (TypeError, ValueError):
                value = 0
            if value <= 0:
                raise ValueError(f"{key} must be a positive number, not {config[key]!r}")
            values[setting.name] = value
        return cls(**values)

    def backoff(self, attempts: int) -> timedelta:
        """How long a row waits after its `attempts`-th failed attempt: 2, 4, 8 ... s, at most the cap."""
        return timedelta(seconds=min(2.0 ** min(attempts, 64), self.backoff_cap_seconds))


@dataclass(frozen=True)
class Claim:
    """A row a worker holds under its lease: what to apply, for which handler, at which attempt."""

    id: int
    event_type: str
    payload: dict[str, Any]
    handler: str
    attempts: int


@dataclass
class BatchOutcome:
    """How many rows a worker claimed, and what came of them."""

    claimed: int = 0
    applied: int = 0
    retried: int = 0
    parked: int = 0
    released: int = 0

    def add(self, other: BatchOutcome) -> None:
        """Add another batch's counts to these."""
        for name in ("claimed", "applied", "retried", "parked", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Results:
    """What came of a worker's rows: those applied, and those to retry later or parked."""

    applied: list[int] = field(default_factory=list)
    # (row id, new state, next attempt, error) for rows retried later or parked.
    failed: list[tuple[int, str, datetime, str]] = field(default_factory=list)


def claim_batch(session: Session, *, worker_id: str, settings: OutboxSettings, now: datetime) -> list[Claim]:
    """Lease up to a batch of due rows to this worker, oldest due first, and commit; [] when none is due."""
    due = aliased(OutboxRow)
    pick = (
        select(due.id)
        .where(due.state == PENDING, due.available_at <= now)
        .order_by(due.available_at, due.id)
        .limit(settings.batch_size)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writes one at a time anyway
    )
    # Most polls find nothing due: a read says so without taking SQLite's one writer's turn, which a
    # pager storm is queueing for.
    anything_due = select(OutboxRow.id).where(OutboxRow.state == PENDING, OutboxRow.available_at <= now).limit(1)
    if session.scalar(anything_due) is None:
        session.rollback()
        return []
    lease_end = now + timedelta(seconds=settings.lease_seconds)
    claim = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(pick))
        .values(claimed_by=worker_id, available_at=lease_end, attempts=OutboxRow.attempts + 1)
        .returning(OutboxRow.id, OutboxRow.event_type, OutboxRow.payload, OutboxRow.handler, OutboxRow.attempts)
    )
    with writer_turn(session):
        rows = session.execute(claim, execution_options=NO_SYNC).all()
        claims = sorted((Claim(*row) for row in rows), key=lambda c: c.id)
        # Claimed more often than allowed without ever failing: its worker dies on it each time.
        worn = [c for c in claims if c.attempts > settings.max_attempts]
        if worn:
            error = (
                f"claimed {settings.max_attempts} times without an outcome: its worker stopped each time "
                "before finishing (killed, or the handler outlasts the lease)"
            )
            _write_results(session, worker_id, Results(failed=[(c.id, PARKED, now, error) for c in worn]), now)
        session.commit()
    return [c for c in claims if c.attempts <= settings.max_attempts]


def apply_claim(app: Flask, subscriptions: Subscriptions, claim: Claim, settings: OutboxSettings) -> tuple[str, str]:
    """Run one row's handler in an app context of its own: (APPLIED, ""), (RETRY, error) or (PARKED, error)."""
    try:
        event: Event = from_payload(claim.event_type, claim.payload)
    except EventError as exc:
        return PARKED, f"the stored event cannot be read: {exc}"
    handler = subscriptions.handler(claim.event_type, claim.handler)
    if handler is None:
        return PARKED, (
            f"no handler {claim.handler!r} for {claim.event_type!r} is subscribed in this process "
            "(was its package removed or renamed?); retry it once one is"
        )
    try:
        with app.app_context():
            handler(event)
    except Exception as exc:
        return _failed(claim, exc, settings)
    return APPLIED, ""


def apply_claims_together(
    app: Flask, handler: BatchHandler, claims: Sequence[Claim], settings: OutboxSettings
) -> list[tuple[Claim, str, str]]:
    """Run a batch handler once over these rows' events: each row's (claim, state, error)."""
    events, outcomes = [], []
    for claim in claims:
        try:
            events.append((claim, from_payload(claim.event_type, claim.payload)))
        except EventError as exc:
            outcomes.append((claim, PARKED, f"the stored event cannot be read: {exc}"))
    if not events:
        return outcomes
    try:
        with app.app_context():
            handler([event for _claim, event in events])
    except Exception as exc:
        return outcomes + [(claim, *_failed(claim, exc, settings)) for claim, _event in events]
    return outcomes + [(claim, APPLIED, "") for claim, _event in events]


def _failed(claim: Claim, exc: Exception, settings: OutboxSettings) -> tuple[str, str]:
    error = "".join(traceback.format_exception(exc))[-ERROR_MAX:]
    last = claim.attempts >= settings.max_attempts
    log.warning(
        "outbox row %d: %s failed on %s (attempt %d of %d%s): %s",
        claim.id,
        claim.handler,
        claim.event_type,
        claim.attempts,
        settings.max_attempts,
        ", parked" if last else "",
        exc,
    )
    return (PARKED if last else RETRY), error


def drain_batch(
    app: Flask,
    *,
    worker_id: str,
    settings: OutboxSettings | None = None,
    clock: Callable[[], datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
) -> BatchOutcome:
    """Claim one batch, apply it row by row, and mark the results; the counts of what happened.

    A batch that runs past half its lease marks what is done and renews the lease of the rest
    (rows another worker took meanwhile are dropped). Asked to stop, it marks what is done and
    releases the rest at once, for other workers.
    """
    settings = settings or OutboxSettings.from_config(app.config)
    subscriptions = subscriptions_of(app)
    factory: sessionmaker[Session] = app.extensions[EXTENSION]
    outcome = BatchOutcome()
    with factory() as session:
        remaining = deque(claim_batch(session, worker_id=worker_id, settings=settings, now=clock()))
        outcome.claimed = len(remaining)
        leased_at = time.monotonic()
        results = Results()
        while remaining:
            claim = remaining.popleft()
            together = subscriptions.batch_handler(claim.handler)
            if together is None:
                outcomes = [(claim, *apply_claim(app, subscriptions, claim, settings))]
            else:
                # The rest of the batch's rows for this handler go with it, in the order written.
                group = [claim] + [c for c in remaining if c.handler == claim.handler]
                remaining = deque(c for c in remaining if c.handler != claim.handler)
                outcomes = apply_claims_together(app, together, group, settings)
            for done, state, error in outcomes:
                if state == APPLIED:
                    results.applied.append(done.id)
                else:
                    now = clock()
                    next_at = now + settings.backoff(done.attempts) if state == RETRY else now
                    results.failed.append((done.id, PENDING if state == RETRY else PARKED, next_at, error))
            if remaining and should_stop():
                _count(outcome, results)
                mark_results(session, worker_id=worker_id, results=results, now=clock())
                outcome.released = release(session, worker_id=worker_id, row_ids=[c.id for c in remaining])
                return outcome
            if remaining and time.monotonic() - leased_at > settings.lease_seconds / 2:
                _count(outcome, results)
                mark_results(session, worker_id=worker_id, results=results, now=clock())
                results = Results()
                kept = renew_lease(
                    session,
                    worker_id=worker_id,
                    row_ids=[c.id for c in remaining],
                    until=clock() + timedelta(seconds=settings.lease_seconds),
                )
                remaining = deque(c for c in remaining if c.id in kept)
                leased_at = time.monotonic()
        _count(outcome, results)
        mark_results(session, worker_id=worker_id, results=results, now=clock())
    return outcome


def _count(outcome: BatchOutcome, results: Results) -> None:
    outcome.applied += len(results.applied)
    outcome.parked += sum(1 for _, state, _, _ in results.failed if state == PARKED)
    outcome.retried += sum(1 for _, state, _, _ in results.failed if state == PENDING)


def mark_results(session: Session, *, worker_id: str, results: Results, now: datetime) -> None:
    """Record what came of a worker's rows, in one short transaction: applied in one statement, failures in another."""
    if not results.applied and not results.failed:
        return
    with writer_turn(session):
        _write_results(session, worker_id, results, now)
        session.commit()


def _write_results(session: Session, worker_id: str, results: Results, now: datetime) -> None:
    # Only rows still ours: a row whose lease ran out may be another worker's now, and it decides.
    if results.applied:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(results.applied), OutboxRow.claimed_by == worker_id)
            .values(state=APPLIED, finished_at=now, claimed_by=None, last_error=None),
            execution_options=NO_SYNC,
        )
    if results.failed:
        session.connection().execute(
            _FAILED,
            [
                {
                    "row_id": row_id,
                    "worker": worker_id,
                    "new_state": state,
                    "next_at": next_at,
                    "done_at": now if state == PARKED else None,
                    "error": error,
                }
                for row_id, state, next_at, error in results.failed
            ],
        )


_table = OUTBOX_TABLE
_FAILED = (
    update(_table)
    .where(_table.c.id == bindparam("row_id"), _table.c.claimed_by == bindparam("worker"))
    .values(
        state=bindparam("new_state"),
        available_at=bindparam("next_at", type_=UTCDateTime()),
        finished_at=bindparam("done_at", type_=UTCDateTime()),
        last_error=bindparam("error"),
        claimed_by=None,
    )
)


def renew_lease(session: Session, *, worker_id: str, row_ids: Sequence[int], until: datetime) -> set[int]:
    """Extend this worker's lease on rows it still holds; the ids it still holds."""
    with writer_turn(session):
        kept = session.scalars(
            update(OutboxRow)
            .where(OutboxRow.id.in_(row_ids), OutboxRow.claimed_by == worker_id, OutboxRow.state == PENDING)
            .values(available_at=until)
            .returning(OutboxRow.id),
            execution_options=NO_SYNC,
        ).all()
        session.commit()
    return set(kept)


def release(session: Session, *, worker_id: str, row_ids: Sequence[int]) -> int:
    """Hand rows this worker claimed but did not attempt back, due now and with the attempt uncounted."""
    if not row_ids:
        return 0
    with writer_turn(session):
        released = session.scalars(
            update(OutboxRow)
            .where(OutboxRow.id.in_(row_ids), OutboxRow.claimed_by == worker_id, OutboxRow.state == PENDING)
            .values(available_at=utcnow(), claimed_by=None, attempts=OutboxRow.attempts - 1)
            .returning(OutboxRow.id),
            execution_options=NO_SYNC,
        ).all()
        session.commit()
    return len(released)


def retry_parked(session: Session, *, row_id: int) -> None:
    """Make a parked row pending again, due now and with all its attempts ahead of it (an admin's action)."""
    with writer_turn(session):
        found = session.scalar(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.state == PARKED)
            .values(state=PENDING, attempts=0, available_at=utcnow(), finished_at=None, claimed_by=None)
            .returning(OutboxRow.id),
        )
        if found is None:
            session.rollback()
            row = session.get(OutboxRow, row_id)
            if row is None:
                raise NotFound(f"outbox row {row_id} not found")
            raise Conflict(f"outbox row {row_id} is {row.state}, not parked")
        session.info[ROWS_WRITTEN] = True  # wakes this process's worker thread on commit
        session.commit()


def prune_applied(session: Session, *, before: datetime, limit: int = 10_000) -> int:
    """Delete up to `limit` rows applied before a time, oldest first, and commit; how many went."""
    old = aliased(OutboxRow)
    doomed = select(old.id).where(old.state == APPLIED, old.finished_at < before).order_by(old.id).limit(limit)
    with writer_turn(session):
        result = cast(
            CursorResult[Any],
            session.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)), execution_options=NO_SYNC),
        )
        session.commit()
    return result.rowcount


@dataclass(frozen=True)
class OutboxStatus:
    """How many rows are in each state, and how long the oldest pending one has waited (None: none pending)."""

    pending: int
    parked: int
    applied: int
    oldest_pending_seconds: float | None


def status(session: Session) -> OutboxStatus:
    """The outbox's counts by state and the age of its oldest pending row."""
    counts = dict.fromkeys(STATES, 0)
    for state, count in session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)):
        counts[state] = count
    return OutboxStatus(counts[PENDING], counts[PARKED], counts[APPLIED], oldest_pending_age_seconds(session))


def oldest_pending_age_seconds(session: Session) -> float | None:
    """Seconds since the oldest row still pending was written; None when nothing is pending (for /healthz)."""
    # By id, the order rows were written in, which the (state, id) index serves without a sort.
    created = session.scalar(
        select(OutboxRow.created_at).where(OutboxRow.state == PENDING).order_by(OutboxRow.id).limit(1)
    )
    return None if created is None else max((utcnow() - created).total_seconds(), 0.0)


def parked_rows(session: Session, *, limit: int = 100) -> list[OutboxRow]:
    """The rows parked after their last attempt, newest first."""
    return list(
        session.scalars(select(OutboxRow).where(OutboxRow.state == PARKED).order_by(OutboxRow.id.desc()).limit(limit))
    )
