"""Where a form may send a person back to: paths on this site only, read as a browser reads them."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Caller, csrf_of, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient

from incidents.accounts.auth import safe_next
from incidents.models import Role


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " //evil.example",
        "/\x00/evil.example",
        "evil.example",
        "",
    ],
)
def test_anything_but_a_local_path_goes_to_the_default(app: Flask, target: str) -> None:
    with app.test_request_context():
        assert safe_next(target, "/fallback") == "/fallback"
        assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("target", "kept"),
    [("/incidents/7", "/incidents/7"), ("/incidents?status=open#x", "/incidents?status=open#x"), (" /me ", "/me")],
)
def test_a_local_path_is_kept(app: Flask, target: str, kept: str) -> None:
    with app.test_request_context():
        assert safe_next(target, "/fallback") == kept


HEADER_INJECTIONS = [
    "/incidents\r\nSet-Cookie: evil=1",
    "/incidents\nSet-Cookie: evil=1",
    "/\r\n/evil.example",
    "\r\nLocation: https://evil.example/",
    "/incidents\u2028Set-Cookie: evil=1",
    "/incidents\x85Set-Cookie: evil=1",
]


def where_to(answer: Any) -> str:
    """The redirect's target, after checking that it is one local path and that nothing else was set."""
    assert answer.status_code == 302, answer.get_data(as_text=True)[:200]
    location = answer.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert location.startswith("/") and not location.startswith("//"), location
    assert not any("evil" in cookie for cookie in answer.headers.getlist("Set-Cookie"))
    assert "evil.example" not in location
    return str(location)


@pytest.fixture
def kim(app: Flask) -> FlaskClient:
    make_user(app, "kim@example.com", role=Role.ADMIN)
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    return browser


@pytest.mark.parametrize("target", HEADER_INJECTIONS)
def test_line_breaks_in_back_are_never_a_header_nor_an_error(kim: FlaskClient, target: str) -> None:
    token = csrf_of(kim.get("/account").get_data(as_text=True))
    where_to(kim.post("/account/zone-view", data={"csrf_token": token, "back": target}))


@pytest.mark.parametrize("target", HEADER_INJECTIONS)
def test_line_breaks_in_back_from_the_action_items_list(admin: Caller, kim: FlaskClient, target: str) -> None:
    caller = admin
    incident = caller.post("/api/incidents", {"title": "Checkout errors", "severity": "SEV2"}).get_json()
    postmortem = caller.post(f"/api/incidents/{incident['id']}/postmortem", {}).get_json()
    item = caller.post(
        f"/api/postmortems/{postmortem['id']}/action-items", {"title": "Add a canary", "owner": "kim@example.com"}
    ).get_json()
    token = csrf_of(kim.get("/action-items").get_data(as_text=True))
    url = f"/postmortems/{postmortem['id']}/action-items/{item['id']}/status"
    where_to(kim.post(url, data={"csrf_token": token, "status": "in_progress", "back": target}))


@pytest.mark.parametrize("target", HEADER_INJECTIONS)
def test_line_breaks_in_next_at_sign_in(app: Flask, target: str) -> None:
    make_user(app, "kim@example.com")
    browser = app.test_client()
    assert browser.get("/login", query_string={"next": target}).status_code == 200
    where_to(sign_in(browser, "kim@example.com", next_url=target))
