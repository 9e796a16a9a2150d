"""Events and the transactional outbox: rows written with the change, applied once by a worker, retried, parked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import outbox_app
import pytest
from flask import Flask
from outbox_app import calls, event
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from incidents.database import EXTENSION, engine_of, get_session
from incidents.events import (
    ActionItemChanged,
    EventError,
    IncidentChanged,
    IncidentDeclared,
    PostmortemPublished,
    TimelineEntriesRecorded,
    from_payload,
    record_event,
    subscribe,
    to_payload,
)
from incidents.models import utcnow
from incidents.outbox import service
from incidents.outbox.models import APPLIED, PARKED, PENDING, OutboxRow
from incidents.outbox.service import BatchOutcome, OutboxSettings, claim_batch, drain_batch
from incidents.outbox.worker import WAKE, Worker, start_thread, stop_thread


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    """The test app with the recording handlers subscribed, and their tables."""
    outbox_app.subscribe_recorders(app)
    found = engine_of(app)
    outbox_app.create_tables(found)
    yield found
    outbox_app.drop_tables(found)


def rows(session: Session) -> list[OutboxRow]:
    session.expire_all()
    found = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    session.rollback()  # end the read, so that a SQLite writer elsewhere is not kept waiting
    return found


def drain(app: Flask) -> BatchOutcome:
    """One worker draining until nothing is due; what it did."""
    worker = Worker(app)
    worker.run(threading.Event(), threading.Event(), stop_when_empty=True)
    return worker.totals


def test_events_round_trip_through_json_payloads() -> None:
    for happened in (
        IncidentChanged(incident_id=3, actor_id=7, actor_name="Riley", source="web", changed=("status", "severity")),
        TimelineEntriesRecorded(incident_id=3, entry_ids=(10, 11, 12), source="pagerduty"),
        ActionItemChanged(action_item_id=5, postmortem_id=2, actor_id=None),
    ):
        payload = to_payload(happened)
        assert from_payload(happened.type, payload) == happened
    assert to_payload(TimelineEntriesRecorded(3, (10, 11), "slack")) == {
        "incident_id": 3,
        "entry_ids": [10, 11],
        "source": "slack",
    }
    with pytest.raises(EventError, match=r"unknown event type 'incident\.renamed'"):
        from_payload("incident.renamed", {})
    with pytest.raises(EventError, match=r"lacks \['entry_ids', 'source'\]"):
        from_payload("timeline.entries_recorded", {"incident_id": 3})
    # A row written by a release whose event had a field since dropped still applies.
    older = {"incident_id": 3, "entry_ids": [10], "source": "web", "dropped_since": "x"}
    assert from_payload("timeline.entries_recorded", older) == TimelineEntriesRecorded(3, (10,), "web")


def test_subscribing_to_an_unknown_type_or_twice_fails_at_start(app: Flask) -> None:
    with pytest.raises(EventError, match=r"unknown event type 'incident\.renamed'"):
        subscribe(app, "incident.renamed", "test.index", lambda e: None)
    subscribe(app, IncidentDeclared, "test.index", lambda e: None)
    with pytest.raises(ValueError, match=r"'test\.index' is already subscribed to incident\.declared"):
        subscribe(app, "incident.declared", "test.index", lambda e: None)


def test_rows_go_with_the_use_case_transaction(app: Flask, engine: Engine, session: Session) -> None:
    wake: threading.Event = app.extensions[WAKE]
    record_event(session, event(1))
    session.rollback()
    assert rows(session) == []
    assert not wake.is_set()  # a rolled-back use case wakes nobody

    record_event(session, event(2))
    assert not wake.is_set()  # not before the commit
    session.commit()
    assert wake.is_set()
    found = rows(session)
    assert [(r.handler, r.event_type, r.payload, r.state, r.attempts) for r in found] == [
        (
            name,
            "incident.declared",
            {"incident_id": 2, "actor_id": None, "actor_name": "PagerDuty", "source": "pagerduty"},
            PENDING,
            0,
        )
        for name in ("test.record", "test.once")
    ]

    wake.clear()
    record_event(session, PostmortemPublished(postmortem_id=1, incident_id=2, actor_id=3))  # nobody subscribed
    session.commit()
    assert len(rows(session)) == 2
    assert not wake.is_set()


def test_any_session_of_the_app_records_without_flask_and_a_bare_one_is_refused(app: Flask, engine: Engine) -> None:
    factory = app.extensions[EXTENSION]
    with factory() as worker_session:  # no app context: a script or a thread of its own
        record_event(worker_session, event(1))
        worker_session.commit()
        assert len(rows(worker_session)) == 2
    with Session(engine) as bare, pytest.raises(RuntimeError, match="no subscriptions"):
        record_event(bare, event(2))


def test_the_worker_applies_each_row_once(app: Flask, engine: Engine, session: Session) -> None:
    for key in (1, 2, 3):
        record_event(session, event(key))
    session.commit()
    assert drain(app) == BatchOutcome(claimed=6, applied=6)
    assert drain(app) == BatchOutcome()
    assert calls(engine) == {(name, key): 1 for name in outbox_app.HANDLERS for key in (1, 2, 3)}
    assert {(r.state, r.claimed_by, r.attempts) for r in rows(session)} == {(APPLIED, None, 1)}


def test_a_commit_wakes_the_worker_thread_long_before_its_poll(app: Flask, engine: Engine, session: Session) -> None:
    app.config["OUTBOX_POLL_SECONDS"] = 60
    applied = threading.Event()
    seen: list[TimelineEntriesRecorded] = []

    def handle(happened: Any) -> None:
        seen.append(happened)
        applied.set()

    subscribe(app, TimelineEntriesRecorded, "test.signal", handle)
    worker = start_thread(app)
    try:
        assert worker.idle.wait(10)  # it found nothing and waits, for up to a minute
        record_event(session, TimelineEntriesRecorded(incident_id=4, entry_ids=(1, 2), source="pagerduty"))
        session.commit()
        assert applied.wait(5), "the commit did not wake the worker"
    finally:
        stop_thread(app)
    assert seen == [TimelineEntriesRecorded(incident_id=4, entry_ids=(1, 2), source="pagerduty")]
    assert [r.state for r in rows(session)] == [APPLIED]


class Flaky:
    """A handler that fails (its service is down) until healed."""

    def __init__(self) -> None:
        self.healed = False
        self.calls = 0

    def __call__(self, _event: Any) -> None:
        self.calls += 1
        if not self.healed:
            raise RuntimeError("search index unavailable")


def test_a_failing_handler_backs_off_then_parks_while_the_others_flow(
    app: Flask, engine: Engine, session: Session
) -> None:
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    flaky = Flaky()
    subscribe(app, IncidentDeclared, "test.flaky", flaky)
    record_event(session, event(1))
    record_event(session, event(2))
    session.commit()
    t0 = utcnow()

    def at(seconds: float) -> BatchOutcome:
        return drain_batch(app, worker_id="w", clock=lambda: t0 + timedelta(seconds=seconds))

    assert at(0) == BatchOutcome(claimed=6, applied=4, retried=2)
    assert calls(engine) == {(name, key): 1 for name in outbox_app.HANDLERS for key in (1, 2)}
    failing = [r for r in rows(session) if r.handler == "test.flaky"]
    assert [(r.state, r.attempts, r.available_at, r.claimed_by) for r in failing] == [
        (PENDING, 1, t0 + timedelta(seconds=2), None)
    ] * 2
    assert all("RuntimeError: search index unavailable" in (r.last_error or "") for r in failing)

    record_event(session, event(3))  # a new event does not wait behind the failing rows
    session.commit()
    assert at(1) == BatchOutcome(claimed=3, applied=2, retried=1)
    assert flaky.calls == 3  # the first two wait out their backoff
    assert at(2) == BatchOutcome(claimed=2, retried=2)
    assert [r.available_at for r in rows(session) if r.handler == "test.flaky"][:2] == [t0 + timedelta(seconds=6)] * 2
    assert at(5) == BatchOutcome(claimed=1, retried=1)  # event 3's row, on a schedule of its own
    assert at(6) == BatchOutcome(claimed=2, parked=2)

    parked = [r for r in rows(session) if r.state == PARKED]
    assert [(r.handler, r.payload["incident_id"], r.attempts) for r in parked] == [
        ("test.flaky", 1, 3),
        ("test.flaky", 2, 3),
    ]
    assert parked[0].finished_at == t0 + timedelta(seconds=6)
    assert "Traceback" in (parked[0].last_error or "") and "search index unavailable" in (parked[0].last_error or "")
    assert at(3600) == BatchOutcome(claimed=1, parked=1)  # event 3's last attempt; parked rows are never claimed
    assert service.status(session).parked == 3
    assert flaky.calls == 9

    flaky.healed = True
    service.retry_parked(session, row_id=parked[0].id)
    again = session.get(OutboxRow, parked[0].id)
    assert again is not None and (again.state, again.attempts, again.finished_at) == (PENDING, 0, None)
    assert drain(app) == BatchOutcome(claimed=1, applied=1)
    assert {r.id: r.state for r in rows(session) if r.handler == "test.flaky"} == {
        parked[0].id: APPLIED,
        parked[1].id: PARKED,
        parked[1].id + 3: PARKED,
    }


def test_rows_nobody_can_apply_are_parked_at_once(app: Flask, engine: Engine, session: Session) -> None:
    session.add(OutboxRow(event_type="incident.declared", payload=to_payload(event(1)), handler="search.index"))
    session.add(OutboxRow(event_type="incident.renamed", payload={"incident_id": 1}, handler="test.record"))
    session.add(OutboxRow(event_type="incident.declared", payload={"incident_id": 1}, handler="test.record"))
    session.commit()
    assert drain(app) == BatchOutcome(claimed=3, parked=3)
    errors = [r.last_error for r in rows(session)]
    assert errors[0] is not None and errors[0].startswith(
        "no handler 'search.index' for 'incident.declared' is subscribed"
    )
    assert errors[1] is not None and "unknown event type 'incident.renamed'" in errors[1]
    assert errors[2] is not None and "the stored event cannot be read" in errors[2]
    assert calls(engine) == {}


def test_a_row_whose_workers_keep_dying_is_parked_when_claimed_once_too_often(
    app: Flask, engine: Engine, session: Session
) -> None:
    settings = OutboxSettings(max_attempts=2, lease_seconds=10)
    record_event(session, event(1))
    session.commit()
    t0 = utcnow()
    claimed = [
        claim_batch(session, worker_id=f"w{n}", settings=settings, now=t0 + timedelta(seconds=11 * n)) for n in range(4)
    ]
    assert [[c.attempts for c in batch] for batch in claimed] == [[1, 1], [2, 2], [], []]
    assert {(r.state, r.attempts) for r in rows(session)} == {(PARKED, 3)}
    assert "claimed 2 times without an outcome" in (rows(session)[0].last_error or "")


def test_a_lost_lease_is_taken_over_and_its_result_not_marked(app: Flask, engine: Engine, session: Session) -> None:
    settings = OutboxSettings(lease_seconds=10)
    record_event(session, event(1))
    session.commit()
    t0 = utcnow()
    first = claim_batch(session, worker_id="slow", settings=settings, now=t0)
    assert claim_batch(session, worker_id="other", settings=settings, now=t0 + timedelta(seconds=9)) == []
    second = claim_batch(session, worker_id="other", settings=settings, now=t0 + timedelta(seconds=11))
    assert [c.id for c in second] == [c.id for c in first]
    # The slow worker's result comes late: the rows are the other worker's now, and it decides.
    service.mark_results(session, worker_id="slow", results=service.Results(applied=[c.id for c in first]), now=t0)
    assert {(r.state, r.claimed_by) for r in rows(session)} == {(PENDING, "other")}


def test_a_long_batch_renews_its_lease_so_no_one_takes_its_rows(app: Flask, engine: Engine, session: Session) -> None:
    app.config["OUTBOX_LEASE_SECONDS"] = 0.4
    rival: list[int] = []

    def slow(happened: Any) -> None:
        time.sleep(0.25)  # longer than half the lease per row: the batch outlives its first lease
        if happened.incident_id == 3:
            settings = OutboxSettings(lease_seconds=0.4)
            rival.append(len(claim_batch(get_session(), worker_id="rival", settings=settings, now=utcnow())))

    subscribe(app, PostmortemPublished, "test.slow", slow)
    for key in (1, 2, 3):
        record_event(session, PostmortemPublished(postmortem_id=key, incident_id=key, actor_id=None))
    session.commit()
    assert drain(app) == BatchOutcome(claimed=3, applied=3)
    assert rival == [0]
    assert [r.state for r in rows(session)] == [APPLIED] * 3


def test_asked_to_stop_a_worker_hands_back_the_rows_it_did_not_start(
    app: Flask, engine: Engine, session: Session
) -> None:
    for key in (1, 2):
        record_event(session, event(key))
    session.commit()
    outcome = drain_batch(app, worker_id="w", should_stop=lambda: True)
    assert outcome == BatchOutcome(claimed=4, applied=1, released=3)
    assert [(r.state, r.attempts, r.claimed_by) for r in rows(session)] == [(APPLIED, 1, None)] + [
        (PENDING, 0, None)
    ] * 3
    assert drain(app).applied == 3


def test_settings_come_from_the_config_and_bad_ones_fail_at_start(app: Flask) -> None:
    assert OutboxSettings.from_config({"OUTBOX_MAX_ATTEMPTS": "5", "OUTBOX_LEASE_SECONDS": 2}) == OutboxSettings(
        max_attempts=5, lease_seconds=2.0
    )
    assert OutboxSettings().backoff(1) == timedelta(seconds=2)
    assert OutboxSettings().backoff(7) == timedelta(seconds=128)
    assert OutboxSettings().backoff(9) == timedelta(seconds=300)
    with pytest.raises(ValueError, match="OUTBOX_MAX_ATTEMPTS must be a positive number, not 'many'"):
        OutboxSettings.from_config({"OUTBOX_MAX_ATTEMPTS": "many"})
    from app import create_app

    url = app.config["DATABASE_URL"]
    with pytest.raises(ValueError, match="OUTBOX_WORKER must be one of thread, off, not 'sometimes'"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "OUTBOX_WORKER": "sometimes"})
    with pytest.raises(ValueError, match="OUTBOX_BATCH_SIZE must be a positive number"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "OUTBOX_BATCH_SIZE": 0})


def test_the_thread_starts_with_the_first_request_when_configured(app: Flask) -> None:
    from app import create_app
    from incidents.outbox.worker import THREAD

    url = app.config["DATABASE_URL"]
    index = app.config["SEARCH_INDEX"]
    threaded = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "OUTBOX_WORKER": "thread", "SEARCH_INDEX": index}
    )
    assert THREAD not in threaded.extensions  # not at init_app: `flask db upgrade` starts none
    assert threaded.test_client().get("/healthz").status_code == 200
    try:
        assert threaded.extensions[THREAD].thread.is_alive()
    finally:
        stop_thread(threaded)
        engine_of(threaded).dispose()
    assert THREAD not in threaded.extensions
    app.test_client().get("/healthz")
    assert THREAD not in app.extensions  # tests: off unless asked


def test_pruning_deletes_only_applied_rows_older_than_kept(app: Flask, engine: Engine, session: Session) -> None:
    for key in (1, 2):
        record_event(session, event(key))
    session.commit()
    t0 = utcnow()
    drain_batch(app, worker_id="w", clock=lambda: t0)
    record_event(session, event(3))
    session.commit()
    assert service.prune_applied(session, before=t0) == 0
    assert service.prune_applied(session, before=t0 + timedelta(seconds=1)) == 4
    assert [(r.state, r.payload["incident_id"]) for r in rows(session)] == [(PENDING, 3), (PENDING, 3)]


def test_a_worker_whose_database_is_gone_backs_off_and_says_so_once_in_full(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from app import create_app

    gone = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'kintsugi.db'}",
            "OUTBOX_POLL_SECONDS": 0.25,
        }
    )
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="incidents.outbox.worker"):
        Worker(gone).run(stop, threading.Event(), max_seconds=2.0)
    told = [r for r in caplog.records if r.name == "incidents.outbox.worker"]
    # Polling every 0.25 s it would have tried 8 times; waiting 0.5, 1, 2 s after each failure, 3.
    assert 2 <= len(told) <= 4, [r.getMessage() for r in told]
    assert [r.exc_info is not None for r in told] == [True] + [False] * (len(told) - 1)
    assert "still failing (2 times in a row)" in told[1].getMessage()
    engine_of(gone).dispose()
