"""The Slack endpoint's door: signatures on the raw body, the ssl_check probe, and Slack switched off."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from slack_requests import ALICE, SECRET, command_body, post_signed, run, signature, slack_settings
from slack_standin import SlackStandin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from incidents.accounts.models import ExternalIdentity
from incidents.models import Incident, TimelineEntry, User
from integrations.slack.settings import EXTENSION, read_settings

# The official vector of Slack's SDK (tests/slack_sdk/signature/test_signature_verifier.py).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock:
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    yield slack
    slack.stop()


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


def counts(session: Session) -> tuple[int, int, int, int]:
    session.rollback()
    return (
        session.scalar(select(func.count(Incident.id))) or 0,
        session.scalar(select(func.count(TimelineEntry.id))) or 0,
        session.scalar(select(func.count(User.id))) or 0,
        session.scalar(select(func.count(ExternalIdentity.id))) or 0,
    )


def test_the_official_vector_signs_as_slack_signs() -> None:
    assert signature(VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY) == VECTOR_SIGNATURE


@pytest.mark.parametrize(("age", "status"), [(0, 200), (299, 200), (-299, 200), (301, 401), (-301, 401)])
def test_the_official_vector_is_accepted_within_five_minutes(app: Flask, age: int, status: int) -> None:
    settings = read_settings({**app.config, "SLACK_SIGNING_SECRET": VECTOR_SECRET})
    assert settings is not None
    app.extensions[EXTENSION] = dataclasses.replace(settings, clock=FixedClock(VECTOR_TIMESTAMP + age))
    response = app.test_client().post(
        "/integrations/slack/commands",
        data=VECTOR_BODY,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(VECTOR_TIMESTAMP),
            "X-Slack-Signature": VECTOR_SIGNATURE,
        },
    )
    assert response.status_code == status
    if status == 200:
        # An empty text asks for the help, named after the command as this workspace calls it.
        reply = response.get_json()
        assert reply["response_type"] == "ephemeral"
        assert reply["text"].startswith("*/webhook-collect* — work an incident from Slack:")


def test_a_signed_command_is_answered(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    reply = run(client, "declare checkout returning 500s sev1")
    assert reply["response_type"] == "in_channel"
    assert counts(session) == (1, 1, 1, 1)


def refused(client: FlaskClient, body: bytes, **kw: Any) -> None:
    response = post_signed(client, body, **kw)
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "unauthenticated", "message": "invalid Slack signature"}}


def test_missing_signature_headers_are_refused(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    body = command_body("declare checkout down")
    for headers in (
        {"X-Slack-Signature": ""},
        {"X-Slack-Request-Timestamp": ""},
        {"X-Slack-Request-Timestamp": "not-a-time"},
        {"X-Slack-Request-Timestamp": "1e9"},
        {"X-Slack-Signature": "v0=" + "é" * 64},
    ):
        refused(client, body, headers=headers)
    response = client.post(
        "/integrations/slack/commands", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401
    assert counts(session) == (0, 0, 0, 0)
    assert standin.calls == []


def test_stale_future_and_wrong_signatures_are_refused(
    client: FlaskClient, session: Session, standin: SlackStandin
) -> None:
    body = command_body("declare checkout down")
    refused(client, body, at=time.time() - 301)
    refused(client, body, at=time.time() + 301)
    refused(client, body, secret="another-apps-secret")
    assert counts(session) == (0, 0, 0, 0)
    assert standin.calls == []


def test_a_replayed_request_is_refused_once_stale_and_when_its_body_changed(
    client: FlaskClient, session: Session
) -> None:
    body = command_body("declare checkout down sev2")
    timestamp = str(int(time.time()) - 301)
    captured = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(SECRET, timestamp, body),
    }
    # A request captured five minutes ago, sent again as it was.
    assert client.post("/integrations/slack/commands", data=body, headers=captured).status_code == 401
    # A fresh signature from one request, sent with another body.
    fresh = str(int(time.time()))
    headers = {**captured, "X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": signature(SECRET, fresh, body)}
    tampered = body.replace(b"sev2", b"sev1")
    assert client.post("/integrations/slack/commands", data=tampered, headers=headers).status_code == 401
    assert counts(session) == (0, 0, 0, 0)


def test_a_body_that_is_not_utf8_is_refused(client: FlaskClient, session: Session) -> None:
    body = command_body("declare checkout") + b"&extra=\xff\xfe"
    refused(client, body)
    assert counts(session) == (0, 0, 0, 0)


def test_ssl_check_gets_an_empty_200(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    response = post_signed(client, b"ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert counts(session) == (0, 0, 0, 0)
    assert standin.calls == []


def test_an_unsigned_ssl_check_gets_an_empty_200_and_nothing_else(client: FlaskClient, session: Session) -> None:
    response = client.post("/integrations/slack/commands", data=b"ssl_check=1&token=x")
    assert (response.status_code, response.get_data()) == (200, b"")
    # Only a bare probe: a command that claims to be one is still checked.
    disguised = command_body("declare checkout down", ssl_check="1")
    assert client.post("/integrations/slack/commands", data=disguised).status_code == 401
    assert counts(session) == (0, 0, 0, 0)


def test_the_command_keeps_no_session_cookie(client: FlaskClient, standin: SlackStandin) -> None:
    response = post_signed(client, command_body("help"))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_without_a_signing_secret_slack_is_off(tmp_path: Any) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert EXTENSION not in app.extensions
    response = post_signed(app.test_client(), command_body("help"))
    assert response.status_code == 404
    assert "slack" not in app.blueprints


SLACK_ON = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"SLACK_SIGNING_SECRET": "s"}, "KINTSUGI_SLACK_BOT_TOKEN must be set"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t", "SLACK_API_URL": "slack.com"}, "SLACK_API_URL"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t", "SLACK_CREATE_CHANNELS": "maybe"}, "CREATE_CHANNELS"),
        ({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t", "SLACK_ANNOUNCE_CHANNEL": "#Bad Name"}, "ANNOUNCE"),
        ({**SLACK_ON, "PUBLIC_URL": "kintsugi.example.com"}, "KINTSUGI_PUBLIC_URL must be an http"),
        ({**SLACK_ON, "SLACK_CHANNEL_NAME": "incident-{slug}"}, r"needs \{id\}"),
        ({**SLACK_ON, "SLACK_CHANNEL_NAME": "Inc-{id}"}, "only lowercase letters, digits"),
        ({**SLACK_ON, "SLACK_CHANNEL_NAME": "inc-{id}-{team}"}, r"\{team\} is not a placeholder"),
        ({**SLACK_ON, "SLACK_CHANNEL_NAME": "inc-{id}-{slug"}, "is not a pattern"),
        ({**SLACK_ON, "SLACK_CHANNEL_NAME": "x" * 70 + "-{id}"}, "longer than Slack's 80 characters"),
    ],
)
def test_wrong_settings_stop_the_start(tmp_path: Any, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", **config})


def test_settings_are_read_as_given() -> None:
    settings = read_settings(
        {
            "SLACK_SIGNING_SECRET": " s3cret ",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "SLACK_CREATE_CHANNELS": True,
            "SLACK_ANNOUNCE_CHANNEL": "#incidents",
            "SLACK_CHANNEL_NAME": "{date}_inc{id}",
            "PUBLIC_URL": "https://kintsugi.example.com/",
        }
    )
    assert settings is not None
    assert (settings.signing_secret, settings.bot_token, settings.api_url) == (
        "s3cret",
        "xoxb-1",
        "http://127.0.0.1:9/api/",
    )
    assert (settings.create_channels, settings.announce_channel) == (True, "#incidents")
    assert (settings.channel_name, settings.public_url) == ("{date}_inc{id}", "https://kintsugi.example.com")
    defaults = read_settings({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t"})
    assert defaults is not None
    assert (defaults.api_url, defaults.create_channels, defaults.announce_channel) == (
        "https://slack.com/api/",
        False,
        None,
    )
    assert (defaults.channel_name, defaults.public_url) == ("inc-{id}-{slug}", None)
    assert read_settings({"SLACK_SIGNING_SECRET": "  "}) is None


@pytest.mark.parametrize(("command", "shown"), [("/inc", "/inc"), ("", "/incident"), ("/`x` *bold*", "/incident")])
def test_replies_name_the_command_as_the_workspace_does(
    client: FlaskClient, standin: SlackStandin, command: str, shown: str
) -> None:
    reply = run(client, "help", command=command)
    assert reply["text"].startswith(f"*{shown}* — work an incident from Slack:")
    assert f"• `{shown} status [id]` — " in reply["text"]
