"""After the fact: a linked channel's history read into the chat log by `/incident import` or the
incident page's button, through the outbox, against the real WebClient and a stand-in Web API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Caller, csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from library import index_now
from slack_history import BOT_USER, History
from slack_interactions import click, interaction_body, post_interaction
from slack_requests import ALICE, run, slack_settings
from slack_standin import SlackStandin
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from incidents.chat.models import ChatDelivery, ChatMessage
from incidents.database import get_session
from incidents.models import Role, TimelineEntry, utcnow
from incidents.outbox.models import OutboxRow
from integrations.slack.actions import IMPORT_ACTION

BOB = "U0BOB0001"
ROOM = "C0INC0001"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    slack.add_member(BOB, "bob@example.com", "Bob Builder")
    yield slack
    slack.stop()


@pytest.fixture
def history(standin: SlackStandin) -> History:
    return History().teach(standin)


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


def ago(minutes: float) -> str:
    return f"{time.time() - minutes * 60:.6f}"


def at(ts: str) -> datetime:
    seconds, fraction = ts.split(".")
    return datetime.fromtimestamp(int(seconds), tz=UTC).replace(microsecond=int(fraction[:6].ljust(6, "0")))


@pytest.fixture
def incident_id(client: FlaskClient, responder: Caller) -> int:
    """An incident that started two hours ago, its channel ROOM linked."""
    started = (utcnow() - timedelta(hours=2)).isoformat()
    created = responder.post(
        "/api/incidents", {"title": "Checkout errors", "severity": "SEV2", "started_at": started}
    ).get_json()
    run(client, f"attach {created['id']}", channel_id=ROOM)
    return int(created["id"])


def night_in_the_channel(history: History) -> dict[str, dict[str, Any]]:
    """What was said in ROOM during the incident, nobody pinning as it happened (but one 📌 and one pin)."""
    said = {
        "before": history.say(ROOM, BOB, "a week-old message", ago(60 * 24 * 7)),
        "paged": history.say(ROOM, ALICE, "paged, looking", ago(110)),
        "joined": history.say(ROOM, BOB, "<@U0BOB0001> has joined the channel", ago(105), subtype="channel_join"),
        "found": history.say(ROOM, BOB, "the pool is capped at 10", ago(100), pinned_to=[ROOM]),
        "ours": history.say(ROOM, BOT_USER, "SEV2 · investigating", ago(99), bot_id="B0KINTSUGI"),
        "rollback": history.say(
            ROOM,
            ALICE,
            "rolled back <@U0BOB0001>'s change",
            ago(90),
            reactions=[{"name": "pushpin", "users": [BOB], "count": 1}, {"name": "eyes", "users": [ALICE], "count": 1}],
        ),
        "fixed": history.say(ROOM, BOB, "errors are back to normal", ago(80), edited={"user": BOB, "ts": ago(79)}),
    }
    said["why"] = history.reply(ROOM, said["found"], ALICE, "why 10?", ago(98))
    said["because"] = history.reply(ROOM, said["found"], BOB, "a default nobody changed", ago(97))
    return said


def logged(session: Session) -> list[ChatMessage]:
    session.rollback()
    return list(session.scalars(select(ChatMessage).order_by(ChatMessage.posted_at)))


def key_moments(session: Session) -> list[TimelineEntry]:
    session.rollback()
    query = select(TimelineEntry).where(TimelineEntry.is_key_moment.is_(True), TimelineEntry.deleted_at.is_(None))
    return list(session.scalars(query.order_by(TimelineEntry.occurred_at)))


def test_import_reads_the_incident_s_window_threads_pins_and_pushpins_once(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, history: History, incident_id: int
) -> None:
    said = night_in_the_channel(history)
    reply = run(client, "import", channel_id=ROOM)
    assert reply["text"].startswith(f"Reading the history of <#{ROOM}> into incident #{incident_id}'s chat log")
    assert logged(session) == []  # read after the answer, by the worker
    index_now(app)
    kept = {m.text: m for m in logged(session)}
    assert set(kept) == {
        "paged, looking",
        "the pool is capped at 10",
        "rolled back @Bob Builder's change",
        "errors are back to normal",
        "why 10?",
        "a default nobody changed",
    }
    assert kept["why 10?"].thread_ts == said["found"]["ts"]
    assert kept["paged, looking"].posted_at == at(said["paged"]["ts"])
    moments = key_moments(session)
    assert [(e.text, e.actor_name, e.occurred_at) for e in moments] == [
        ("the pool is capped at 10", "Bob Builder", at(said["found"]["ts"])),
        ("rolled back @Bob Builder's change", "Riley Responder", at(said["rollback"]["ts"])),
    ]
    assert all(e.evidence_url and e.evidence_url.startswith("https://acme.slack.com/archives/") for e in moments)
    # Only the incident's window (from an hour before it started) was asked for.
    (asked,) = standin.calls_of("conversations.history")[:1]
    assert float(asked.body["oldest"]) == pytest.approx(time.time() - 3 * 3600, abs=120)
    assert len(standin.calls_of("conversations.history")) == 2  # 6 top-level messages in the window, 3 a page
    assert [c.body["ts"] for c in standin.calls_of("conversations.replies")] == [said["found"]["ts"]]
    (note,) = [posted for posted in history.posted if posted["text"].startswith("Read this channel's history")]
    assert note["channel"] == ROOM
    assert "6 messages" not in note["text"] and "4 messages and 2 thread replies" in note["text"]
    assert "2 of them pinned as key moments" in note["text"]

    # Importing again changes nothing.
    entries, deliveries = count(session, TimelineEntry), count(session, ChatDelivery)
    run(client, "import", channel_id=ROOM)
    index_now(app)
    assert len(logged(session)) == 6
    assert (count(session, TimelineEntry), count(session, ChatDelivery)) == (entries, deliveries)


def count(session: Session, model: Any) -> int:
    session.rollback()
    return session.scalar(select(func.count(model.id))) or 0


def test_an_edit_made_since_the_last_import_reaches_the_log_and_its_key_moment(
    app: Flask, client: FlaskClient, session: Session, history: History, incident_id: int
) -> None:
    said = night_in_the_channel(history)
    run(client, "import", channel_id=ROOM)
    index_now(app)
    said["found"].update(text="the pool is capped at 10 (per pod)", edited={"user": BOB, "ts": ago(1)})
    run(client, "import", channel_id=ROOM)
    index_now(app)
    assert "the pool is capped at 10 (per pod)" in {m.text for m in logged(session)}
    (entry, _) = key_moments(session)
    assert entry.text == "the pool is capped at 10 (per pod)"
    assert [r.before["text"] for r in entry.revisions] == ["the pool is capped at 10"]


def test_slack_down_during_an_import_is_tried_again_and_loses_nothing(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, history: History, incident_id: int
) -> None:
    night_in_the_channel(history)
    standin.answer_next("auth.test", 500, {"ok": False, "error": "fatal_error"})
    run(client, "import", channel_id=ROOM)
    index_now(app)
    assert logged(session) == []
    session.rollback()
    (row,) = session.scalars(select(OutboxRow).where(OutboxRow.handler == "slack.history")).all()
    assert (row.state, row.attempts) == ("pending", 1)
    session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(available_at=utcnow()))
    session.commit()
    index_now(app)
    assert len(logged(session)) == 6


def test_a_rate_limit_is_waited_out(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, history: History, incident_id: int
) -> None:
    night_in_the_channel(history)
    standin.answer_next("conversations.history", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    run(client, "import", channel_id=ROOM)
    started = time.monotonic()
    index_now(app)
    assert time.monotonic() - started >= 1.0
    assert len(logged(session)) == 6


def test_import_needs_a_linked_channel(client: FlaskClient, responder: Caller, history: History) -> None:
    created = responder.post("/api/incidents", {"title": "Disk full", "severity": "SEV3"}).get_json()
    reply = run(client, f"import {created['id']}", channel_id="C0GENERAL1")
    assert reply["text"] == f"Incident {created['id']} has no Slack channel: link one first."
    assert reply["response_type"] == "ephemeral"


def test_the_incident_page_shows_the_chat_and_imports_and_marks_from_it(
    app: Flask, client: FlaskClient, history: History, incident_id: int
) -> None:
    said = night_in_the_channel(history)
    make_user(app, "lee@example.com")
    browser = app.test_client()
    sign_in(browser, "lee@example.com")
    page = browser.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "Import the channel&#39;s history" in page or "Import the channel's history" in page
    answer = browser.post(f"/incidents/{incident_id}/chat/history", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 302
    index_now(app)
    page = browser.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "Chat <small>(6 messages kept)</small>" in page
    assert "errors are back to normal" in page and "a week-old message" not in page
    with app.app_context():  # not the session fixture's: a held app context shares g, and the CSRF token in it
        plain = next(m.id for m in logged(get_session()) if m.text == "errors are back to normal")
        marked_before = len(key_moments(get_session()))
    answer = browser.post(f"/incidents/{incident_id}/chat/{plain}/mark", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"#chat-{plain}")
    with app.app_context():
        moments = key_moments(get_session())
    assert len(moments) == marked_before + 1
    assert [e.occurred_at for e in moments if e.text == "errors are back to normal"] == [at(said["fixed"]["ts"])]
    # A viewer reads the chat but is offered neither button.
    make_user(app, "vic@example.com", Role.VIEWER)
    viewer = app.test_client()
    sign_in(viewer, "vic@example.com")
    seen = viewer.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "errors are back to normal" in seen
    assert "Make it a key moment" not in seen and "Import the channel" not in seen
    refused = viewer.post(f"/incidents/{incident_id}/chat/{plain}/mark", data={"csrf_token": csrf_of(seen)})
    assert refused.status_code == 403


def test_the_import_button_asks_for_the_history_as_the_one_who_clicked(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, history: History, incident_id: int
) -> None:
    night_in_the_channel(history)
    hook = f"{standin.url.removesuffix('api/')}actions/T0ACME001/8012345678902/ImportHook1"
    answer = post_interaction(client, interaction_body(click(IMPORT_ACTION, str(incident_id), response_url=hook)))
    assert (answer.status_code, answer.get_data()) == (200, b"")
    (told,) = [call.body["text"] for call in standin.calls_of("ImportHook1")]
    assert told.startswith(f"Reading the history of <#{ROOM}> into incident #{incident_id}'s chat log")
    index_now(app)
    assert len(logged(session)) == 6
    # Someone who may only read is told so, and nothing is asked of Slack.
    standin.add_member("U0VIEWER1", "vic@example.com", "Vic Viewer")
    make_user(app, "vic@example.com", Role.VIEWER)
    post_interaction(
        client, interaction_body(click(IMPORT_ACTION, str(incident_id), user_id="U0VIEWER1", response_url=hook))
    )
    assert "may read incidents but not change them" in standin.calls_of("ImportHook1")[-1].body["text"]
    session.rollback()
    assert (
        session.scalar(
            select(func.count(OutboxRow.id)).where(OutboxRow.handler == "slack.history", OutboxRow.state == "pending")
        )
        == 0
    )
