"""Signing out ends the session: a cookie copied before then is refused, and so is one from before a new
password or a deactivation."""

from __future__ import annotations

from conftest import PASSWORD, csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient

from incidents.accounts.service import change_account, set_password
from incidents.database import get_session
from incidents.models import Role, User


def signed_in_cookie(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    cookie = client.get_cookie("kintsugi_session")
    assert cookie is not None
    assert client.get("/").status_code == 200
    return client, cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("kintsugi_session", value)
    return other


def test_a_cookie_copied_before_sign_out_is_refused_after(app: Flask) -> None:
    make_user(app, "kim@example.com")
    client, copied = signed_in_cookie(app, "kim@example.com")
    assert with_cookie(app, copied).get("/").status_code == 200  # the copy works while signed in
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    stolen = with_cookie(app, copied).get("/")
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]
    # Signing in again works, with a new session.
    assert signed_in_cookie(app, "kim@example.com")[0].get("/").status_code == 200


def test_a_new_password_or_a_deactivation_ends_open_sessions(app: Flask) -> None:
    make_user(app, "kim@example.com")
    make_user(app, "ada@example.com", Role.ADMIN)
    _, before_password = signed_in_cookie(app, "kim@example.com")
    with app.app_context():
        kim = get_session().query(User).filter_by(email="kim@example.com").one()
        set_password(get_session(), user_id=kim.id, password=PASSWORD + "!")
    assert with_cookie(app, before_password).get("/").status_code == 302
    client = app.test_client()
    assert sign_in(client, "kim@example.com", PASSWORD + "!").status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        session = get_session()
        ada = session.query(User).filter_by(email="ada@example.com").one()
        kim = session.query(User).filter_by(email="kim@example.com").one()
        change_account(session, actor=ada, user_id=kim.id, is_active=False)
    assert client.get("/").status_code == 302
