"""A handler whose work is cheaper together (one search index commit for many changes) takes a
worker's batch at once: in the order written, succeeding or retrying as a whole."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incidents.events import (
    Event,
    IncidentChanged,
    IncidentDeclared,
    record_event,
    subscribe,
    subscribe_batch,
    unsubscribe,
)
from incidents.models import utcnow
from incidents.outbox.models import APPLIED, PARKED, PENDING, OutboxRow
from incidents.outbox.service import BatchOutcome, drain_batch
from search import HANDLER as SEARCH_HANDLER


@pytest.fixture(autouse=True)
def outbox_alone(app: Flask) -> None:
    """Only the tests' handlers write rows (not the search index's)."""
    unsubscribe(app, SEARCH_HANDLER)


def declared(n: int) -> IncidentDeclared:
    return IncidentDeclared(incident_id=n, actor_id=None, actor_name="Riley", source="web")


def changed(n: int) -> IncidentChanged:
    return IncidentChanged(incident_id=n, actor_id=None, actor_name="Riley", source="web", changed=("title",))


def states(session: Session) -> list[tuple[str, str, int]]:
    session.expire_all()
    found = [(r.handler, r.state, r.attempts) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    session.rollback()
    return found


def test_a_batch_handler_gets_every_event_of_the_batch_at_once_in_order(app: Flask, session: Session) -> None:
    batches: list[list[Event]] = []
    singles: list[Event] = []
    subscribe_batch(app, [IncidentDeclared, IncidentChanged], "test.index", lambda events: batches.append(list(events)))
    subscribe(app, IncidentDeclared, "test.single", singles.append)
    for n in (1, 2, 3):
        record_event(session, declared(n))
        record_event(session, changed(n))
    session.commit()
    assert drain_batch(app, worker_id="w") == BatchOutcome(claimed=9, applied=9)
    assert batches == [[declared(1), changed(1), declared(2), changed(2), declared(3), changed(3)]]
    assert singles == [declared(1), declared(2), declared(3)]
    assert {state for _h, state, _a in states(session)} == {APPLIED}


def test_a_failing_batch_retries_each_of_its_rows_and_parks_them_at_the_last_attempt(
    app: Flask, session: Session
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    calls: list[int] = []

    def broken(events: Sequence[Event]) -> None:
        calls.append(len(events))
        raise RuntimeError("index locked")

    subscribe_batch(app, [IncidentDeclared], "test.index", broken)
    record_event(session, declared(1))
    record_event(session, declared(2))
    session.commit()
    t0 = utcnow()
    assert drain_batch(app, worker_id="w", clock=lambda: t0) == BatchOutcome(claimed=2, retried=2)
    assert states(session) == [("test.index", PENDING, 1)] * 2
    later = t0 + timedelta(seconds=10)
    assert drain_batch(app, worker_id="w", clock=lambda: later) == BatchOutcome(claimed=2, parked=2)
    assert states(session) == [("test.index", PARKED, 2)] * 2
    assert calls == [2, 2]


def test_a_row_that_cannot_be_read_is_parked_alone_and_the_rest_of_the_batch_applies(
    app: Flask, session: Session
) -> None:
    seen: list[Any] = []
    subscribe_batch(app, [IncidentDeclared], "test.index", lambda events: seen.extend(events))
    record_event(session, declared(1))
    record_event(session, declared(2))
    session.commit()
    first = session.scalars(select(OutboxRow.id).order_by(OutboxRow.id)).first()
    session.execute(update(OutboxRow).where(OutboxRow.id == first).values(payload={"nonsense": True}))
    session.commit()
    assert drain_batch(app, worker_id="w") == BatchOutcome(claimed=2, applied=1, parked=1)
    assert seen == [declared(2)]
    assert [s for _h, s, _a in states(session)] == [PARKED, APPLIED]


def test_a_name_takes_its_events_either_one_by_one_or_in_batches(app: Flask) -> None:
    subscribe_batch(app, [IncidentDeclared], "test.index", lambda events: None)
    with pytest.raises(ValueError, match="already"):
        subscribe(app, IncidentChanged, "test.index", lambda event: None)
