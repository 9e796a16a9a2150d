"""Accounts people can recover: their own password change, an admin's reset, `flask users set-password` and
`flask users list`, and deactivation (no sign-in, tokens refused at once, history kept)."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
from conftest import PASSWORD, csrf_of, make_user, sign_in, words_of
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from incidents.accounts.models import ExternalIdentity
from incidents.accounts.service import create_api_token
from incidents.database import get_session
from incidents.models import Role, User, utcnow

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)  # autouse: conftest's app takes it only when the test's fixtures name it
def app_config() -> dict[str, Any]:
    """A first wait long enough that a slow run still finds the throttle in force."""
    return {"LOGIN_FIRST_WAIT_SECONDS": 60}


def user(app: Flask, email: str) -> User:
    with app.app_context():
        found = get_session().scalars(select(User).where(User.email == email)).one()
        get_session().expunge(found)
        return found


def signed_in_client(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    answer = sign_in(client, email, password)
    assert answer.status_code == 302, words_of(answer.get_data(as_text=True))
    return client


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def flashes(page: str) -> list[str]:
    return [html.unescape(words_of(m)) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def change_password(client: FlaskClient, current: str, new: str, again: str | None = None) -> Any:
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'name="password-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no password form on the profile page"
    return client.post(
        "/account/password",
        data={
            "password-csrf_token": token.group(1),
            "password-current_password": current,
            "password-new_password": new,
            "password-confirm": new if again is None else again,
        },
    )


def change_account(client: FlaskClient, target: User, *, role: str, active: bool) -> str:
    """Post the admin's row form for target; the page drawn after it."""
    token = csrf_of(client.get("/admin/users").get_data(as_text=True))
    data = {f"u{target.id}-csrf_token": token, f"u{target.id}-role": role}
    if active:
        data[f"u{target.id}-is_active"] = "y"
    answer = client.post(f"/admin/users/{target.id}", data=data)
    assert answer.status_code == 302
    return client.get("/admin/users").get_data(as_text=True)


def reset(client: FlaskClient, target: User) -> Any:
    token = csrf_of(client.get("/").get_data(as_text=True))
    return client.post(f"/admin/users/{target.id}/password", data={"csrf_token": token})


def shown_password(page: str) -> str:
    found = re.search(r'id="new-password">([^<]+)<', page)
    assert found, "no new password on the page"
    return html.unescape(found.group(1))


# Changing one's own password


def test_changing_ones_password_keeps_this_browser_and_signs_out_the_others(app: Flask) -> None:
    make_user(app, "kim@example.com")
    here = signed_in_client(app, "kim@example.com")
    elsewhere = signed_in_client(app, "kim@example.com")
    answer = change_password(here, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 302 and answer.location == "/account"
    assert flashes(here.get("/account").get_data(as_text=True)) == [
        "Password changed. Any other browser signed in as you has been signed out."
    ]
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert sign_in(app.test_client(), "kim@example.com", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "kim@example.com", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "again", "status", "message"),
    [
        ("not my password", NEW_PASSWORD, None, 401, "The current password is not right."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", 400, "New password again: The two new passwords differ."),
        (PASSWORD, "too short", None, 422, "a password needs at least 12 characters"),
        (PASSWORD, PASSWORD, None, 422, "The new password is the same as the current one."),
        ("", NEW_PASSWORD, None, 400, "Current password: This field is required."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app: Flask, current: str, new: str, again: str | None, status: int, message: str
) -> None:
    make_user(app, "kim@example.com")
    client = signed_in_client(app, "kim@example.com")
    before = user(app, "kim@example.com")
    answer = change_password(client, current, new, again)
    assert answer.status_code == status
    page = answer.get_data(as_text=True)
    assert flashes(page) == [message]
    assert 'name="password-new_password"' in page  # the form is there to try again
    after = user(app, "kim@example.com")
    assert (after.password_hash, after.session_generation) == (before.password_hash, before.session_generation)
    assert is_signed_in(client)


def test_guessing_the_current_password_is_throttled_like_signing_in(app: Flask) -> None:
    make_user(app, "kim@example.com")
    client = signed_in_client(app, "kim@example.com")
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free + 1):
        assert change_password(client, "a wrong guess", NEW_PASSWORD).status_code == 401
    # Now even the right current password waits, and so does the sign-in form for this account here.
    answer = change_password(client, PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 429 and 50 <= int(answer.headers["Retry-After"]) <= 60
    assert re.fullmatch(r"Too many failed sign-ins\. Try again in \d\d seconds\.", flashes(answer.get_data(True))[0])
    assert sign_in(app.test_client(), "kim@example.com").status_code == 429
    # Another account from the same address is not held up.
    make_user(app, "ana@example.com")
    assert sign_in(app.test_client(), "ana@example.com").status_code == 302


def test_an_account_without_a_password_is_told_so_and_cannot_set_one_here(app: Flask) -> None:
    make_user(app, "kim@example.com")
    client = signed_in_client(app, "kim@example.com")
    with app.app_context():
        found = get_session().scalars(select(User).where(User.email == "kim@example.com")).one()
        found.password_hash = None  # as an account made by single sign-on has
        get_session().commit()
    page = client.get("/account").get_data(as_text=True)
    assert "Your account has no password. An admin can reset it to give you one." in words_of(page)
    assert 'name="password-new_password"' not in page
    token = csrf_of(page)
    answer = client.post(
        "/account/password",
        data={
            "password-csrf_token": token,
            "password-current_password": "anything at all",
            "password-new_password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 409
    assert flashes(answer.get_data(as_text=True)) == [
        "Your account has no password: you sign in through single sign-on."
    ]
    assert user(app, "kim@example.com").password_hash is None


# An admin's reset


def test_an_admin_reset_shows_a_new_password_once_and_ends_the_persons_sessions(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "kim@example.com")
    kim_browser = signed_in_client(app, "kim@example.com")
    ada = signed_in_client(app, "ada@example.com")
    kim = user(app, "kim@example.com")
    with caplog.at_level(logging.INFO, logger="incidents.accounts.service"):
        answer = reset(ada, kim)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    password = shown_password(page)
    assert len(password) >= 12
    assert "New password for Kim (kim@example.com). Pass it on privately; it is not shown again." in words_of(page)
    # Shown this once: not on the next drawing of the page, not in the stored hash, not in the log.
    assert password not in ada.get("/admin/users").get_data(as_text=True)
    assert password not in (user(app, "kim@example.com").password_hash or "")
    assert [r.getMessage() for r in caplog.records] == [
        f"password of account {kim.id} (kim@example.com) reset by admin {user(app, 'ada@example.com').id} "
        "(ada@example.com)"
    ]
    assert not is_signed_in(kim_browser)
    assert sign_in(app.test_client(), "kim@example.com", PASSWORD).status_code == 401
    kim_again = signed_in_client(app, "kim@example.com", password)
    # The person then picks their own, with the one they were given as the current one.
    assert change_password(kim_again, password, NEW_PASSWORD).status_code == 302


def test_only_an_admin_resets_and_not_their_own(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "kim@example.com")
    make_user(app, "ria@example.com")
    kim = signed_in_client(app, "kim@example.com")
    ria = user(app, "ria@example.com")
    answer = reset(kim, ria)
    assert answer.status_code == 302
    assert user(app, "ria@example.com").password_hash == ria.password_hash
    ada = signed_in_client(app, "ada@example.com")
    answer = reset(ada, user(app, "ada@example.com"))
    assert answer.status_code == 302
    assert flashes(ada.get("/admin/users").get_data(as_text=True)) == [
        "Change your own password on your profile page, with your current one."
    ]
    assert sign_in(app.test_client(), "ada@example.com").status_code == 302


# The commands


def test_set_password_from_standard_input_and_from_the_prompt(app: Flask) -> None:
    make_user(app, "kim@example.com")
    browser = signed_in_client(app, "kim@example.com")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", "KIM@example.com", "--password-stdin"], input=NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.output == "Password of KIM@example.com set; their open sessions have ended.\n"
    assert not is_signed_in(browser)
    assert sign_in(app.test_client(), "kim@example.com", NEW_PASSWORD).status_code == 302
    # Typed twice, not echoed; a mismatch is asked again.
    typed = "typed at the prompt"
    result = runner.invoke(
        args=["users", "set-password", "kim@example.com"], input=f"{typed}\nsomething else\n{typed}\n{typed}\n"
    )
    assert result.exit_code == 0, result.output
    assert "The two entered values do not match." in result.output
    assert typed not in result.output
    assert sign_in(app.test_client(), "kim@example.com", typed).status_code == 302


def test_set_password_refuses_unknown_people_and_short_passwords(app: Flask) -> None:
    make_user(app, "kim@example.com")
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["users", "set-password", "ghost@example.com", "--password-stdin"], input=PASSWORD)
    assert unknown.exit_code == 1
    assert unknown.output == "Error: no user with email ghost@example.com\n"
    short = runner.invoke(args=["users", "set-password", "kim@example.com", "--password-stdin"], input="short\n")
    assert short.exit_code == 1
    assert short.output == "Error: a password needs at least 12 characters\n"
    assert sign_in(app.test_client(), "kim@example.com").status_code == 302


def test_users_list_shows_who_exists_with_their_roles(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "vic@example.com", Role.VIEWER)
    make_user(app, "kim@example.com")
    with app.app_context():
        session = get_session()
        kim = session.scalars(select(User).where(User.email == "kim@example.com")).one()
        kim.is_active = False
        vic = session.scalars(select(User).where(User.email == "vic@example.com")).one()
        vic.password_hash = None
        when = utcnow().replace(year=2026, month=3, day=4, hour=5, minute=6)
        identity = ExternalIdentity(user_id=vic.id, issuer="https://id.example.com", subject="v1", last_sign_in_at=when)
        session.add(identity)
        session.commit()
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = [line.split("  ") for line in result.output.splitlines()]
    cells = [[cell.strip() for cell in line if cell.strip()] for line in lines]
    assert cells == [
        ["EMAIL", "NAME", "ROLE", "STATE", "SIGNS IN WITH", "LAST SINGLE SIGN-ON (UTC)"],
        ["ada@example.com", "Ada", "admin", "active", "password", "-"],
        ["kim@example.com", "Kim", "responder", "deactivated", "password", "-"],
        ["vic@example.com", "Vic", "viewer", "active", "single sign-on", "2026-03-04 05:06"],
    ]


# Deactivation


def test_a_deactivated_account_cannot_sign_in_and_its_tokens_stop_at_once(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "kim@example.com")
    kim = user(app, "kim@example.com")
    with app.app_context():
        _, secret = create_api_token(get_session(), user_id=kim.id)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/me", headers=bearer).get_json()["email"] == "kim@example.com"
    kim_browser = signed_in_client(app, "kim@example.com")
    ada = signed_in_client(app, "ada@example.com")

    page = change_account(ada, kim, role="responder", active=False)
    assert "Kim: responder, deactivated." in flashes(page)
    refused = api.get("/api/me", headers=bearer)
    assert refused.status_code == 401
    said = refused.get_json()["error"]["message"]
    assert said == "the API token is unknown or revoked, or its account is deactivated"
    assert not is_signed_in(kim_browser)
    answer = sign_in(app.test_client(), "kim@example.com")
    assert answer.status_code == 403
    assert flashes(answer.get_data(as_text=True)) == ["This account is deactivated. Ask an admin to reactivate it."]
    # A wrong password is told nothing about the account.
    wrong = sign_in(app.test_client(), "kim@example.com", "not the password")
    assert wrong.status_code == 401
    assert flashes(wrong.get_data(as_text=True)) == ["That email and password do not match an active account."]

    change_account(ada, kim, role="responder", active=True)
    assert api.get("/api/me", headers=bearer).status_code == 200
    assert sign_in(app.test_client(), "kim@example.com").status_code == 302


def test_a_deactivated_persons_history_stays_under_their_name(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "kim@example.com")
    kim = user(app, "kim@example.com")
    with app.app_context():
        _, secret = create_api_token(get_session(), user_id=kim.id)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    created = api.post("/api/incidents", json={"title": "Queue backlog", "severity": "SEV3"}, headers=bearer)
    assert created.status_code == 201, created.get_json()
    incident_id = created.get_json()["id"]
    entry = api.post(
        f"/api/incidents/{incident_id}/timeline", json={"text": "Drained the dead-letter queue"}, headers=bearer
    )
    assert entry.status_code == 201, entry.get_json()
    ada = signed_in_client(app, "ada@example.com")
    change_account(ada, kim, role="responder", active=False)
    assert api.get(f"/api/incidents/{incident_id}/timeline", headers=bearer).status_code == 401
    with app.app_context():
        _, ada_secret = create_api_token(get_session(), user_id=user(app, "ada@example.com").id)
    entries = api.get(f"/api/incidents/{incident_id}/timeline", headers={"Authorization": f"Bearer {ada_secret}"})
    kept = [e for e in entries.get_json()["entries"] if e["text"] == "Drained the dead-letter queue"]
    assert [e["actor"] for e in kept] == [{"id": kim.id, "name": "Kim"}]
    page = words_of(ada.get(f"/incidents/{incident_id}").get_data(as_text=True))
    assert "Drained the dead-letter queue" in page
    edit = words_of(ada.get(f"/incidents/{incident_id}/timeline/{entry.get_json()['id']}/edit").get_data(as_text=True))
    assert "by Kim (api)" in edit
    users_page = ada.get("/admin/users").get_data(as_text=True)
    assert re.search(r"Kim <span class=\"badge\">deactivated</span>", users_page)


def test_the_last_active_admin_can_neither_leave_nor_step_down(app: Flask) -> None:
    make_user(app, "ada@example.com", Role.ADMIN)
    ada_user = user(app, "ada@example.com")
    ada = signed_in_client(app, "ada@example.com")
    page = change_account(ada, ada_user, role="admin", active=False)
    assert flashes(page) == ["this would leave no active admin; make someone else admin first"]
    page = change_account(ada, ada_user, role="viewer", active=True)
    assert flashes(page) == ["this would leave no active admin; make someone else admin first"]
    assert (user(app, "ada@example.com").role, user(app, "ada@example.com").is_active) == (Role.ADMIN, True)
    assert is_signed_in(ada)
    # With a second admin, stepping away is allowed, and ends this admin's own sessions.
    make_user(app, "bo@example.com", Role.ADMIN)
    change_account(ada, ada_user, role="admin", active=False)
    assert not is_signed_in(ada)
    assert user(app, "ada@example.com").is_active is False
