"""The library's Atom feeds: valid Atom 1.0 of published post-mortems (all, per service, per tag), read
with a signed-in session or a personal feed token; a bad token, a deactivated account's token or no
credentials get a 401 and no content; a restricted post-mortem only in the feeds of those who may see it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import PASSWORD, Caller, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from library import index_now, published
from sqlalchemy import select

from incidents.accounts.service import change_account
from incidents.database import get_session
from incidents.models import Role, User

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")

ATOM = "{http://www.w3.org/2005/Atom}"
FACTOR = [("design decision", "One pool served every service")]


def browser(app: Flask, email: str, role: Role = Role.RESPONDER) -> FlaskClient:
    make_user(app, email, role)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def feed_address(client: FlaskClient, path: str = "/library") -> str:
    """The feed address a page shows its reader (with their token), as a path and query."""
    html = client.get(path).get_data(as_text=True)
    shown = re.search(r'<code class="secret">([^<]+)</code>', html)
    assert shown, "no feed address on the page"
    url = urlsplit(shown.group(1).replace("&amp;", "&"))
    discovered = re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)">', html)
    assert discovered and discovered.group(1) == shown.group(1)
    return f"{url.path}?{url.query}"


def token_of(address: str) -> str:
    return parse_qs(urlsplit(address).query)["token"][0]


def read_feed(client: FlaskClient, address: str) -> ET.Element:
    answer = client.get(address)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert "private" in answer.headers["Cache-Control"]
    return ET.fromstring(answer.get_data())


def entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title", "") for entry in feed.findall(f"{ATOM}entry")]


@pytest.fixture
def posted(app: Flask, make_caller: Any, responder: Caller) -> dict[str, Any]:
    """Three open post-mortems, published in this order, and a restricted one of its insider."""
    found = {
        "pool": published(
            responder,
            title="Checkout pool exhausted",
            summary="Checkout failed for **40 minutes**.",
            services=["checkout"],
            tags=("database",),
            factors=FACTOR,
            started_at="2024-06-01T10:00:00+00:00",
        ),
        "odd": published(
            responder,
            title='Queue <b>stuck</b> & "drained" \x01 again',
            summary="Markup <script>alert(1)</script> & a bell \x07 in the text.",
            services=["queue"],
            factors=[("tooling", "The drain script had no dry run")],
            started_at="2025-01-01T10:00:00+00:00",
        ),
        "cert": published(
            responder,
            title="Edge certificate expired",
            summary="The certificate expired overnight.",
            services=["edge", "Checkout"],
            tags=("tls",),
            factors=[("detection", "No alert watched expiry dates")],
            started_at="2025-02-01T03:00:00+00:00",
        ),
    }
    insider = make_caller("responder", email="insider@example.com", name="Ina", password=PASSWORD, timezone="UTC")
    found["secret"] = published(
        insider,
        title="Credential leak in the zanzibarite vault",
        summary="Keys of the zanzibarite vault were exposed.",
        services=["checkout"],
        tags=("tls",),
        factors=[("dependency", "The vault shared its keys")],
        visibility="restricted",
    )
    index_now(app)
    return found


def test_the_feed_is_atom_with_every_element_a_reader_needs(app: Flask, posted: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    address = feed_address(client)
    assert address.startswith("/library/feed.atom?token=")
    feed = read_feed(app.test_client(), address)  # a feed reader: no session, only the address
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "http://localhost/library/feed.atom"
    assert feed.findtext(f"{ATOM}title") == "Kintsugi: published post-mortems"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Kintsugi"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"http://localhost{address}", "alternate": "http://localhost/library"}
    assert entry_titles(feed) == [
        "Edge certificate expired",
        'Queue <b>stuck</b> & "drained"  again',  # markup kept as text; a control character dropped
        "Checkout pool exhausted",
    ]
    entries = feed.findall(f"{ATOM}entry")
    newest = entries[0]
    url = f"http://localhost/postmortems/{posted['cert']['id']}/document"
    assert newest.findtext(f"{ATOM}id") == url
    assert newest.find(f"{ATOM}link").get("href") == url  # type: ignore[union-attr]
    published_at = datetime.fromisoformat(newest.findtext(f"{ATOM}published", "").replace("Z", "+00:00"))
    updated_at = datetime.fromisoformat(newest.findtext(f"{ATOM}updated", "").replace("Z", "+00:00"))
    assert published_at.tzinfo is not None and updated_at >= published_at
    assert feed.findtext(f"{ATOM}updated") == max(e.findtext(f"{ATOM}updated", "") for e in entries)
    assert newest.find(f"{ATOM}summary").get("type") == "text"  # type: ignore[union-attr]
    assert newest.findtext(f"{ATOM}summary") == "The certificate expired overnight."
    terms = {(c.get("term"), c.get("scheme")) for c in newest.findall(f"{ATOM}category")}
    assert terms == {
        ("Checkout", "http://localhost/library/service"),
        ("edge", "http://localhost/library/service"),
        ("tls", "http://localhost/library/tag"),
        ("detection", "http://localhost/library/category"),
    }
    assert entries[1].findtext(f"{ATOM}summary") == "Markup <script>alert(1)</script> & a bell  in the text."


def test_a_feed_per_service_and_per_tag(app: Flask, posted: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    address = feed_address(client, "/library/service/checkout")
    assert address.startswith("/library/service/checkout/feed.atom?token=")
    feed = read_feed(app.test_client(), address)
    # A label is matched in any letter case, as the shelf counts it.
    assert entry_titles(feed) == ["Edge certificate expired", "Checkout pool exhausted"]
    assert feed.findtext(f"{ATOM}title") == "Kintsugi: post-mortems of service checkout"
    assert feed.findtext(f"{ATOM}id") == "http://localhost/library/service/checkout/feed.atom"
    tag = read_feed(app.test_client(), feed_address(client, "/library/tag/tls"))
    assert entry_titles(tag) == ["Edge certificate expired"]
    nothing = read_feed(client, "/library/tag/no-such-tag/feed.atom")
    assert entry_titles(nothing) == [] and nothing.findtext(f"{ATOM}updated")
    # Teams, categories and years have shelves, not feeds.
    assert '<code class="secret">' not in client.get("/library/team/x").get_data(as_text=True)
    assert client.get("/library/team/x/feed.atom").status_code == 200  # a shelf of the value "x/feed.atom"
    assert client.get("/library/severity/SEV1/feed.atom").status_code == 404


def test_a_signed_in_session_reads_the_feed_without_a_token(app: Flask, posted: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    feed = read_feed(client, "/library/feed.atom")
    assert len(entry_titles(feed)) == 3
    assert {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}["self"] == (
        "http://localhost/library/feed.atom"
    )


@pytest.mark.parametrize(
    "address",
    [
        "/library/feed.atom",
        "/library/feed.atom?token=",
        "/library/feed.atom?token=nonsense",
        "/library/feed.atom?token=MQ.forged-signature",
        "/library/service/checkout/feed.atom?token=" + "x" * 5000,
    ],
)
def test_no_token_or_a_bad_one_is_refused_with_no_content(app: Flask, posted: dict[str, Any], address: str) -> None:
    answer = app.test_client().get(address)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = answer.get_data(as_text=True)
    assert "library page" in text and "<entry" not in text and "Checkout" not in text


def test_a_token_is_the_users_own_and_not_anothers(app: Flask, posted: dict[str, Any]) -> None:
    kim = feed_address(browser(app, "kim@example.com"))
    ada = feed_address(browser(app, "ada@example.com"))
    assert token_of(kim) != token_of(ada)
    # A token altered by a character opens nothing; nor does one signed with the same key for another purpose.
    tampered = token_of(kim)[:-2] + ("AA" if not token_of(kim).endswith("AA") else "BB")
    assert app.test_client().get(f"/library/feed.atom?token={tampered}").status_code == 401
    with app.test_request_context():
        from itsdangerous import URLSafeSerializer

        other_salt = URLSafeSerializer(app.secret_key, salt="itsdangerous").dumps(1)  # type: ignore[arg-type]
    assert app.test_client().get(f"/library/feed.atom?token={other_salt}").status_code == 401


def test_a_deactivated_accounts_token_stops_working(app: Flask, posted: dict[str, Any]) -> None:
    address = feed_address(browser(app, "kim@example.com"))
    reader = app.test_client()
    assert reader.get(address).status_code == 200
    make_user(app, "boss@example.com", Role.ADMIN)
    with app.app_context():
        session = get_session()
        boss = session.scalar(select(User).where(User.email == "boss@example.com"))
        kim = session.scalar(select(User).where(User.email == "kim@example.com"))
        assert boss is not None and kim is not None
        change_account(session, actor=boss, user_id=kim.id, is_active=False)
    refused = reader.get(address)
    assert refused.status_code == 401 and b"<entry" not in refused.get_data()
    with app.app_context():
        session = get_session()
        boss = session.scalar(select(User).where(User.email == "boss@example.com"))
        assert boss is not None
        change_account(session, actor=boss, user_id=kim.id, is_active=True)
    assert reader.get(address).status_code == 200


def test_a_restricted_post_mortem_is_only_in_the_feeds_of_those_who_may_see_it(
    app: Flask, posted: dict[str, Any]
) -> None:
    secret = "Credential leak in the zanzibarite vault"
    outsider = browser(app, "out@example.com", Role.VIEWER)
    insider = app.test_client()
    assert sign_in(insider, "insider@example.com").status_code == 302
    admin = browser(app, "boss@example.com", Role.ADMIN)
    for path in ("/library", "/library/service/checkout", "/library/tag/tls"):
        seen = app.test_client().get(feed_address(outsider, path)).get_data(as_text=True)
        assert "zanzibarite" not in seen and "dependency" not in seen
        for client in (insider, admin):
            assert secret in entry_titles(read_feed(app.test_client(), feed_address(client, path)))
    assert "zanzibarite" not in outsider.get("/library/feed.atom").get_data(as_text=True)


def test_a_feed_holds_only_the_newest_entries(app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    from search.library import service

    monkeypatch.setattr(service, "FEED_ENTRIES", 2)
    for n in range(3):
        published(responder, title=f"Stall {n}", summary="x", services=["q"], factors=FACTOR)
    index_now(app)
    client = browser(app, "kim@example.com")
    assert entry_titles(read_feed(client, "/library/feed.atom")) == ["Stall 2", "Stall 1"]


def test_a_label_in_another_case_and_beyond_ascii_has_its_feed(app: Flask, responder: Caller) -> None:
    published(responder, title="Zürich rack lost power", summary="x", services=["Zürich-DC"], factors=FACTOR)
    index_now(app)
    client = browser(app, "kim@example.com")
    html = client.get("/library").get_data(as_text=True)
    assert 'href="/library/service/z%C3%BCrich-dc"' in html  # as the engine counts it
    address = feed_address(client, "/library/service/z%C3%BCrich-dc")
    assert entry_titles(read_feed(app.test_client(), address)) == ["Zürich rack lost power"]
    assert entry_titles(read_feed(client, "/library/service/Z%C3%9CRICH-DC/feed.atom")) == ["Zürich rack lost power"]
