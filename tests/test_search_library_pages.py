"""The library's pages: the front page (recently published, this day in incident history, what to browse
by, with counts), shelves of one service, team, tag, category or year a page at a time, every value of
a facet; and a restricted post-mortem nowhere for someone outside it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from conftest import PASSWORD, Caller, declare, make_user, sign_in, words_of
from flask import Flask
from flask.testing import FlaskClient
from library import index_now, published
from sqlalchemy import select

from incidents.database import get_session
from incidents.library import anniversaries, day_ranges, published_on_this_day, recently_published
from incidents.models import Role, User
from search.library import service as library_service

# Every test here runs against each engine the run offers (see conftest.pytest_generate_tests).
pytestmark = pytest.mark.usefixtures("search_backend")

FACTOR = [("design decision", "One pool served every service")]


def browser(app: Flask, email: str, role: Role = Role.RESPONDER, zone: str | None = "UTC") -> FlaskClient:
    """A signed-in browser of a new account."""
    make_user(app, email, role, zone)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code)
    text: str = answer.get_data(as_text=True)
    return text


def section(html: str, heading_id: str) -> str:
    """What follows the heading of this id, up to the next h2 or the end of the page's main part."""
    start = html.index(f'id="{heading_id}"')
    end = min(i for i in (html.find("<h2", start), html.find("</main>", start), len(html)) if i != -1)
    return html[start:end]


def titles_in(html: str) -> list[str]:
    """The titles a list of post-mortems links, in order."""
    return re.findall(r'<a href="/postmortems/\d+/document">([^<]+)</a>', html)


def counts_in(html: str, facet: str) -> dict[str, int]:
    """Shelf links of a facet with their counts."""
    found = re.findall(rf'<a href="/library/{facet}/[^"]+">([^<]+)</a> <span class="count">(\d+)</span>', html)
    return {value: int(count) for value, count in found}


def earlier_years(today: date, count: int) -> list[int]:
    """The latest earlier years that have today's month and day (February 29th: leap years only)."""
    years = []
    for year in range(today.year - 1, today.year - 40, -1):
        try:
            date(year, today.month, today.day)
        except ValueError:
            continue
        years.append(year)
        if len(years) == count:
            break
    return years


@pytest.fixture
def shelves(app: Flask, responder: Caller) -> dict[str, Any]:
    """Three published post-mortems, published in this order, and an incident with no post-mortem."""
    found = {
        "pool": published(
            responder,
            title="Checkout pool exhausted",
            summary="Checkout failed for 40 minutes.",
            services=["checkout"],
            teams=("payments-team",),
            tags=("database",),
            factors=FACTOR,
            started_at="2024-06-01T10:00:00+00:00",
        ),
        "cert": published(
            responder,
            title="Edge certificate expired",
            summary="The certificate expired overnight.",
            services=["edge", "checkout"],
            tags=("tls",),
            factors=[("detection", "No alert watched expiry dates")],
            started_at="2025-02-01T03:00:00+00:00",
        ),
        "evict": published(
            responder,
            title="Payments pods evicted",
            summary="Memory pressure evicted the payments pods.",
            services=["payments"],
            teams=("payments-team",),
            tags=("database",),
            factors=[("tooling", "Limits were copied from staging")],
            started_at="2025-04-05T08:00:00+00:00",
            severity="SEV1",
        ),
    }
    declare(responder, title="Resolver timeouts", services=["dns"])
    index_now(app)
    return found


def published_on(responder: Caller, title: str, started_at: str) -> None:
    """A published post-mortem of an incident that began then, with nothing else to tell it apart."""
    published(responder, title=title, summary="x", services=["a"], factors=FACTOR, started_at=started_at)


def test_the_front_page_lists_recently_published_newest_first(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    html = page(client, "/library")
    recent = section(html, "recent-h")
    assert titles_in(recent) == ["Payments pods evicted", "Edge certificate expired", "Checkout pool exhausted"]
    words = words_of(recent)
    assert "SEV1 · began 2025-04-05 · published" in words
    assert "Resolver timeouts" not in html  # an incident without a post-mortem is not on a shelf
    assert f"published {datetime.now(UTC):%Y-%m-%d}" in words
    assert "3 published post-mortems" in words_of(html)


def test_the_main_nav_leads_to_the_library(app: Flask) -> None:
    client = browser(app, "kim@example.com")
    assert '<a href="/library">Library</a>' in page(client, "/")


def test_the_browse_lists_count_each_value(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com", Role.VIEWER)
    browse = section(page(client, "/library"), "browse-h")
    assert counts_in(browse, "service") == {"checkout": 2, "edge": 1, "payments": 1}
    assert counts_in(browse, "team") == {"payments-team": 2}
    assert counts_in(browse, "tag") == {"database": 2, "tls": 1}
    assert counts_in(browse, "category") == {"design decision": 1, "detection": 1, "tooling": 1}
    assert counts_in(browse, "year") == {"2025": 2, "2024": 1}
    # Years newest first; the rest most used first.
    assert list(counts_in(browse, "year")) == ["2025", "2024"]
    assert next(iter(counts_in(browse, "service"))) == "checkout"


def test_a_shelf_lists_its_post_mortems_newest_incident_first(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    html = page(client, "/library/service/checkout")
    assert titles_in(html) == ["Edge certificate expired", "Checkout pool exhausted"]
    assert "2 published post-mortems" in words_of(html)
    assert titles_in(page(client, "/library/team/payments-team")) == [
        "Payments pods evicted",
        "Checkout pool exhausted",
    ]
    assert titles_in(page(client, "/library/tag/tls")) == ["Edge certificate expired"]
    assert titles_in(page(client, "/library/category/tooling")) == ["Payments pods evicted"]
    assert titles_in(page(client, "/library/year/2024")) == ["Checkout pool exhausted"]
    # Values are matched as the engine counts them, whatever their case.
    assert titles_in(page(client, "/library/service/CHECKOUT")) == titles_in(html)


def test_every_value_of_a_facet_has_a_page(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    html = page(client, "/library/service")
    assert counts_in(html, "service") == {"checkout": 2, "edge": 1, "payments": 1}
    assert list(counts_in(html, "service")) == ["checkout", "edge", "payments"]  # by name
    assert list(counts_in(page(client, "/library/year"), "year")) == ["2025", "2024"]
    assert 'href="/library/service"' in page(client, "/library")


def test_an_empty_shelf_is_a_friendly_page(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    html = page(client, "/library/service/no-such-service")
    assert "Nothing on this shelf" in html and titles_in(html) == []
    assert "Nothing on this shelf" in page(client, "/library/year/1999")
    assert "Nothing on this shelf" in page(client, "/library/tag/a%2Fb%20c")


@pytest.mark.parametrize(
    "path",
    [
        "/library/severity",
        "/library/severity/SEV1",
        "/library/type/postmortem",
        "/library/nosuch",
        "/library/nosuch/value",
        "/library/service/checkout?page=0",
        "/library/service/checkout?page=2",
        "/library/service/checkout?page=99999999999999999999",
    ],
)
def test_unknown_facets_and_pages_are_404(app: Flask, shelves: dict[str, Any], path: str) -> None:
    client = browser(app, "kim@example.com")
    assert client.get(path).status_code == 404


def test_a_value_with_a_slash_has_a_shelf(app: Flask, responder: Caller) -> None:
    published(responder, title="Gateway v2 timeouts", summary="Timeouts.", services=["api/v2"], factors=FACTOR)
    index_now(app)
    client = browser(app, "kim@example.com")
    html = page(client, "/library")
    assert 'href="/library/service/api/v2"' in html
    assert titles_in(page(client, "/library/service/api/v2")) == ["Gateway v2 timeouts"]


def test_shelves_come_a_page_at_a_time(app: Flask, responder: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library_service, "SHELF_PAGE", 2)
    for n in range(5):
        published(
            responder,
            title=f"Queue stall {n}",
            summary="The queue stalled.",
            services=["queue"],
            factors=FACTOR,
            started_at=f"2025-01-0{n + 1}T10:00:00+00:00",
        )
    index_now(app)
    client = browser(app, "kim@example.com")
    first = page(client, "/library/service/queue")
    assert titles_in(first) == ["Queue stall 4", "Queue stall 3"]
    assert "page 1 of 3" in words_of(first)
    assert 'href="/library/service/queue?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = page(client, "/library/service/queue?page=2")
    assert titles_in(second) == ["Queue stall 2", "Queue stall 1"]
    assert 'rel="prev"' in second and 'rel="next"' in second
    last = page(client, "/library/service/queue?page=3")
    assert titles_in(last) == ["Queue stall 0"] and 'rel="next"' not in last
    assert client.get("/library/service/queue?page=4").status_code == 404


def test_this_day_in_incident_history_on_the_front_page(app: Flask, responder: Caller) -> None:
    today = datetime.now(UTC).date()
    two, five = earlier_years(today, 2)[0], earlier_years(today, 5)[-1]
    md = f"{today.month:02d}-{today.day:02d}"
    published_on(responder, "Anniversary two", f"{two}-{md}T12:00:00+00:00")
    published_on(responder, "Anniversary five", f"{five}-{md}T00:00:00+00:00")
    other = today - timedelta(days=400)
    published_on(responder, "Another day", f"{other.isoformat()}T12:00:00+00:00")
    index_now(app)
    client = browser(app, "kim@example.com", zone="UTC")
    history = section(page(client, "/library"), "this-day-h")
    assert titles_in(history) == ["Anniversary two", "Anniversary five"]
    assert f"({today.year - two} years ago)" in words_of(history)
    assert f"{today.day} {today:%B}" in words_of(history)


def test_nothing_happened_on_this_day(app: Flask, responder: Caller) -> None:
    other = datetime.now(UTC).date() - timedelta(days=200)
    published_on(responder, "Another day", f"{other.isoformat()}T12:00:00+00:00")
    index_now(app)
    client = browser(app, "kim@example.com")
    history = section(page(client, "/library"), "this-day-h")
    assert "Nothing happened on this day" in history and titles_in(history) == []


def viewer_named(email: str) -> User:
    user = get_session().scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def test_this_day_reads_the_day_in_the_readers_zone(app: Flask, responder: Caller) -> None:
    # 23:30 UTC on March 10th is March 11th in Tokyo; 20:00 UTC on March 9th is March 10th there.
    for title, started in (
        ("Late in UTC", "2024-03-10T23:30:00+00:00"),
        ("Early in Tokyo", "2023-03-09T20:00:00+00:00"),
        ("Midday", "2022-03-10T12:00:00+00:00"),
        ("This year", "2026-03-10T12:00:00+00:00"),
    ):
        published_on(responder, title, started)
    with app.app_context():
        viewer = viewer_named("riley@example.com")
        on = {
            zone: [
                e.title for e in published_on_this_day(get_session(), viewer=viewer, today=date(2026, 3, 10), zone=zone)
            ]
            for zone in ("UTC", "Asia/Tokyo")
        }
    assert on["UTC"] == ["Late in UTC", "Midday"]
    assert on["Asia/Tokyo"] == ["Early in Tokyo", "Midday"]


def test_february_29th_comes_round_in_leap_years_and_on_the_28th_of_others(app: Flask, responder: Caller) -> None:
    for title, started in (
        ("Leap day", "2024-02-29T12:00:00+00:00"),
        ("Twenty-eighth", "2025-02-28T12:00:00+00:00"),
        ("First of March", "2023-03-01T12:00:00+00:00"),
    ):
        published_on(responder, title, started)
    with app.app_context():
        viewer = viewer_named("riley@example.com")

        def on(day: date) -> list[str]:
            return [e.title for e in published_on_this_day(get_session(), viewer=viewer, today=day, zone="UTC")]

        assert on(date(2026, 2, 28)) == ["Twenty-eighth", "Leap day"]  # 2026 has no 29th
        assert on(date(2028, 2, 28)) == ["Twenty-eighth"]  # 2028 has one: its day comes tomorrow
        assert on(date(2028, 2, 29)) == ["Leap day"]
        assert on(date(2026, 3, 1)) == ["First of March"]


def test_anniversaries_and_their_ranges() -> None:
    assert anniversaries(date(2026, 3, 10), first_year=2023) == [
        date(2025, 3, 10),
        date(2024, 3, 10),
        date(2023, 3, 10),
    ]
    assert anniversaries(date(2028, 2, 29), first_year=2019) == [date(2024, 2, 29), date(2020, 2, 29)]
    assert anniversaries(date(2026, 2, 28), first_year=2024) == [
        date(2025, 2, 28),
        date(2024, 2, 28),
        date(2024, 2, 29),
    ]
    assert anniversaries(date(2026, 1, 1), first_year=2026) == []
    assert anniversaries(date(2, 1, 1), first_year=-5) == [date(1, 1, 1)]
    ((start, end),) = day_ranges([date(2025, 3, 30)], "Europe/Paris")  # summer time begins that night
    assert start == datetime(2025, 3, 29, 23, 0, tzinfo=UTC) and end == datetime(2025, 3, 30, 22, 0, tzinfo=UTC)
    # Year 1 in a zone east of UTC began before any time a database keeps: left out, not a crash.
    assert day_ranges([date(1, 1, 1)], "Asia/Tokyo") == []


def test_recently_published_reads_a_bounded_list_with_labels(app: Flask, shelves: dict[str, Any]) -> None:
    with app.app_context():
        viewer = viewer_named("riley@example.com")
        entries = recently_published(get_session(), viewer=viewer, limit=2)
    assert [e.title for e in entries] == ["Payments pods evicted", "Edge certificate expired"]
    cert = entries[1]
    assert cert.services == ("checkout", "edge") and cert.tags == ("tls",) and cert.categories == ("detection",)
    assert cert.postmortem_id == shelves["cert"]["id"] and cert.incident_id == shelves["cert"]["incident_id"]
    assert cert.summary == "The certificate expired overnight." and cert.restricted is False
    assert cert.started_at == datetime(2025, 2, 1, 3, 0, tzinfo=UTC)
    assert cert.updated_at >= cert.published_at


def test_the_pages_hold_no_inline_script_or_style(app: Flask, shelves: dict[str, Any]) -> None:
    client = browser(app, "kim@example.com")
    for path in ("/library", "/library/service", "/library/service/checkout", "/library/tag/none"):
        answer = client.get(path)
        html = answer.get_data(as_text=True)
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], path
        assert " style=" not in html and "<style" not in html, path


def test_signed_out_the_pages_ask_to_sign_in(client: FlaskClient, shelves: dict[str, Any]) -> None:
    for path in ("/library", "/library/service", "/library/service/checkout"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]


@pytest.fixture
def hidden(app: Flask, make_caller: Any, responder: Caller) -> dict[str, Any]:
    """An open post-mortem and a restricted one (started today, years ago) with labels of its own."""
    years = earlier_years(datetime.now(UTC).date(), 1)[0]
    today = datetime.now(UTC).date()
    published(
        responder,
        title="Payments queue backed up",
        summary="Slow consumer.",
        services=["payments"],
        factors=FACTOR,
        started_at="2025-05-05T10:00:00+00:00",
    )
    insider = make_caller(
        "responder", email="insider@example.com", name="Ina Insider", password=PASSWORD, timezone="UTC"
    )
    found = published(
        insider,
        title="Credential leak in the zanzibarite vault",
        summary="Keys of the zanzibarite vault were exposed.",
        services=["vault", "payments"],
        teams=("secret-team",),
        tags=("zanzibarite",),
        factors=[("dependency", "The vault shared its keys")],
        visibility="restricted",
        severity="SEV1",
        started_at=f"{years}-{today.month:02d}-{today.day:02d}T12:00:00+00:00",
    )
    index_now(app)
    return {"postmortem": found, "insider": insider}


def library_pages(client: FlaskClient) -> str:
    """Every library page that could show the restricted post-mortem, as one text, without the value each
    shelf was asked for (a shelf names its value, found or not)."""
    year = earlier_years(datetime.now(UTC).date(), 1)[0]
    asked = [
        ("/library", ""),
        *((f"/library/{facet}", "") for facet in ("service", "team", "tag", "category", "year")),
        ("/library/service/vault", "vault"),
        ("/library/service/payments", ""),
        ("/library/team/secret-team", "secret-team"),
        ("/library/tag/zanzibarite", "zanzibarite"),
        ("/library/category/dependency", "dependency"),
        (f"/library/year/{year}", ""),
    ]
    return "\n".join(page(client, path).replace(value, "") if value else page(client, path) for path, value in asked)


def test_outsiders_never_see_a_restricted_post_mortem_on_any_library_page(app: Flask, hidden: dict[str, Any]) -> None:
    for role in (Role.VIEWER, Role.RESPONDER):
        client = browser(app, f"out-{role.value}@example.com", role)
        html = library_pages(client)
        assert "zanzibarite" not in html.lower() and "vault" not in html.lower() and "secret-team" not in html
        assert "dependency" not in html and "Credential leak" not in html
        front = page(client, "/library")
        assert "1 published post-mortem." in words_of(front)
        assert counts_in(section(front, "browse-h"), "service") == {"payments": 1}
        assert "Nothing happened on this day" in section(front, "this-day-h")
        assert "1 published post-mortem," in words_of(page(client, "/library/service/payments"))


def test_its_participant_and_an_admin_see_it_everywhere(app: Flask, hidden: dict[str, Any]) -> None:
    admin = browser(app, "boss@example.com", Role.ADMIN)
    insider = app.test_client()
    assert sign_in(insider, "insider@example.com").status_code == 302
    for client in (insider, admin):
        front = page(client, "/library")
        assert "2 published post-mortems" in words_of(front)
        assert counts_in(section(front, "browse-h"), "service") == {"payments": 2, "vault": 1}
        assert titles_in(section(front, "this-day-h")) == ["Credential leak in the zanzibarite vault"]
        assert "restricted" in section(front, "this-day-h")
        assert titles_in(page(client, "/library/tag/zanzibarite")) == ["Credential leak in the zanzibarite vault"]
        assert counts_in(page(client, "/library/team"), "team") == {"secret-team": 1}


@pytest.mark.parametrize("odd", ["%00", "%ED%A0%80", "%FF", "x" * 3000, "%E2%80%AE", "%3Cscript%3E", "..%2F.."])
def test_an_odd_value_is_an_empty_shelf_never_an_error(app: Flask, shelves: dict[str, Any], odd: str) -> None:
    client = browser(app, "kim@example.com")
    for path in (f"/library/service/{odd}", f"/library/year/{odd}"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "Nothing on this shelf" in answer.get_data(as_text=True) and "<script>" not in answer.get_data(
            as_text=True
        )
    assert client.get(f"/library/service/{odd}/feed.atom").status_code == 200
