"""The outbox for people: the admin page of parked rows with Retry, `flask outbox status`, the oldest pending age."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from conftest import csrf_of, make_user, sign_in, words_of
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incidents.database import get_session
from incidents.events import IncidentDeclared, record_event, subscribe, unsubscribe
from incidents.models import Role, utcnow
from incidents.outbox.models import APPLIED, PARKED, PENDING, OutboxRow
from incidents.outbox.service import BatchOutcome, drain_batch, oldest_pending_age_seconds


class Flaky:
    """The search index's handler while the index is down: it fails until healed."""

    def __init__(self) -> None:
        self.healed = False

    def __call__(self, _event: Any) -> None:
        if not self.healed:
            raise ConnectionError("search index at 10.0.0.7:9200 refused the connection")


def declared(key: int) -> IncidentDeclared:
    return IncidentDeclared(incident_id=key, actor_id=None, actor_name="Riley", source="web")


@pytest.fixture
def flaky(app: Flask) -> Flaky:
    """ "search.index" (failing) and "slack.notify" subscribed; one attempt before a row is parked."""
    handler = Flaky()
    unsubscribe(app, "search.index")  # the real one, replaced by this stand-in for an index that is down
    subscribe(app, IncidentDeclared, "search.index", handler)
    subscribe(app, IncidentDeclared, "slack.notify", lambda e: None)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    return handler


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    """A session in an app context of its own, closed on the way out.

    Not the `session` fixture: its app context, held across requests, would be theirs too, and
    Flask-WTF caches the CSRF token in that context's g, so one signed-in client would get another's.
    """
    with app.app_context():
        yield get_session()


def record(app: Flask, *keys: int) -> None:
    with database(app) as session:
        for key in keys:
            record_event(session, declared(key))
        session.commit()


def one_parked(app: Flask) -> int:
    """Record an event and drain: the failing handler's row is parked, the other applied; the parked row's id."""
    record(app, 5)
    assert drain_batch(app, worker_id="w") == BatchOutcome(claimed=2, applied=1, parked=1)
    with database(app) as session:
        return session.scalars(select(OutboxRow.id).where(OutboxRow.state == PARKED)).one()


def state_of(app: Flask, row_id: int) -> tuple[str, int]:
    with database(app) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        return row.state, row.attempts


def test_only_admins_see_the_page_or_retry(app: Flask, flaky: Flaky) -> None:
    row_id = one_parked(app)
    client = app.test_client()
    assert client.get("/admin/outbox").status_code == 302  # to the sign-in form
    for role in (Role.VIEWER, Role.RESPONDER):
        make_user(app, f"{role.value}@example.com", role)
        client = app.test_client()
        sign_in(client, f"{role.value}@example.com")
        page = client.get("/")
        assert page.status_code == 200
        assert client.get("/admin/outbox").status_code == 403
        answer = client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_of(page.get_data(as_text=True))})
        assert answer.status_code == 403, answer.get_data(as_text=True)
    assert state_of(app, row_id) == (PARKED, 1)


def test_an_admin_sees_the_parked_row_and_retries_it(app: Flask, flaky: Flaky) -> None:
    row_id = one_parked(app)
    make_user(app, "ada@example.com", Role.ADMIN)
    client = app.test_client()
    sign_in(client, "ada@example.com")
    assert '<a href="/admin/outbox">Outbox</a>' in client.get("/admin/users").get_data(as_text=True)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    words = words_of(html)
    assert "Pending 0 Oldest pending none Parked 1 Applied (kept a while) 1" in words
    assert f"#{row_id} search.index incident.declared 1" in words
    assert "ConnectionError: search index at 10.0.0.7:9200 refused the connection" in words
    assert "Traceback (most recent call last)" in words

    # Without the form's CSRF token the retry is refused.
    assert client.post(f"/admin/outbox/{row_id}/retry").status_code == 400
    assert state_of(app, row_id) == (PARKED, 1)

    answer = client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_of(html)}, follow_redirects=True)
    assert answer.status_code == 200
    assert f"Outbox row {row_id} will be tried again shortly." in words_of(answer.get_data(as_text=True))
    assert "None: nothing is waiting for you." in words_of(answer.get_data(as_text=True))
    assert state_of(app, row_id) == (PENDING, 0)

    flaky.healed = True
    assert drain_batch(app, worker_id="w") == BatchOutcome(claimed=1, applied=1)
    assert state_of(app, row_id) == (APPLIED, 1)

    again = client.post(f"/admin/outbox/{row_id}/retry", data={"csrf_token": csrf_of(html)}, follow_redirects=True)
    assert f"outbox row {row_id} is applied, not parked" in words_of(again.get_data(as_text=True))
    missing = client.post("/admin/outbox/999/retry", data={"csrf_token": csrf_of(html)}, follow_redirects=True)
    assert "outbox row 999 not found" in words_of(missing.get_data(as_text=True))


def test_flask_outbox_status_and_retry(app: Flask, session: Session, flaky: Flaky) -> None:
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["outbox", "status"])
    assert empty.exit_code == 0, empty.output
    assert empty.output == "pending: 0\nparked: 0\napplied: 0\noldest pending: none\n"

    row_id = one_parked(app)
    record_event(session, declared(6))
    session.commit()
    session.execute(
        update(OutboxRow).where(OutboxRow.state == PENDING).values(created_at=utcnow() - timedelta(seconds=90))
    )
    session.commit()
    found = runner.invoke(args=["outbox", "status"])
    lines = found.output.splitlines()
    assert lines[:3] == ["pending: 2", "parked: 1", "applied: 1"]
    assert lines[3].startswith("oldest pending: ") and 90 <= float(lines[3].split()[2]) < 120

    retried = runner.invoke(args=["outbox", "retry", str(row_id)])
    assert retried.exit_code == 0 and retried.output == f"Outbox row {row_id} is pending again.\n"
    assert state_of(app, row_id) == (PENDING, 0)
    twice = runner.invoke(args=["outbox", "retry", str(row_id)])
    assert twice.exit_code == 1 and f"outbox row {row_id} is pending, not parked" in twice.output


def test_flask_worker_drains_and_stops_when_empty(app: Flask, session: Session, flaky: Flaky) -> None:
    flaky.healed = True
    for key in (1, 2, 3):
        record_event(session, declared(key))
    session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--stop-when-empty"])
    assert result.exit_code == 0, result.output
    assert "stopped: 6 applied, 0 to retry, 0 parked." in result.output
    assert [r.state for r in session.scalars(select(OutboxRow))] == [APPLIED] * 6


def test_oldest_pending_age_counts_only_pending_rows(app: Flask, session: Session, flaky: Flaky) -> None:
    assert oldest_pending_age_seconds(session) is None
    one_parked(app)  # one parked, one applied: neither is pending
    assert oldest_pending_age_seconds(session) is None
    record_event(session, declared(7))
    session.commit()
    age = oldest_pending_age_seconds(session)
    assert age is not None and 0 <= age < 5
    newest = session.scalars(select(OutboxRow.id).order_by(OutboxRow.id.desc()).limit(1)).one()
    session.execute(
        update(OutboxRow).where(OutboxRow.id == newest - 1).values(created_at=utcnow() - timedelta(minutes=10))
    )
    session.commit()
    age = oldest_pending_age_seconds(session)
    assert age is not None and 600 <= age < 610
