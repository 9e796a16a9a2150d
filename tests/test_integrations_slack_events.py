"""The chat writes the timeline: Events API deliveries signed as Slack signs them, against the real app
and a stand-in Web API served on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Caller
from flask.testing import FlaskClient
from slack_events import BOT, envelope, message, pin, reaction, send
from slack_requests import ALICE, SECRET, run, signature, slack_settings
from slack_standin import Call, SlackStandin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from incidents.chat.models import ChatDelivery, ChatMessage
from incidents.models import Source, TimelineEntry

BOB = "U0BOB0001"
CAROL = "U0CAROL01"
ROOM = "C0INC0001"
ELSEWHERE = "C0OTHER01"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    slack.add_member(BOB, "bob@example.com", "Bob Builder")
    slack.add_member(CAROL, None, "Carol Hidden")  # an email the app may not read
    slack.on("chat.getPermalink", _permalink)
    yield slack
    slack.stop()


def _permalink(call: Call) -> dict[str, Any]:
    ts = str(call.body["message_ts"]).replace(".", "")
    return {"ok": True, "channel": call.body["channel"], "permalink": f"https://acme.slack.com/archives/x/p{ts}"}


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


@pytest.fixture
def incident_id(client: FlaskClient, responder: Caller) -> int:
    """An incident whose channel is ROOM, linked by typing /incident attach there."""
    created = responder.post("/api/incidents", {"title": "Checkout errors", "severity": "SEV2"}).get_json()
    reply = run(client, f"attach {created['id']}", channel_id=ROOM)
    assert "Linked" in reply["text"] or "linked" in reply["text"], reply
    return int(created["id"])


def ts_minutes_ago(minutes: float) -> str:
    return f"{time.time() - minutes * 60:.6f}"


def moment(ts: str) -> datetime:
    seconds, fraction = ts.split(".")
    return datetime.fromtimestamp(int(seconds), tz=UTC).replace(microsecond=int(fraction[:6].ljust(6, "0")))


def timeline(caller: Caller, incident_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    query = {"include_deleted": "true"} if include_deleted else {}
    answer = caller.get(f"/api/incidents/{incident_id}/timeline", query_string=query)
    assert answer.status_code == 200, answer.get_json()
    entries: list[dict[str, Any]] = answer.get_json()["entries"]
    return entries


def key_moments(caller: Caller, incident_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    return [
        e
        for e in timeline(caller, incident_id, include_deleted=include_deleted)
        if e["source"] == "slack" and e["is_key_moment"]
    ]


def logged(session: Session) -> list[ChatMessage]:
    session.rollback()
    return list(session.scalars(select(ChatMessage).order_by(ChatMessage.posted_at, ChatMessage.id)))


def count(session: Session, model: Any) -> int:
    session.rollback()
    return session.scalar(select(func.count(model.id))) or 0


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


# Signatures and the URL check


def test_url_verification_echoes_the_challenge(client: FlaskClient) -> None:
    body = {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    assert ok(send(client, body)) == {"challenge": body["challenge"]}


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong secret", "stale", "from the future", "body changed"],
)
def test_a_request_slack_did_not_sign_gets_401_and_stores_nothing(
    client: FlaskClient, session: Session, incident_id: int, how: str
) -> None:
    body = json.dumps(envelope(message(ROOM, ALICE, "rolled back", ts_minutes_ago(1)))).encode()
    if how == "unsigned":
        response = client.post("/integrations/slack/events", data=body, headers={"Content-Type": "application/json"})
    elif how == "wrong secret":
        response = send(client, body, secret="not-the-secret")
    elif how == "stale":
        response = send(client, body, at=time.time() - 301)
    elif how == "from the future":
        response = send(client, body, at=time.time() + 301)
    else:
        timestamp = str(int(time.time()))
        response = client.post(
            "/integrations/slack/events",
            data=body.replace(b"rolled back", b"rolled forward"),
            headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature(SECRET, timestamp, body)},
        )
    assert response.status_code == 401
    assert count(session, ChatMessage) == 0
    assert count(session, ChatDelivery) == 0


def test_the_challenge_is_not_answered_unsigned(client: FlaskClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc"}).encode()
    assert client.post("/integrations/slack/events", data=body).status_code == 401


# The chat log


def test_a_message_in_a_linked_channel_is_kept_with_its_author_thread_files_and_names(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    root = ts_minutes_ago(5)
    said = message(
        ROOM,
        BOB,
        "<@U0ALICE01> rolled back to v2024.11.21-3 &amp; errors drop, see <https://grafana.example.com/d/1|the board>",
        ts_minutes_ago(3),
        thread_ts=root,
        files=[
            {
                "id": "F1",
                "name": "graph.png",
                "title": "Error graph",
                "permalink": "https://acme.slack.com/files/U0BOB0001/F1/graph.png",
            }
        ],
    )
    assert ok(send(client, envelope(said)))["duplicate"] is False
    (kept,) = logged(session)
    assert kept.incident_id == incident_id
    assert kept.author_name == "Bob Builder"
    assert kept.author_id is not None  # Bob is now known to Kintsugi, by his Slack email
    assert kept.text == (
        "@Riley Responder rolled back to v2024.11.21-3 & errors drop, see the board (https://grafana.example.com/d/1)"
    )
    assert kept.thread_ts == root
    assert kept.ts == said["ts"]  # the string Slack sent, digit for digit
    assert kept.files == [{"name": "Error graph", "url": "https://acme.slack.com/files/U0BOB0001/F1/graph.png"}]
    assert kept.posted_at == moment(said["ts"])
    # A message is the log's, not the timeline's, until someone marks it.
    assert count(session, TimelineEntry) == 2  # declared, and the channel linked


def test_a_name_is_asked_of_slack_once_and_a_member_without_an_email_keeps_slack_s_name(
    client: FlaskClient, session: Session, standin: SlackStandin, incident_id: int
) -> None:
    for n in range(3):
        ok(send(client, envelope(message(ROOM, CAROL, f"checking the pool {n}", ts_minutes_ago(3 - n)))))
    assert [m.author_name for m in logged(session)] == ["Carol Hidden"] * 3
    assert all(m.author_id is None for m in logged(session))
    assert len([c for c in standin.calls_of("users.info") if c.body["user"] == CAROL]) == 1


def test_a_message_is_kept_when_slack_cannot_say_who_wrote_it(
    client: FlaskClient, session: Session, standin: SlackStandin, incident_id: int
) -> None:
    standin.answer_next("users.info", 500, {"ok": False, "error": "fatal_error"})
    ok(send(client, envelope(message(ROOM, "U0STRANGE1", "is anyone looking at the queue?", ts_minutes_ago(1)))))
    (kept,) = logged(session)
    assert (kept.author_key, kept.author_name, kept.text) == (
        "U0STRANGE1",
        "U0STRANGE1",
        "is anyone looking at the queue?",
    )


def test_a_message_elsewhere_is_none_of_kintsugi_s_business(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    assert ok(send(client, envelope(message(ELSEWHERE, ALICE, "lunch?", ts_minutes_ago(1)))))["ignored"]
    assert count(session, ChatMessage) == 0
    assert count(session, ChatDelivery) == 0


def test_a_retried_event_and_a_message_sent_twice_are_stored_once(
    client: FlaskClient, session: Session, incident_id: int, responder: Caller
) -> None:
    said = message(ROOM, ALICE, "paging the database team", ts_minutes_ago(2))
    first = envelope(said, event_id="Ev0RETRY0001")
    assert ok(send(client, first))["duplicate"] is False
    retried = ok(send(client, first, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}))
    assert retried["duplicate"] is True
    # The same message under another event id (Slack resending it) is still one message.
    ok(send(client, envelope(said)))
    assert len(logged(session)) == 1
    assert count(session, ChatDelivery) == 2
    # And the same 📌 delivered three times is one key moment.
    marked = envelope(reaction(ROOM, BOB, said["ts"]), event_id="Ev0RETRY0002")
    for retry in ("", "1", "2"):
        ok(send(client, marked, headers={"X-Slack-Retry-Num": retry} if retry else {}))
    assert len(key_moments(responder, incident_id)) == 1


def test_housekeeping_and_our_own_messages_are_not_the_log(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    joined = message(ROOM, BOB, "<@U0BOB0001> has joined the channel", ts_minutes_ago(2), subtype="channel_join")
    assert ok(send(client, envelope(joined)))["ignored"]
    headline = message(ROOM, BOT, "SEV2 · investigating", ts_minutes_ago(1), bot_id="B0KINTSUGI")
    assert ok(send(client, envelope(headline)))["ignored"]
    assert count(session, ChatMessage) == 0


def test_another_tool_s_message_is_kept_under_its_name(client: FlaskClient, session: Session, incident_id: int) -> None:
    bot = message(ROOM, BOT, "[FIRING:1] HighErrorRate checkout", ts_minutes_ago(1), subtype="bot_message")
    del bot["user"]
    bot.update(bot_id="B0ALERTS1", username="Alertmanager")
    ok(send(client, envelope(bot)))
    (kept,) = logged(session)
    assert (kept.author_name, kept.author_id, kept.text) == ("Alertmanager", None, "[FIRING:1] HighErrorRate checkout")


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_mention", "user": ALICE, "text": "<@U0BOT0001> hi", "ts": "1.2", "channel": ROOM},
        {"type": "member_joined_channel", "user": ALICE, "channel": ROOM},
        {
            "type": "reaction_added",
            "user": ALICE,
            "reaction": "thumbsup",
            "item": {"type": "message", "channel": ROOM, "ts": "1.2"},
        },
        {"type": "pin_added", "user": ALICE, "channel_id": ROOM, "item": {"type": "file", "file": {"id": "F1"}}},
        {"type": "message", "subtype": "some_subtype_slack_adds_next_year", "channel": ROOM, "ts": "1.2"},
        {"type": "brand_new_event"},
    ],
)
def test_events_kintsugi_does_not_act_on_get_200(
    client: FlaskClient, session: Session, incident_id: int, event: dict[str, Any]
) -> None:
    # A 404 or 4xx would make Slack retry it, again and again.
    assert ok(send(client, envelope(event)))["ignored"]
    assert count(session, ChatDelivery) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"event"',
        json.dumps({"type": "event_callback", "event": {"type": "message"}}).encode(),
        json.dumps(
            envelope({"type": "message", "channel": ROOM, "user": ALICE, "text": "x", "ts": 1732255380.0002})
        ).encode(),
        json.dumps(
            envelope({"type": "message", "channel": "../../etc", "user": ALICE, "text": "x", "ts": "1.2"})
        ).encode(),
        json.dumps(
            envelope({"type": "message", "channel": ROOM, "user": ALICE, "text": "x", "ts": "999999999999.1"})
        ).encode(),
        json.dumps(
            envelope({"type": "message", "channel": ROOM, "user": "bob", "text": "x", "ts": "1732255380.000200"})
        ).encode(),
        json.dumps(
            envelope(
                {"type": "message", "channel": ROOM, "user": ALICE, "text": "x", "ts": "1732255380.1", "thread_ts": 5}
            )
        ).encode(),
        json.dumps({"type": "url_verification"}).encode(),
        "\u202e{}".encode(),
    ],
)
def test_a_body_slack_would_not_send_gets_400_and_changes_nothing(
    client: FlaskClient, session: Session, incident_id: int, body: bytes
) -> None:
    response = send(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]
    assert count(session, ChatDelivery) == 0


def test_long_right_to_left_and_emoji_text_is_kept_whole(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    text = ("‏השרת נפל 🔥 مرحبا بالعالم " * 160)[:4000]
    ok(send(client, envelope(message(ROOM, ALICE, text, ts_minutes_ago(1)))))
    (kept,) = logged(session)
    assert kept.text == text.strip()


def test_a_message_longer_than_slack_allows_is_kept_cut_with_a_mark(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    ok(send(client, envelope(message(ROOM, ALICE, "x" * 45_000, ts_minutes_ago(1)))))
    (kept,) = logged(session)
    assert len(kept.text) <= 40_000 and kept.text.endswith("more characters not kept]")


# Key moments


def test_a_pushpin_makes_a_key_moment_at_the_message_s_own_time(
    client: FlaskClient, responder: Caller, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Rolled back checkout to v2024.11.21-3, error rate dropping", ts_minutes_ago(20))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"], name="pushpin"))))
    (entry,) = key_moments(responder, incident_id)
    assert entry["text"] == "Rolled back checkout to v2024.11.21-3, error rate dropping"
    assert entry["actor"]["name"] == "Bob Builder"  # who said it, not who pinned it
    assert datetime.fromisoformat(entry["occurred_at"]) == moment(said["ts"])
    assert entry["evidence_url"] == f"https://acme.slack.com/archives/x/p{said['ts'].replace('.', '')}"


def test_a_pin_makes_a_key_moment_with_slack_s_permalink(
    client: FlaskClient, responder: Caller, standin: SlackStandin, incident_id: int
) -> None:
    said = message(ROOM, ALICE, "Primary failed over to replica-2", ts_minutes_ago(45))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(pin(ROOM, BOB, said))))
    (entry,) = key_moments(responder, incident_id)
    assert datetime.fromisoformat(entry["occurred_at"]) == moment(said["ts"])
    assert entry["evidence_url"] == f"https://acme.slack.com/archives/{ROOM}/p{said['ts'].replace('.', '')}"
    assert entry["actor"]["name"] == "Riley Responder"
    assert standin.calls_of("chat.getPermalink") == []  # the pin carried it


def test_a_pinned_message_the_log_never_saw_is_kept_from_the_pin(
    client: FlaskClient, session: Session, responder: Caller, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Found it: the pool is capped at 10", ts_minutes_ago(90))
    ok(send(client, envelope(pin(ROOM, ALICE, said))))
    (entry,) = key_moments(responder, incident_id)
    assert (entry["text"], entry["actor"]["name"]) == ("Found it: the pool is capped at 10", "Bob Builder")
    assert [m.text for m in logged(session)] == ["Found it: the pool is capped at 10"]


def test_a_pushpin_on_a_message_the_log_never_saw_asks_slack_for_it(
    client: FlaskClient, session: Session, responder: Caller, standin: SlackStandin, incident_id: int
) -> None:
    old = message(ROOM, BOB, "Disk on db-3 at 98%", ts_minutes_ago(30))
    standin.on(
        "conversations.history",
        lambda call: {"ok": True, "messages": [old] if call.body.get("latest") == old["ts"] else [], "has_more": False},
    )
    ok(send(client, envelope(reaction(ROOM, ALICE, old["ts"], name="round_pushpin"))))
    (entry,) = key_moments(responder, incident_id)
    assert (entry["text"], entry["actor"]["name"]) == ("Disk on db-3 at 98%", "Bob Builder")
    assert datetime.fromisoformat(entry["occurred_at"]) == moment(old["ts"])


def test_a_pushpin_is_kept_at_its_message_s_time_even_when_slack_is_unreachable(
    client: FlaskClient, responder: Caller, standin: SlackStandin, incident_id: int
) -> None:
    standin.answer_next("conversations.history", 500, {"ok": False})
    standin.answer_next("chat.getPermalink", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    ts = ts_minutes_ago(12)
    ok(send(client, envelope(reaction(ROOM, ALICE, ts))))
    (entry,) = key_moments(responder, incident_id)
    assert datetime.fromisoformat(entry["occurred_at"]) == moment(ts)
    assert "could not be read" in entry["text"]
    assert entry["evidence_url"] == f"https://slack.com/archives/{ROOM}/p{ts.replace('.', '')}"


def test_marks_add_up_and_the_key_moment_goes_with_the_last_one(
    client: FlaskClient, responder: Caller, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Customer reports stopped", ts_minutes_ago(10))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"]))))
    ok(send(client, envelope(pin(ROOM, BOB, said))))
    ok(send(client, envelope(reaction(ROOM, BOB, said["ts"], name="round_pushpin"))))
    assert len(key_moments(responder, incident_id)) == 1
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"], added=False))))
    ok(send(client, envelope(pin(ROOM, BOB, said, added=False))))
    assert len(key_moments(responder, incident_id)) == 1  # Bob's 📍 still marks it
    ok(send(client, envelope(reaction(ROOM, BOB, said["ts"], name="round_pushpin", added=False))))
    assert key_moments(responder, incident_id) == []
    (retracted,) = key_moments(responder, incident_id, include_deleted=True)
    assert retracted["deleted_at"] is not None
    # Marked again: a key moment again, the retracted one kept as it was.
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"]))))
    (again,) = key_moments(responder, incident_id)
    assert again["id"] != retracted["id"] and again["text"] == "Customer reports stopped"


def test_an_edit_in_slack_corrects_the_log_and_the_key_moment_keeping_what_it_said(
    client: FlaskClient, session: Session, responder: Caller, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Rolled back to v41", ts_minutes_ago(15))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(pin(ROOM, ALICE, said))))
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": ROOM,
        "hidden": True,
        "message": {**said, "text": "Rolled back to v40 (not v41)", "edited": {"user": BOB, "ts": ts_minutes_ago(1)}},
        "previous_message": said,
        "event_ts": ts_minutes_ago(1),
        "ts": ts_minutes_ago(1),
    }
    ok(send(client, envelope(edited)))
    (kept,) = logged(session)
    assert kept.text == "Rolled back to v40 (not v41)" and kept.edited_at is not None
    (entry,) = key_moments(responder, incident_id)
    assert entry["text"] == "Rolled back to v40 (not v41)"
    assert [r["before"]["text"] for r in entry["revisions"]] == ["Rolled back to v41"]
    assert datetime.fromisoformat(entry["occurred_at"]) == moment(said["ts"])
    # The same edit again (a retry under a new id, or an unfurl) changes nothing more.
    ok(send(client, envelope(edited)))
    assert len(key_moments(responder, incident_id)[0]["revisions"]) == 1


def test_a_deletion_in_slack_retracts_the_log_and_the_key_moment(
    client: FlaskClient, session: Session, responder: Caller, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Wrong channel, sorry", ts_minutes_ago(6))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"]))))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": ROOM,
        "hidden": True,
        "deleted_ts": said["ts"],
        "previous_message": said,
        "event_ts": ts_minutes_ago(1),
        "ts": ts_minutes_ago(1),
    }
    ok(send(client, envelope(deleted)))
    assert logged(session)[0].deleted_at is not None
    assert key_moments(responder, incident_id) == []
    (gone,) = key_moments(responder, incident_id, include_deleted=True)
    assert gone["text"] == "Wrong channel, sorry" and gone["revisions"][-1]["change"] == "deletion"
    # A 📌 on a deleted message marks nothing.
    ok(send(client, envelope(reaction(ROOM, BOB, said["ts"]))))
    assert key_moments(responder, incident_id) == []


def test_a_deletion_that_overtakes_its_message_keeps_the_message_deleted(
    client: FlaskClient, session: Session, incident_id: int
) -> None:
    said = message(ROOM, BOB, "oops", ts_minutes_ago(2))
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": ROOM,
        "deleted_ts": said["ts"],
        "ts": ts_minutes_ago(1),
    }
    ok(send(client, envelope(deleted)))
    ok(send(client, envelope(said)))
    (kept,) = logged(session)
    assert kept.deleted_at is not None


def test_an_edit_that_overtakes_its_message_wins(client: FlaskClient, session: Session, incident_id: int) -> None:
    said = message(ROOM, BOB, "first words", ts_minutes_ago(2))
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": ROOM,
        "message": {**said, "text": "second words"},
        "ts": ts_minutes_ago(1),
    }
    ok(send(client, envelope(edited)))
    ok(send(client, envelope(said)))
    assert [m.text for m in logged(session)] == ["second words"]


def test_a_restricted_incident_s_channel_is_logged_and_its_key_moments_stay_restricted(
    client: FlaskClient, session: Session, responder: Caller, make_caller: Any
) -> None:
    created = responder.post(
        "/api/incidents", {"title": "Payroll leak", "severity": "SEV1", "visibility": "restricted"}
    ).get_json()
    run(client, f"attach {created['id']}", channel_id=ROOM)
    said = message(ROOM, ALICE, "Rotated the leaked key", ts_minutes_ago(3))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(pin(ROOM, ALICE, said))))
    assert len(key_moments(responder, created["id"])) == 1
    outsider = make_caller("responder", email="outsider@example.com")
    assert outsider.get(f"/api/incidents/{created['id']}/timeline").status_code == 404


def test_slack_sources_are_told_apart_in_the_timeline(client: FlaskClient, responder: Caller, incident_id: int) -> None:
    said = message(ROOM, BOB, "Mitigated by draining us-east-1", ts_minutes_ago(4))
    ok(send(client, envelope(said)))
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"]))))
    (entry,) = key_moments(responder, incident_id)
    assert entry["source"] == Source.SLACK.value and entry["external_id"] == f"message:{ROOM}:{said['ts']}"


def test_the_events_endpoint_answers_404_when_slack_is_off(tmp_path: Any) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert send(app.test_client(), envelope(message(ROOM, ALICE, "x", "1.2"))).status_code == 404


def test_the_chat_log_is_read_through_the_api_by_those_who_may_see_the_incident(
    client: FlaskClient, responder: Caller, make_caller: Any
) -> None:
    created = responder.post(
        "/api/incidents", {"title": "Queue stuck", "severity": "SEV3", "visibility": "restricted"}
    ).get_json()
    run(client, f"attach {created['id']}", channel_id=ROOM)
    times = [ts_minutes_ago(m) for m in (30, 20, 10)]
    for n, ts in enumerate(times):
        ok(send(client, envelope(message(ROOM, BOB, f"update {n}", ts))))
    gone = {"type": "message", "subtype": "message_deleted", "channel": ROOM, "deleted_ts": times[1], "ts": times[2]}
    ok(send(client, envelope(gone)))
    ok(send(client, envelope(pin(ROOM, ALICE, message(ROOM, BOB, "update 2", times[2])))))
    path = f"/api/incidents/{created['id']}/chat"
    messages = responder.get(path).get_json()["messages"]
    assert [m["text"] for m in messages] == ["update 2", "update 0"]
    assert messages[0]["author"]["name"] == "Bob Builder" and messages[0]["ts"] == times[2]
    assert messages[0]["timeline_entry_id"] is not None and messages[1]["timeline_entry_id"] is None
    older = responder.get(path, query_string={"before": messages[0]["posted_at"], "limit": 1}).get_json()
    assert [m["text"] for m in older["messages"]] == ["update 0"]
    assert responder.get(path, query_string={"before": "yesterday"}).status_code == 400
    assert responder.get(path, query_string={"limit": 0}).status_code == 400
    outsider = make_caller("responder", email="outsider@example.com")
    hidden, missing = outsider.get(path), outsider.get("/api/incidents/98765/chat")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.get_json()["error"]["message"] == f"incident {created['id']} not found"
    assert missing.get_json()["error"]["message"] == "incident 98765 not found"


def test_a_pushpin_that_overtakes_its_message_gets_the_words_when_the_message_arrives(
    client: FlaskClient, session: Session, responder: Caller, standin: SlackStandin, incident_id: int
) -> None:
    said = message(ROOM, BOB, "Traffic shifted to eu-west", ts_minutes_ago(5))
    standin.answer_next("conversations.history", 500, {"ok": False})
    ok(send(client, envelope(reaction(ROOM, ALICE, said["ts"]))))
    assert "could not be read" in key_moments(responder, incident_id)[0]["text"]
    ok(send(client, envelope(said)))
    (kept,) = logged(session)
    assert (kept.text, kept.author_name, kept.edited_at) == ("Traffic shifted to eu-west", "Bob Builder", None)
    (entry,) = key_moments(responder, incident_id)
    assert entry["text"] == "Traffic shifted to eu-west"


def test_a_member_whose_email_kintsugi_cannot_take_is_kept_by_name(
    client: FlaskClient, session: Session, standin: SlackStandin, incident_id: int
) -> None:
    standin.add_member("U0ODDMAIL1", "not an email", "Odd Mail")
    ok(send(client, envelope(message(ROOM, "U0ODDMAIL1", "restarting the pods", ts_minutes_ago(1)))))
    (kept,) = logged(session)
    assert (kept.author_name, kept.author_id, kept.text) == ("Odd Mail", None, "restarting the pods")
