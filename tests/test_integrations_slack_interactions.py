"""Clicks and the declaration form, as Slack sends them, against the real app and a stand-in Web API."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask
from flask.testing import FlaskClient
from slack_interactions import click, interaction_body, post_interaction, submission
from slack_requests import ALICE, SECRET, command_body, post_signed, signature, slack_settings
from slack_standin import SlackStandin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.models import Incident, IncidentRole, LabelKind, Source, TimelineEntry
from integrations.slack.actions import DECLARE_VIEW, OPEN_ACTION, SEVERITY_ACTION, STATUS_ACTION
from integrations.slack.replies import may_reply_to
from integrations.slack.settings import EXTENSION, read_settings

BOB = "U0BOB0001"
VERA = "U0VERA001"
USAGE = "Say what is happening.\nUsage: `/incident declare <title> [sev1..sev5] [service:NAME …]`"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    slack.add_member(BOB, "bob@example.com", "Bob Builder")
    slack.add_member(VERA, "vera@example.com", "Vera Viewer")
    slack.on("views.open", lambda call: {"ok": True, "view": {"id": "V0DECLARE1", "hash": "1732255200.AbCdEf12"}})
    slack.on("chat.postMessage", lambda call: {"ok": True, "channel": "D0ALICE01", "ts": "1732255300.000100"})
    yield slack
    slack.stop()


class Elsewhere:
    """A web server that is not Slack: it records every request of any method, which none should reach."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        elsewhere = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                elsewhere.requests.append((self.command, self.path))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = do_HEAD = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hook(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/actions/T0ACME001/8012345678902/ReplyHook01"


@pytest.fixture
def foreign() -> Iterator[Elsewhere]:
    other = Elsewhere()
    yield other
    other.server.shutdown()
    other.server.server_close()


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


def hook_of(server: SlackStandin, name: str = "ReplyHook01") -> str:
    """A response_url on a server: the stand-in records a POST to it as a call of `name`."""
    return f"{server.url.removesuffix('api/')}actions/T0ACME001/8012345678902/{name}"


def incidents(session: Session) -> list[Incident]:
    session.rollback()
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def total(session: Session, model: Any) -> int:
    session.rollback()
    return session.scalar(select(func.count(model.id))) or 0


def state_of(session: Session, incident_id: int) -> tuple[str, str, int]:
    session.rollback()
    found = session.get(Incident, incident_id)
    assert found is not None
    entries = session.scalar(select(func.count(TimelineEntry.id)).where(TimelineEntry.incident_id == incident_id))
    return found.severity, found.status.value, entries or 0


def replies(server: SlackStandin, name: str = "ReplyHook01") -> list[dict[str, Any]]:
    return [call.body for call in server.calls_of(name)]


def submit(client: FlaskClient, **fields: Any) -> Any:
    response = post_interaction(client, interaction_body(submission(**fields)))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def clicked(client: FlaskClient, *args: Any, **kwargs: Any) -> None:
    response = post_interaction(client, interaction_body(click(*args, **kwargs)))
    assert (response.status_code, response.get_data()) == (200, b"")


# The declaration form: opened by `/incident declare` alone.


@pytest.mark.parametrize("text", ["declare", "declare   ", "DECLARE"])
def test_declare_alone_opens_the_form_with_the_commands_trigger(
    client: FlaskClient, session: Session, standin: SlackStandin, text: str
) -> None:
    trigger = f"{time.time_ns()}.1234567890123.0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    response = post_signed(client, command_body(text, trigger_id=trigger))
    # Nothing is posted in the channel: the form is the answer.
    assert (response.status_code, response.get_data()) == (200, b"")
    [opened] = standin.calls_of("views.open")
    assert (opened.authorization, opened.body["trigger_id"]) == ("Bearer xoxb-test-token", trigger)
    view = opened.body["view"]
    assert (view["type"], view["callback_id"], view["private_metadata"]) == ("modal", DECLARE_VIEW, "/incident")
    assert (view["title"]["text"], view["submit"]["text"]) == ("Declare an incident", "Declare")
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert list(blocks) == ["declare_title", "declare_severity", "declare_services", "declare_summary"]
    assert [blocks[b].get("optional", False) for b in blocks] == [False, False, True, True]
    title = blocks["declare_title"]["element"]
    assert (title["action_id"], title["max_length"]) == ("title", 200)
    severity = blocks["declare_severity"]["element"]
    assert [o["value"] for o in severity["options"]] == ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
    assert severity["initial_option"]["value"] == "SEV5"
    assert blocks["declare_summary"]["element"]["multiline"] is True
    # Opening asks nobody who typed it: the trigger lasts 3 seconds, and the form is checked when submitted.
    assert [c.method for c in standin.calls] == ["views.open"]
    assert total(session, Incident) == 0


def test_the_form_offers_the_configured_severities(app: Any, client: FlaskClient, standin: SlackStandin) -> None:
    app.config["SEVERITIES"] = "P0, P1,P2"
    post_signed(client, command_body("declare"))
    severity = standin.calls_of("views.open")[0].body["view"]["blocks"][1]["element"]
    assert ([o["value"] for o in severity["options"]], severity["initial_option"]["value"]) == (
        ["P0", "P1", "P2"],
        "P2",
    )


@pytest.mark.parametrize(
    "refusal",
    [
        (200, {"ok": False, "error": "expired_trigger_id"}),
        (200, {"ok": False, "error": "exchanged_trigger_id"}),
        (500, {"ok": False, "error": "fatal_error"}),
    ],
)
def test_a_form_slack_will_not_open_gets_the_usage(
    client: FlaskClient, session: Session, standin: SlackStandin, refusal: tuple[int, dict[str, Any]]
) -> None:
    standin.answer_next("views.open", *refusal)
    response = post_signed(client, command_body("declare"))
    assert response.get_json() == {"response_type": "ephemeral", "text": USAGE}
    assert len(standin.calls_of("views.open")) == 1
    assert total(session, Incident) == 0


def test_an_unreachable_slack_gets_the_usage(app: Flask, client: FlaskClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
    app.extensions[EXTENSION] = dataclasses.replace(app.extensions[EXTENSION], api_url=closed)
    response = post_signed(client, command_body("declare"))
    assert response.get_json() == {"response_type": "ephemeral", "text": USAGE}


# The declaration form: submitted.


def test_a_submitted_form_declares_and_tells_the_submitter(
    client: FlaskClient, session: Session, standin: SlackStandin
) -> None:
    response = submit(client, services="checkout, payments edge,,checkout")
    # An empty 200 closes the form.
    assert response.get_data() == b""
    [declared] = incidents(session)
    assert (declared.title, declared.severity, declared.status.value) == (
        "Checkout returns 500s",
        "SEV2",
        "investigating",
    )
    assert declared.summary == "Card payments fail.\nRetries make it worse."
    assert declared.label_values(LabelKind.SERVICE) == ["checkout", "edge", "payments"]
    assert [u.email for u in declared.holders(IncidentRole.COMMANDER)] == ["riley@example.com"]
    session.rollback()
    entries = list(session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == declared.id)))
    assert [(e.source, e.actor_name, e.external_id) for e in entries] == [
        (Source.SLACK, "Riley Responder", "view:V0DECLARE1:1732255200.AbCdEf12")
    ]
    [told] = standin.calls_of("chat.postMessage")
    assert (told.body["channel"], told.authorization) == (ALICE, "Bearer xoxb-test-token")
    assert told.body["text"] == (
        "You declared a SEV2 incident and command it: <http://localhost/incidents/1|#1 Checkout returns 500s>.\n"
        "To work it from a channel, type `/incident attach 1` there."
    )


def test_the_message_waits_until_slack_has_its_answer(client: FlaskClient, standin: SlackStandin) -> None:
    response = post_interaction(client, interaction_body(submission()), sent=False)
    assert response.status_code == 200
    assert standin.calls_of("chat.postMessage") == []
    response.close()
    assert len(standin.calls_of("chat.postMessage")) == 1


def test_a_form_submitted_twice_declares_once(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    first = submit(client)
    again = submit(client)
    assert first.get_data() == again.get_data() == b""
    assert total(session, Incident) == 1
    assert len(standin.calls_of("chat.postMessage")) == 1
    # Another form (another view, or the same one changed) is another declaration.
    submit(client, view_hash="1732255299.ZzYyXx98")
    assert total(session, Incident) == 2


def test_the_command_that_opened_the_form_is_the_one_suggested(client: FlaskClient, standin: SlackStandin) -> None:
    submit(client, private_metadata="/inc")
    submit(client, private_metadata="not a command", view_id="V0DECLARE2")
    texts = [call.body["text"] for call in standin.calls_of("chat.postMessage")]
    assert ["`/inc attach 1`" in texts[0], "`/incident attach 2`" in texts[1]] == [True, True]


@pytest.mark.parametrize("title", ["", "   \n ", None])
def test_a_form_without_a_title_shows_the_error_under_it(
    client: FlaskClient, session: Session, standin: SlackStandin, title: str | None
) -> None:
    response = submit(client, title=title)
    assert response.get_json() == {
        "response_action": "errors",
        "errors": {"declare_title": "Say what is happening: the title is what responders see first."},
    }
    assert total(session, Incident) == 0
    assert standin.calls == []


def test_a_title_too_long_is_refused_in_the_form(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    long_title = ("Checkout returns 500s for card payments in every region; " * 80)[:3999] + "!"
    response = submit(client, title=long_title)
    assert response.get_json() == {
        "response_action": "errors",
        "errors": {"declare_title": "Title must be at most 200 characters (got 4000)."},
    }
    assert total(session, Incident) == 0
    assert standin.calls_of("chat.postMessage") == []


def test_emoji_and_right_to_left_titles_are_kept(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    title = "🔥 checkout down 👩🏽‍💻 — שלום עולם، مرحبا بالعالم ✅ <b>&amp;"
    submit(client, title=title, services="خدمة 支付")
    [declared] = incidents(session)
    assert declared.title == title
    assert declared.label_values(LabelKind.SERVICE) == sorted(["خدمة", "支付"])
    text = standin.calls_of("chat.postMessage")[0].body["text"]
    assert "|#1 🔥 checkout down 👩🏽‍💻 — שלום עולם، مرحبا بالعالم ✅ &lt;b&gt;&amp;amp;>." in text


@pytest.mark.parametrize(
    ("fields", "block", "message"),
    [
        ({"severity": "SEV9"}, "declare_severity", "Severity must be one of SEV1, SEV2, SEV3, SEV4, SEV5."),
        ({"services": "x" * 101}, "declare_services", "Services must be at most 100 characters (got 101)."),
    ],
)
def test_a_wrong_field_is_shown_under_its_block(
    client: FlaskClient, session: Session, fields: dict[str, Any], block: str, message: str
) -> None:
    assert submit(client, **fields).get_json() == {"response_action": "errors", "errors": {block: message}}
    assert total(session, Incident) == 0


def test_no_severity_chosen_is_the_least_severe(client: FlaskClient, session: Session) -> None:
    submit(client, severity=None, services=None, summary=None)
    [declared] = incidents(session)
    assert (declared.severity, declared.summary, declared.label_values(LabelKind.SERVICE)) == ("SEV5", "", [])


def test_a_viewer_declares_nothing_from_the_form(
    client: FlaskClient, session: Session, standin: SlackStandin, make_caller: Any
) -> None:
    make_caller("viewer", email="vera@example.com", name="Vera Viewer")
    response = submit(client, user_id=VERA)
    assert response.get_json() == {
        "response_action": "errors",
        "errors": {"declare_title": "Your account may read incidents but not change them."},
    }
    assert total(session, Incident) == 0
    assert standin.calls_of("chat.postMessage") == []


def test_a_member_slack_will_not_describe_is_told_in_the_form(client: FlaskClient, session: Session) -> None:
    response = submit(client, user_id="U0NOBODY1")
    assert response.get_json()["errors"]["declare_title"].startswith(
        "Kintsugi could not look up @U0NOBODY1 in Slack (user_not_found)."
    )
    assert total(session, Incident) == 0


# The door: signatures, and payloads that are not what Slack sends.


def test_unsigned_stale_or_forged_requests_change_nothing(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller
) -> None:
    declare(responder, title="Checkout errors")
    body = interaction_body(click(STATUS_ACTION, "1:resolved", response_url=hook_of(standin)))
    for response in (
        client.post("/integrations/slack/interactions", data=body, content_type="application/x-www-form-urlencoded"),
        post_interaction(client, body, at=time.time() - 301),
        post_interaction(client, body, at=time.time() + 301),
        post_interaction(client, body, secret="not-the-signing-secret"),
    ):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthenticated"
    assert state_of(session, 1) == ("SEV2", "investigating", 1)
    assert replies(standin) == []


def test_a_body_changed_after_signing_is_refused(client: FlaskClient, session: Session) -> None:
    body = interaction_body(submission())
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(SECRET, timestamp, body),
    }
    tampered = body.replace(b"Checkout", b"Checkin")
    response = client.post("/integrations/slack/interactions", data=tampered, headers=headers)
    assert response.status_code == 401
    assert total(session, Incident) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"payload=%7Bnot+json",
        b"payload=",
        b"payload=%5B1%2C2%5D",
        b"payload=%22text%22",
        b"token=abc&team_id=T0ACME001",
        b"",
        b"payload=%7B%7D&payload=%7B%7D",
        b"payload=%FF%FE",
    ],
)
def test_a_malformed_payload_is_a_clear_400(client: FlaskClient, session: Session, body: bytes) -> None:
    response = post_interaction(client, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "bad_request",
        "message": "expected a form field `payload` holding a JSON object, as Slack sends interactions",
    }
    assert total(session, Incident) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "shortcut", "callback_id": "something", "trigger_id": "1.2.3", "user": {"id": ALICE}},
        {"type": "view_closed", "view": {"id": "V0DECLARE1", "callback_id": DECLARE_VIEW}},
        {"type": "message_action", "callback_id": "x"},
        {"no": "type"},
        {"type": ["block_actions"]},
        submission(callback_id="another_form"),
        {"type": "view_submission", "view": "not an object"},
        click(OPEN_ACTION, "1"),
        click("some_other_app_action", "1:resolved"),
        {"type": "block_actions", "actions": "not a list", "user": {"id": ALICE}},
        {"type": "block_actions", "actions": [], "user": {"id": ALICE}},
        {"type": "block_actions", "actions": [42], "user": {"id": ALICE}},
    ],
)
def test_what_the_app_does_not_handle_is_a_quiet_200(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller, payload: dict[str, Any]
) -> None:
    declare(responder, title="Checkout errors")
    if "response_url" in payload:
        payload = {**payload, "response_url": hook_of(standin)}
    response = post_interaction(client, interaction_body(payload))
    assert (response.status_code, response.get_data()) == (200, b"")
    assert total(session, Incident) == 1
    assert state_of(session, 1) == ("SEV2", "investigating", 1)
    assert standin.calls == []


# The headline's buttons and menu.


def test_buttons_change_the_status_and_say_so(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller
) -> None:
    declare(responder, title="Checkout errors")
    clicked(client, STATUS_ACTION, "1:mitigated", response_url=hook_of(standin))
    assert state_of(session, 1)[1] == "mitigated"
    clicked(client, STATUS_ACTION, "1:resolved", response_url=hook_of(standin))
    assert state_of(session, 1)[:2] == ("SEV2", "resolved")
    session.rollback()
    last = session.scalars(select(TimelineEntry).order_by(TimelineEntry.id.desc())).first()
    assert last is not None and (last.source, last.actor_name) == (Source.SLACK, "Riley Responder")
    assert replies(standin) == [
        {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": "You marked the incident mitigated: <http://localhost/incidents/1|#1 Checkout errors> — SEV2, "
            "mitigated; commander: Riley Responder",
        },
        {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": "You marked the incident resolved: <http://localhost/incidents/1|#1 Checkout errors> — SEV2, "
            "resolved; commander: Riley Responder",
        },
    ]
    [reply_call] = standin.calls_of("ReplyHook01")[:1]
    assert reply_call.content_type.startswith("application/json")


def test_the_menu_changes_the_severity(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller
) -> None:
    declare(responder, title="Checkout errors")
    clicked(client, SEVERITY_ACTION, "1:sev1", menu=True, response_url=hook_of(standin))
    assert state_of(session, 1) == ("SEV1", "investigating", 2)
    assert replies(standin)[0]["text"].startswith(
        "You set the severity to SEV1: <http://localhost/incidents/1|#1 Checkout errors> — SEV1, investigating;"
    )


@pytest.mark.parametrize(
    ("action", "value", "menu", "told"),
    [
        (STATUS_ACTION, "1:rebooted", False, "Kintsugi knows no status `rebooted`; nothing was changed."),
        (SEVERITY_ACTION, "1:SEV9", True, "Severity must be one of SEV1, SEV2, SEV3, SEV4, SEV5. Nothing was changed."),
    ],
)
def test_a_choice_the_domain_refuses_changes_nothing(
    client: FlaskClient,
    session: Session,
    standin: SlackStandin,
    responder: Caller,
    action: str,
    value: str,
    menu: bool,
    told: str,
) -> None:
    declare(responder, title="Checkout errors")
    clicked(client, action, value, menu=menu, response_url=hook_of(standin))
    assert state_of(session, 1) == ("SEV2", "investigating", 1)
    assert [r["text"] for r in replies(standin)] == [told]


@pytest.mark.parametrize("value", ["resolved", "1", "1:", ":resolved", "x:resolved", "0:resolved", "#1:resolved"])
def test_an_unreadable_value_changes_nothing(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller, value: str
) -> None:
    declare(responder, title="Checkout errors")
    clicked(client, STATUS_ACTION, value, response_url=hook_of(standin))
    assert state_of(session, 1) == ("SEV2", "investigating", 1)
    assert standin.calls == []


def test_a_viewer_clicking_changes_nothing(
    client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller, make_caller: Any
) -> None:
    make_caller("viewer", email="vera@example.com", name="Vera Viewer")
    declare(responder, title="Checkout errors")
    clicked(client, STATUS_ACTION, "1:resolved", user_id=VERA, response_url=hook_of(standin))
    clicked(client, SEVERITY_ACTION, "1:SEV1", menu=True, user_id=VERA, response_url=hook_of(standin))
    assert state_of(session, 1) == ("SEV2", "investigating", 1)
    assert [r["text"] for r in replies(standin)] == [
        "Your account may read incidents but not change them. Nothing was changed."
    ] * 2
    assert {r["response_type"] for r in replies(standin)} == {"ephemeral"}


def test_an_outsider_hears_of_a_restricted_incident_what_of_a_missing_one(
    client: FlaskClient, session: Session, standin: SlackStandin, make_caller: Any
) -> None:
    insider = make_caller("responder", email="ina@example.com", name="Ina Insider")
    hidden = declare(insider, title="Payroll export leaked", visibility="restricted")["id"]
    missing = hidden + 1000
    for action, choice, menu in ((STATUS_ACTION, "resolved", False), (SEVERITY_ACTION, "SEV1", True)):
        clicked(client, action, f"{hidden}:{choice}", menu=menu, user_id=BOB, response_url=hook_of(standin, "Hidden"))
        clicked(client, action, f"{missing}:{choice}", menu=menu, user_id=BOB, response_url=hook_of(standin, "Gone"))
    asked = [r["text"].replace(str(hidden), "N") for r in replies(standin, "Hidden")]
    absent = [r["text"].replace(str(missing), "N") for r in replies(standin, "Gone")]
    assert asked == absent == ["Incident N not found. Nothing was changed."] * 2
    assert state_of(session, hidden) == ("SEV2", "investigating", 1)


def test_a_reply_goes_to_slack_only(
    client: FlaskClient, session: Session, standin: SlackStandin, foreign: Elsewhere, responder: Caller
) -> None:
    declare(responder, title="Checkout errors")
    clicked(client, STATUS_ACTION, "1:mitigated", response_url=foreign.hook())
    # The click is Slack's, signed: it is applied. Its reply would go elsewhere: it is not sent.
    assert state_of(session, 1)[1] == "mitigated"
    assert foreign.requests == []
    assert standin.calls_of("ReplyHook01") == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/actions/T0/1/abc", True),
        ("https://hooks.slack.com:443/actions/T0/1/abc", True),
        ("http://hooks.slack.com/actions/T0/1/abc", False),
        ("https://hooks.slack.com:8443/actions/T0/1/abc", False),
        ("https://hooks.slack.com.evil.example/actions", False),
        ("https://evil.example/hooks.slack.com/actions", False),
        ("https://hooks.slack.com@evil.example/actions", False),
        ("https://user:pw@hooks.slack.com/actions", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("file:///etc/passwd", False),
        ("https://[::1/x", False),
        ("https://hooks.slack.com:99999/x", False),
        ("", False),
        ("STANDIN/actions/T0/1/abc", True),
        ("STANDIN_OTHER_PORT/actions/T0/1/abc", False),
    ],
)
def test_which_response_urls_may_be_replied_to(standin: SlackStandin, url: str, allowed: bool) -> None:
    settings = read_settings(slack_settings(standin.url))
    assert settings is not None
    root = standin.url.removesuffix("/api/")
    url = url.replace("STANDIN_OTHER_PORT", root.rsplit(":", 1)[0] + ":1").replace("STANDIN", root)
    assert may_reply_to(settings, url) is allowed


def test_a_reply_that_is_redirected_is_not_followed(
    client: FlaskClient, session: Session, standin: SlackStandin, foreign: Elsewhere, responder: Caller
) -> None:
    standin.answer_next("Redirected", 302, {}, {"Location": foreign.hook()})
    declare(responder, title="Checkout errors")
    clicked(client, STATUS_ACTION, "1:mitigated", response_url=hook_of(standin, "Redirected"))
    assert state_of(session, 1)[1] == "mitigated"
    assert len(standin.calls_of("Redirected")) == 1
    assert foreign.requests == []


def test_a_form_without_its_submitter_declares_nothing(client: FlaskClient, session: Session) -> None:
    payload = submission()
    del payload["user"]
    response = post_interaction(client, interaction_body(payload))
    assert response.get_json() == {
        "response_action": "errors",
        "errors": {"declare_title": "Slack sent this form without saying who submitted it; nothing was declared."},
    }
    assert total(session, Incident) == 0
