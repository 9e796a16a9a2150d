"""Who typed a command: Slack members matched to accounts by email, remembered, and the stand-in itself."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from slack_requests import ALICE, run, slack_settings
from slack_standin import SlackStandin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.accounts.models import ExternalIdentity
from incidents.accounts.service_chat import person_known_to_chat, remember_chat_person
from incidents.accounts.service_sso import linked_user_ids
from incidents.errors import InvalidInput
from incidents.models import Incident, Role, User
from integrations.slack.people import ISSUER, person_of, web_client
from integrations.slack.settings import EXTENSION, read_settings


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "Riley@Example.com", "Riley Responder")
    yield slack
    slack.stop()


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


def test_a_new_member_becomes_a_responder_once(app: Flask, session: Session, standin: SlackStandin) -> None:
    settings = read_settings(app.config)
    assert settings is not None
    first = person_of(session, settings, ALICE)
    again = person_of(session, settings, ALICE)
    assert (first.id, first.email, first.name, first.role) == (
        again.id,
        "riley@example.com",
        "Riley Responder",
        Role.RESPONDER,
    )
    assert len(standin.calls_of("users.info")) == 1
    assert person_known_to_chat(session, issuer=ISSUER, subject=ALICE) == first


def test_a_deactivated_account_acts_nowhere_from_slack(
    client: FlaskClient, session: Session, make_caller: Any, standin: SlackStandin
) -> None:
    riley = make_caller("responder", email="riley@example.com", name="Riley Responder").user
    assert run(client, "declare checkout down")["response_type"] == "in_channel"
    account = session.get(User, riley.id)
    assert account is not None
    account.is_active = False
    session.commit()
    reply = run(client, "declare payments down")
    assert reply == {
        "response_type": "ephemeral",
        "text": f"The Kintsugi account of <@{ALICE}> is deactivated: ask a Kintsugi admin.",
    }
    assert session.scalar(select(func.count(Incident.id))) == 1


def test_an_existing_account_is_matched_without_case(session: Session, make_caller: Any) -> None:
    known = make_caller("admin", email="ada@example.com", name="Ada Admin").user
    matched = remember_chat_person(session, issuer=ISSUER, subject="U0ADA0001", email="ADA@example.com", name="Ada L.")
    assert (matched.id, matched.name, matched.role) == (known.id, "Ada Admin", Role.ADMIN)
    assert session.scalar(select(func.count(User.id))) == 1
    # Remembered: the same member again, even under another email, is the same account.
    again = remember_chat_person(session, issuer=ISSUER, subject="U0ADA0001", email="other@example.com", name=None)
    assert again.id == known.id
    assert session.scalar(select(func.count(ExternalIdentity.id))) == 1


def test_an_unusable_email_is_refused_and_nothing_kept(
    client: FlaskClient, session: Session, standin: SlackStandin
) -> None:
    standin.add_member("U0ODD0001", "not-an-email", "Odd Profile")
    reply = run(client, "declare checkout down", user_id="U0ODD0001")
    assert reply == {"response_type": "ephemeral", "text": "'not-an-email' is not an email address."}
    assert (session.scalar(select(func.count(User.id))), session.scalar(select(func.count(Incident.id)))) == (0, 0)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_slack_out_of_reach_is_told(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["SLACK_API_URL"] = f"http://127.0.0.1:{closed_port()}/api/"
    settings = read_settings(app.config)
    assert settings is not None
    app.extensions[EXTENSION] = settings
    reply = run(client, "declare checkout down")
    assert reply == {
        "response_type": "ephemeral",
        "text": "Kintsugi could not reach Slack to look you up; try again in a moment.",
    }
    assert session.scalar(select(func.count(Incident.id))) == 0


def test_the_standin_records_json_and_form_calls(app: Flask, standin: SlackStandin) -> None:
    settings = read_settings(app.config)
    assert settings is not None
    client = web_client(settings)
    assert client.users_info(user=ALICE)["user"]["profile"]["email"] == "Riley@Example.com"
    standin.answer_next("chat.postMessage", 200, {"ok": True, "channel": "C0INC0001", "ts": "1732255200.000100"})
    posted = client.chat_postMessage(channel="C0INC0001", text="Mitigated 🎉", thread_ts="1732255200.000100")
    assert posted["ts"] == "1732255200.000100"
    info, post = standin.calls
    assert (info.method, info.body, info.content_type) == (
        "users.info",
        {"user": ALICE},
        "application/x-www-form-urlencoded",
    )
    assert (post.method, post.body, post.authorization) == (
        "chat.postMessage",
        {"channel": "C0INC0001", "text": "Mitigated 🎉", "thread_ts": "1732255200.000100"},
        "Bearer xoxb-test-token",
    )
    assert post.content_type.startswith("application/json")


def test_a_member_known_to_slack_is_not_marked_as_signing_in_with_it(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    run(client, "help")
    run(client, "declare checkout down")
    riley = session.scalar(select(User).where(User.email == "riley@example.com"))
    assert riley is not None
    assert linked_user_ids(session) == set()
    browser = app.test_client()
    assert sign_in(browser, "ada@example.com").status_code == 302
    page = browser.get("/admin/users").get_data(as_text=True)
    assert "riley@example.com</td>" in page
    assert "single sign-on" not in page.split("riley@example.com", 1)[1].split("</td>", 1)[0]


def test_only_chat_workspaces_are_remembered_this_way(session: Session) -> None:
    with pytest.raises(InvalidInput, match="is not a chat workspace"):
        remember_chat_person(session, issuer="https://id.example", subject="42", email="a@example.com", name=None)
