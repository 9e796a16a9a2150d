"""Incident channels: on declaration Kintsugi opens a channel, links it, invites its people, keeps a headline
there and announces the incident, all later, through the outbox, against the real WebClient and a fake Slack."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alerting import AM_TOKEN, am_alert, am_notification, am_post
from conftest import Caller, csrf_of, declare, make_user, sign_in, words_of
from flask import Flask
from flask.testing import FlaskClient
from slack_requests import ALICE, run, slack_settings
from slack_standin import SlackStandin
from slack_workspace import BOT, SlackWorkspace, actions_of, fields_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.accounts.service_chat import SLACK_ISSUER, remember_chat_person
from incidents.chat.models import ChatChannel, ChatPost
from incidents.chat.service import remember_post
from incidents.database import get_session
from incidents.models import TimelineEntry, utcnow
from incidents.outbox.models import APPLIED, PENDING, OutboxRow
from incidents.outbox.service import BatchOutcome, drain_batch
from integrations.slack.actions import OPEN_ACTION, SEVERITY_ACTION, STATUS_ACTION
from integrations.slack.settings import EXTENSION

BOB = "U0BOB0001"
PAGE = "https://kintsugi.example.com"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    slack.add_member(BOB, "bob@example.com", "Bob Builder")
    yield slack
    slack.stop()


@pytest.fixture
def workspace(standin: SlackStandin) -> SlackWorkspace:
    slack = SlackWorkspace(standin)
    slack.add_channel("general")
    slack.add_channel("incidents")
    return slack


@pytest.fixture(autouse=True)
def app_config(request: pytest.FixtureRequest, standin: SlackStandin, workspace: SlackWorkspace) -> dict[str, Any]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return {
        **slack_settings(standin.url),
        "SLACK_CREATE_CHANNELS": True,
        "SLACK_ANNOUNCE_CHANNEL": "#incidents",
        "PUBLIC_URL": PAGE,
        "ALERTMANAGER_TOKEN": AM_TOKEN,
        **overrides,
    }


def deliver(app: Flask, *, minutes_later: float = 0) -> BatchOutcome:
    """Apply every outbox row due (minutes later than now: the backoff of failed ones is over), as a worker."""
    total = BatchOutcome()
    while True:
        # Rows the handlers write (a link's headline) are due at once, on the same clock.
        outcome = drain_batch(app, worker_id="test-worker", clock=lambda: utcnow() + timedelta(minutes=minutes_later))
        total.add(outcome)
        if outcome.claimed == 0:
            return total


def slack_rows(session: Session) -> list[OutboxRow]:
    session.rollback()
    return list(session.scalars(select(OutboxRow).where(OutboxRow.handler.like("slack.%")).order_by(OutboxRow.id)))


def posts(session: Session) -> list[tuple[int, str, str, str]]:
    session.rollback()
    rows = session.scalars(select(ChatPost).order_by(ChatPost.id))
    return [(p.incident_id, p.channel_id, p.purpose, p.message_id) for p in rows]


def links(session: Session) -> list[tuple[str, int, int | None]]:
    session.rollback()
    rows = session.scalars(select(ChatChannel).order_by(ChatChannel.id))
    return [(c.channel_id, c.incident_id, c.linked_by_id) for c in rows]


def sent(standin: SlackStandin, method: str) -> int:
    return len(standin.calls_of(method))


def test_declaring_in_slack_opens_a_channel_with_a_headline_and_announces_it(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, workspace: SlackWorkspace
) -> None:
    reply = run(client, "declare Checkout returns 500s sev2")
    assert "Kintsugi is opening a channel for it and will invite you there." in reply["text"]
    # Nothing reached Slack before the answer but who typed it.
    assert [c.method for c in standin.calls] == ["users.info"]

    outcome = deliver(app)
    assert (outcome.parked, outcome.retried) == (0, 0)
    room = workspace.named("inc-1-checkout-returns-500s")
    assert (room.is_private, room.creator) == (False, BOT)
    assert ALICE in room.members
    riley = session.scalar(select(TimelineEntry.actor_id).where(TimelineEntry.text.like("Linked the slack%")))
    assert links(session) == [(room.id, 1, riley)]
    assert riley is not None

    [headline] = workspace.in_channel(room.id)
    assert headline.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "#1 Checkout returns 500s", "emoji": True},
    }
    shown = fields_of(headline.blocks)
    assert shown[:5] == [
        "*Status*\nInvestigating",
        "*Severity*\nSEV2",
        f"*Commander*\n<@{ALICE}>",
        "*Scribe*\n—",
        "*Comms lead*\n—",
    ]
    assert shown[5].startswith("*Started*\n<!date^") and "({ago})|" in shown[5]
    assert actions_of(headline.blocks) == [
        [(STATUS_ACTION, "1:mitigated"), (SEVERITY_ACTION, "1:SEV2"), (OPEN_ACTION, f"{PAGE}/incidents/1")],
        [(STATUS_ACTION, "1:resolved")],
    ]
    assert headline.text == "#1 Checkout returns 500s: SEV2, investigating; commander: Riley Responder"

    [announcement] = workspace.in_channel(workspace.named("incidents").id)
    said = announcement.blocks[0]["text"]["text"]
    assert f"<{PAGE}/incidents/1|#1 Checkout returns 500s>" in said
    assert f"Worked in <#{room.id}>" in said
    assert sorted(p[2] for p in posts(session)) == ["announcement", "headline"]

    # Delivered again (a worker killed before marking its rows): nothing more reaches Slack.
    before = len(standin.calls)
    for row in slack_rows(session):
        row.state = PENDING
    session.commit()
    deliver(app, minutes_later=5)
    assert [c.method for c in standin.calls[before:] if c.method != "conversations.list"] == [
        "conversations.create",
        "auth.test",
        "conversations.invite",
    ]
    assert len(workspace.channels) == 3
    assert len(workspace.in_channel(room.id)) == 1
    assert workspace.in_channel(room.id)[0].edits == 0


def test_declaring_through_the_api_opens_a_channel_without_inviting_a_stranger_to_slack(
    app: Flask, session: Session, standin: SlackStandin, workspace: SlackWorkspace, responder: Caller
) -> None:
    declare(responder, title="Search is slow", severity="SEV3")
    deliver(app)
    room = workspace.named("inc-1-search-is-slow")
    assert links(session) == [(room.id, 1, responder.user.id)]
    assert sent(standin, "conversations.invite") == 0
    [headline] = workspace.in_channel(room.id)
    assert "*Commander*\nRiley Responder" in fields_of(headline.blocks)


def test_the_declarer_known_to_slack_is_invited_whatever_the_path(
    app: Flask, session: Session, workspace: SlackWorkspace, responder: Caller
) -> None:
    remember_chat_person(session, issuer=SLACK_ISSUER, subject=ALICE, email="riley@example.com", name=None)
    declare(responder, title="Search is slow", severity="SEV3")
    deliver(app)
    assert workspace.named("inc-1-search-is-slow").members == {BOT, ALICE}


def test_a_change_edits_the_headline_and_the_announcement_in_place(
    app: Flask,
    client: FlaskClient,
    session: Session,
    standin: SlackStandin,
    workspace: SlackWorkspace,
    responder: Caller,
) -> None:
    run(client, "declare Checkout returns 500s sev2")
    deliver(app)
    room = workspace.named("inc-1-checkout-returns-500s")
    [headline] = workspace.in_channel(room.id)
    [announcement] = workspace.in_channel(workspace.named("incidents").id)

    run(client, "mitigated", channel_id=room.id)
    run(client, "sev 1", channel_id=room.id)
    run(client, f"commander <@{BOB}>", channel_id=room.id)
    deliver(app)
    assert len(workspace.in_channel(room.id)) == 1  # edited, never posted again
    assert {c.body["ts"] for c in standin.calls_of("chat.update")} == {headline.ts, announcement.ts}
    shown = fields_of(headline.blocks)
    assert shown[:3] == ["*Status*\nMitigated", "*Severity*\nSEV1", f"*Commander*\n<@{BOB}>"]
    assert any(f.startswith("*Time to mitigate*\n") for f in shown)
    assert actions_of(headline.blocks) == [
        [(STATUS_ACTION, "1:resolved"), (SEVERITY_ACTION, "1:SEV1"), (OPEN_ACTION, f"{PAGE}/incidents/1")]
    ]
    assert "Status: mitigated · Commander: <@U0BOB0001>" in announcement.blocks[0]["text"]["text"]

    # A change the messages do not show edits nothing.
    edits = sent(standin, "chat.update")
    assert responder.patch("/api/incidents/1", {"summary": "The pool ran dry."}).status_code == 200
    deliver(app)
    assert sent(standin, "chat.update") == edits


def test_attaching_a_channel_posts_its_headline_joining_a_public_channel_first(
    app: Flask, client: FlaskClient, session: Session, workspace: SlackWorkspace, responder: Caller
) -> None:
    declare(responder, title="Payments timing out", severity="SEV2")
    deliver(app)
    war_room = workspace.add_channel("war-room", bot_in=False)
    run(client, "attach 1", channel_id=war_room.id)
    deliver(app)
    assert BOT in war_room.members
    [headline] = workspace.in_channel(war_room.id)
    assert headline.blocks[0]["text"]["text"] == "#1 Payments timing out"
    # The announcement now names both channels.
    [announcement] = workspace.in_channel(workspace.named("incidents").id)
    opened = workspace.named("inc-1-payments-timing-out")
    assert f"Worked in <#{opened.id}>, <#{war_room.id}>" in announcement.blocks[0]["text"]["text"]


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (500, {"ok": False, "error": "internal_error"}, {}),
        (200, {"ok": False, "error": "fatal_error"}, {}),
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "120"}),
    ],
)
def test_a_refused_post_is_retried_and_made_once(
    app: Flask,
    client: FlaskClient,
    session: Session,
    standin: SlackStandin,
    workspace: SlackWorkspace,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    standin.answer_next("chat.postMessage", status, body, headers)
    run(client, "declare Checkout returns 500s sev2")
    first = deliver(app)
    assert first.retried == 1
    # The first post is the announcement's (the headline's waits for the channel's link).
    waiting = [r for r in slack_rows(session) if r.state == PENDING]
    assert [(r.handler, r.event_type, r.attempts) for r in waiting] == [("slack.announce", "incident.declared", 1)]
    assert body["error"] in (waiting[0].last_error or "")
    announced = workspace.named("incidents").id
    assert workspace.in_channel(announced) == []

    deliver(app, minutes_later=1)
    assert len(workspace.in_channel(announced)) == 1
    assert len(workspace.in_channel(workspace.named("inc-1-checkout-returns-500s").id)) == 1
    assert {r.state for r in slack_rows(session)} == {APPLIED}
    assert len(posts(session)) == 2


def test_slack_out_of_reach_loses_nothing(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, workspace: SlackWorkspace
) -> None:
    run(client, "declare Checkout returns 500s sev2")
    settings = app.extensions[EXTENSION]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    app.extensions[EXTENSION] = replace(settings, api_url=nowhere)
    once = drain_batch(app, worker_id="test-worker")
    assert (once.applied, once.retried) == (1, 2)  # the index; the channel and the announcement wait
    assert len(workspace.channels) == 2
    app.extensions[EXTENSION] = settings
    deliver(app, minutes_later=1)
    room = workspace.named("inc-1-checkout-returns-500s")
    assert len(workspace.in_channel(room.id)) == 1
    assert len(workspace.in_channel(workspace.named("incidents").id)) == 1
    assert {r.state for r in slack_rows(session)} == {APPLIED}


def test_a_retry_after_the_channel_was_opened_finds_it(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, workspace: SlackWorkspace
) -> None:
    for n in range(5):
        workspace.add_channel(f"team-{n}")  # conversations.list pages through them
    standin.answer_next("conversations.invite", 500, {"ok": False, "error": "internal_error"})
    run(client, "declare Checkout returns 500s sev2")
    assert deliver(app).retried == 1
    room = workspace.named("inc-1-checkout-returns-500s")
    assert ALICE not in room.members

    deliver(app, minutes_later=1)
    assert workspace.named("inc-1-checkout-returns-500s") is room  # found again, not opened twice
    assert ALICE in room.members
    assert links(session) == [(room.id, 1, links(session)[0][2])]
    assert len(workspace.in_channel(room.id)) == 1
    assert [c.body["name"] for c in standin.calls_of("conversations.create")] == ["inc-1-checkout-returns-500s"] * 2


def test_a_name_taken_by_another_channel_gets_the_next_one(
    app: Flask, client: FlaskClient, session: Session, workspace: SlackWorkspace
) -> None:
    theirs = workspace.add_channel("inc-1-checkout-returns-500s", creator=ALICE)
    run(client, "declare Checkout returns 500s sev2")
    deliver(app)
    room = workspace.named("inc-1-checkout-returns-500s-2")
    assert links(session)[0][0] == room.id
    assert workspace.in_channel(theirs.id) == []


def test_a_restricted_incident_gets_a_private_channel_and_no_announcement(
    app: Flask, session: Session, standin: SlackStandin, workspace: SlackWorkspace, responder: Caller
) -> None:
    declare(responder, title="Leaked credentials", severity="SEV1", visibility="restricted")
    deliver(app)
    room = workspace.named("inc-1-leaked-credentials")
    assert room.is_private
    [headline] = workspace.in_channel(room.id)
    assert any(b["type"] == "context" and "Restricted" in b["elements"][0]["text"] for b in headline.blocks)
    announced = workspace.named("incidents").id
    assert workspace.in_channel(announced) == []
    assert [c.body["channel"] for c in standin.calls_of("chat.postMessage")] == [room.id]

    # Opened to everyone: announced then, once; restricted again: the announcement is withdrawn.
    assert responder.patch("/api/incidents/1", {"visibility": "open"}).status_code == 200
    deliver(app)
    [announcement] = workspace.in_channel(announced)
    assert "Leaked credentials" in announcement.blocks[0]["text"]["text"]
    assert responder.patch("/api/incidents/1", {"visibility": "restricted"}).status_code == 200
    deliver(app)
    [announcement] = workspace.in_channel(announced)
    assert "Leaked" not in str(announcement.blocks) and "Leaked" not in announcement.text
    assert announcement.text == "Incident #1 is now restricted to its participants; its announcement was withdrawn."


def test_a_pager_declared_incident_gets_a_channel_linked_by_kintsugi(
    app: Flask, client: FlaskClient, session: Session, workspace: SlackWorkspace
) -> None:
    assert am_post(client, am_notification(am_alert())).status_code == 200
    deliver(app)
    [link] = links(session)
    assert link[2] is None
    told = session.execute(
        select(TimelineEntry.actor_name, TimelineEntry.actor_id, TimelineEntry.text).where(
            TimelineEntry.text.like("%slack channel%")
        )
    ).all()
    assert [tuple(row) for row in told] == [("Kintsugi", None, f"Linked the slack channel {link[0]} to this incident.")]
    assert len(workspace.in_channel(link[0])) == 1


def test_a_gone_channel_is_left_and_not_retried(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, workspace: SlackWorkspace
) -> None:
    run(client, "declare Checkout returns 500s sev2")
    deliver(app)
    room = workspace.named("inc-1-checkout-returns-500s")
    room.is_archived = True
    run(client, "sev 1", channel_id=room.id)
    outcome = deliver(app)
    assert (outcome.retried, outcome.parked) == (0, 0)
    assert fields_of(workspace.in_channel(room.id)[0].blocks)[1] == "*Severity*\nSEV2"
    assert {r.state for r in slack_rows(session)} == {APPLIED}


@pytest.mark.parametrize("app_config", [{"SLACK_CREATE_CHANNELS": False}], indirect=True)
def test_without_channels_only_the_announcement_is_posted(
    app_config: dict[str, Any],
    app: Flask,
    session: Session,
    standin: SlackStandin,
    workspace: SlackWorkspace,
    responder: Caller,
) -> None:
    assert app_config["SLACK_CREATE_CHANNELS"] is False
    declare(responder, title="Search is slow", severity="SEV3")
    assert [r.handler for r in slack_rows(session)] == ["slack.announce"]
    deliver(app)
    assert sent(standin, "conversations.create") == 0
    [announcement] = workspace.in_channel(workspace.named("incidents").id)
    assert "Worked in" not in announcement.blocks[0]["text"]["text"]


@pytest.mark.parametrize(
    ("app_config", "handlers"),
    [
        ({"SLACK_SIGNING_SECRET": ""}, []),
        ({"SLACK_CREATE_CHANNELS": False, "SLACK_ANNOUNCE_CHANNEL": ""}, ["slack.headline"]),
    ],
    indirect=["app_config"],
)
def test_only_what_is_on_writes_outbox_rows(
    app_config: dict[str, Any],
    app: Flask,
    session: Session,
    standin: SlackStandin,
    responder: Caller,
    handlers: list[str],
) -> None:
    declare(responder, title="Search is slow", severity="SEV3")
    assert responder.patch("/api/incidents/1", {"severity": "SEV2"}).status_code == 200
    assert [r.handler for r in slack_rows(session)] == handlers
    every = session.scalars(select(OutboxRow.handler)).all()
    assert "search.index" in every  # the changes did write their rows
    deliver(app)
    assert standin.calls == []  # no channel is linked: no headline to post


def test_a_worker_that_posted_a_twin_takes_it_back(
    app: Flask, client: FlaskClient, session: Session, standin: SlackStandin, workspace: SlackWorkspace
) -> None:
    run(client, "declare Checkout returns 500s sev2")
    announced = workspace.named("incidents").id
    post_as_slack = workspace._post

    def another_worker_first(call: Any) -> dict[str, Any]:
        # Another worker posts the same announcement and remembers it while this one's post is on its way.
        answer = post_as_slack(call)
        if call.body.get("channel") == "#incidents" and not posts(session):
            theirs = post_as_slack(call)
            with app.app_context():
                remember_post(
                    get_session(),
                    provider="slack",
                    incident_id=1,
                    channel_id=announced,
                    purpose="announcement",
                    message_id=theirs["ts"],
                    digest="theirs",
                )
        return answer

    standin.on("chat.postMessage", another_worker_first)
    deliver(app)
    [kept] = workspace.in_channel(announced)
    assert [p[3] for p in posts(session) if p[2] == "announcement"] == [kept.ts]
    assert len(standin.calls_of("chat.delete")) == 1
    assert kept.edits == 1  # brought up to date from what the other worker posted


def test_declaring_on_the_page_opens_a_channel_too(app: Flask, workspace: SlackWorkspace) -> None:
    # No `session` fixture here: its app context would share `g`, and the form's CSRF token with it,
    # across the browser's requests.
    make_user(app, "kim@example.com")
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    page = browser.get("/incidents/new").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "title": "Login loops", "severity": "SEV2", "visibility": "open"}
    answer = browser.post("/incidents/new", data={**form, "commander": "kim@example.com"})
    assert answer.status_code == 302, words_of(answer.get_data(as_text=True))[-600:]
    deliver(app)
    room = workspace.named("inc-1-login-loops")
    [headline_posted] = workspace.in_channel(room.id)
    assert "*Commander*\nKim" in fields_of(headline_posted.blocks)
    assert len(workspace.in_channel(workspace.named("incidents").id)) == 1


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": None}], indirect=True)
def test_without_a_public_url_messages_link_where_slack_reached_kintsugi(
    app: Flask, client: FlaskClient, session: Session, workspace: SlackWorkspace, responder: Caller
) -> None:
    declare(responder, title="Queue backlog", severity="SEV3")
    deliver(app)
    room = workspace.named("inc-1-queue-backlog")
    [headline] = workspace.in_channel(room.id)
    # No Slack request yet: the headline names the incident without a link rather than a wrong one.
    assert OPEN_ACTION not in [action for row in actions_of(headline.blocks) for action, _value in row]
    # An unsigned request with a forged Host teaches nothing.
    client.post("/integrations/slack/commands", data=b"command=%2Fincident&text=help", headers={"Host": "evil.example"})
    run(client, "help")  # signed, at the test client's http://localhost/
    responder.patch("/api/incidents/1", {"severity": "SEV2"})
    deliver(app)
    [headline] = workspace.in_channel(room.id)
    assert (OPEN_ACTION, "http://localhost/incidents/1") in [
        pair for row in actions_of(headline.blocks) for pair in row
    ]
