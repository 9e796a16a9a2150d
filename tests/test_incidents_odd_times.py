"""Times past Python's calendar once read in UTC or in a reader's zone, zone names that are no zone, and cursors of
any other shape than the server gave out: each a 400 naming the field, never a 500, and nothing changes. Every
field and form that takes one is tried, so that a new one is caught."""

from __future__ import annotations

import base64
import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Caller, csrf_of, declare, make_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from pydantic import BaseModel
from sqlalchemy import update
from wtforms import DateTimeLocalField
from wtforms.fields.core import UnboundField

from incidents import forms, schemas
from incidents.database import get_session
from incidents.models import Incident, Role, TimelineEntry
from incidents.postmortems import forms as postmortem_forms
from incidents.postmortems import schemas as postmortem_schemas

# Converting to UTC overflows (year 0, year 10000); the last one converts, but cannot be shown west of UTC.
OVERFLOWING = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:00"]


@pytest.fixture
def record(admin: Caller) -> dict[str, Any]:
    """An incident with an entry and a post-mortem: ids 1 everywhere."""
    incident = declare(admin, started_at="2026-11-20T10:00:00+00:00")
    admin.post(f"/api/incidents/{incident['id']}/timeline", {"text": "Rolled back", "occurred_at": "2026-11-20T10:40Z"})
    admin.post(f"/api/incidents/{incident['id']}/postmortem", {})
    return incident


def everything(admin: Caller) -> list[Any]:
    """What the API shows of every record, to see that nothing changed."""
    return [
        admin.get("/api/incidents").get_json(),
        admin.get("/api/incidents/1/timeline?include_deleted=true").get_json(),
        admin.get("/api/postmortems/1").get_json(),
        admin.get("/api/me").get_json(),
    ]


def models() -> list[type[BaseModel]]:
    return [
        m
        for module in (schemas, postmortem_schemas)
        for m in vars(module).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__
    ]


def takes(annotation: Any, kind: type) -> bool:
    return annotation is kind or any(takes(arg, kind) for arg in typing.get_args(annotation))


# Every timestamp the JSON API reads, with a call that sends it.
TIMESTAMPS: dict[tuple[str, str], tuple[str, str, Any]] = {
    **{
        ("DeclareIncident", name): ("POST", "/api/incidents", {"title": "t", "severity": "SEV2"})
        for name in ("started_at", "detected_at", "acknowledged_at")
    },
    **{
        ("UpdateIncident", name): ("PATCH", "/api/incidents/1", {})
        for name in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
    },
    ("RecordEntry", "occurred_at"): ("POST", "/api/incidents/1/timeline", {"text": "t"}),
    ("CorrectEntry", "occurred_at"): ("PATCH", "/api/incidents/1/timeline/1", {}),
    ("UpdateReview", "meeting_at"): ("PATCH", "/api/postmortems/1", {}),
    ("IncidentQuery", "since"): ("GET", "/api/incidents", None),
    ("IncidentQuery", "until"): ("GET", "/api/incidents", None),
    ("ChatLogQuery", "before"): ("GET", "/api/incidents/1/chat", None),
}


def test_every_timestamp_the_api_reads_is_tried_below() -> None:
    found = {(m.__name__, n) for m in models() for n, f in m.model_fields.items() if takes(f.annotation, datetime)}
    assert found == set(TIMESTAMPS)


@pytest.mark.parametrize("shape_field", list(TIMESTAMPS), ids=lambda k: ".".join(k))
def test_a_timestamp_past_the_calendar_is_400_naming_the_field(
    admin: Caller, record: dict[str, Any], shape_field: tuple[str, str]
) -> None:
    method, path, body = TIMESTAMPS[shape_field]
    field = shape_field[1]
    before = everything(admin)
    for value in OVERFLOWING:
        if body is None:
            answer = admin.call(method, path, query_string={field: value})
        else:
            answer = admin.call(method, path, {**body, field: value})
        assert answer.status_code == 400, (value, answer.get_json())
        assert answer.get_json()["error"]["field"] == field
        assert "out of range" in answer.get_json()["error"]["message"]
    assert everything(admin) == before


def wall_clock_forms() -> set[tuple[str, str]]:
    return {
        (cls.__name__, name)
        for module in (forms, postmortem_forms)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, FlaskForm) and cls.__module__ == module.__name__
        for name, field in vars(cls).items()
        if isinstance(field, UnboundField)
        and field.field_class in (DateTimeLocalField, postmortem_forms.WallClockField)
    }


# Every wall-clock time a page reads, with the form that sends it.
WALL_CLOCKS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("DeclareForm", "started_at"): ("/incidents/new", {"title": "t", "severity": "SEV2", "visibility": "open"}),
    ("EntryForm", "occurred_at"): ("/incidents/1/timeline", {"text": "t", "kind": "note"}),
    **{
        ("KeyTimesForm", name): ("/incidents/1/key-times", {})
        for name in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
    },
    ("CorrectEntryForm", "occurred_at"): ("/incidents/1/timeline/1/correct", {"text": "t", "kind": "note"}),
    ("ReviewForm", "meeting_at"): ("/postmortems/1/review", {}),
    ("MeetingEntryForm", "occurred_at"): ("/postmortems/1/timeline/new", {"text": "t"}),
}


def test_every_wall_clock_a_page_reads_is_tried_below() -> None:
    assert wall_clock_forms() == set(WALL_CLOCKS)


def browser_in(app: Flask, zone: str | None) -> FlaskClient:
    email = f"{(zone or 'none').replace('/', '-').lower()}@example.com"
    make_user(app, email, role=Role.ADMIN, zone=zone)
    browser = app.test_client()
    sign_in(browser, email)
    return browser


@pytest.mark.parametrize("form_field", list(WALL_CLOCKS), ids=lambda k: ".".join(k))
def test_a_typed_time_past_the_calendar_in_the_readers_zone_is_400(
    app: Flask, admin: Caller, record: dict[str, Any], form_field: tuple[str, str]
) -> None:
    url, data = WALL_CLOCKS[form_field]
    before = everything(admin)
    # East of UTC the first moment of year 1 is in year 0; west of it the last moment of 9999 is in 10000.
    for zone, typed in [("Asia/Tokyo", "0001-01-01T00:00"), ("America/New_York", "9999-12-31T23:59:59")]:
        browser = browser_in(app, zone)
        token = csrf_of(browser.get("/incidents/new").get_data(as_text=True))
        answer = browser.post(url, data={"csrf_token": token, **data, form_field[1]: typed})
        assert answer.status_code == 400, (zone, answer.get_data(as_text=True)[:300])
        assert "out of range" in answer.get_data(as_text=True)
    assert everything(admin) == before


@pytest.mark.parametrize("page", ["/incidents", "/incidents.csv"])
@pytest.mark.parametrize(
    ("zone", "query"),
    [("Asia/Tokyo", "from=0001-01-01"), ("Asia/Tokyo", "to=0001-01-01"), ("UTC", "to=9999-12-31")],
)
def test_a_day_past_the_calendar_in_the_readers_zone_is_400(
    app: Flask, record: dict[str, Any], page: str, zone: str, query: str
) -> None:
    answer = browser_in(app, zone).get(f"{page}?{query}")
    assert answer.status_code == 400
    assert "out of range" in answer.get_data(as_text=True) or "too late" in answer.get_data(as_text=True)


ODD_ZONES = ["a" * 10_000, "Europe", "Europe/" + "x" * 300, "zone.tab", "../etc/passwd", "Europe/Paris/", ""]


# Every time zone the JSON API reads, with a call that sends it.
ZONES: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
    ("DeclareIncident", "reference_timezone"): ("POST", "/api/incidents", {"title": "t", "severity": "SEV2"}),
    ("UpdateIncident", "reference_timezone"): ("PATCH", "/api/incidents/1", {}),
    ("UpdateProfile", "timezone"): ("PATCH", "/api/me", {}),
}


def test_every_zone_the_api_reads_is_tried_below() -> None:
    assert {(m.__name__, n) for m in models() for n in m.model_fields if n.endswith("timezone")} == set(ZONES)


@pytest.mark.parametrize("shape_field", list(ZONES), ids=lambda k: ".".join(k))
def test_a_zone_name_that_is_no_zone_is_400_naming_the_field(
    admin: Caller, record: dict[str, Any], shape_field: tuple[str, str]
) -> None:
    method, path, body = ZONES[shape_field]
    before = everything(admin)
    for name in [z for z in ODD_ZONES if z]:
        answer = admin.call(method, path, {**body, shape_field[1]: name})
        assert answer.status_code == 400, (name[:40], answer.get_json())
        assert answer.get_json()["error"]["field"] == shape_field[1]
    assert everything(admin) == before
    assert admin.call(method, path, {**body, shape_field[1]: "Asia/Kolkata"}).status_code in (200, 201)


@pytest.mark.parametrize("name", ["Europe", "zone.tab", "../etc/passwd", "Europe/Paris/", "Europe/" + "x" * 50])
def test_a_reference_zone_on_the_page_that_is_no_zone_is_400(
    app: Flask, admin: Caller, record: dict[str, Any], name: str
) -> None:
    browser = browser_in(app, "UTC")
    before = everything(admin)
    token = csrf_of(browser.get("/incidents/1").get_data(as_text=True))
    answer = browser.post("/incidents/1/key-times", data={"csrf_token": token, "reference_timezone": name})
    assert answer.status_code == 400
    assert everything(admin) == before


@pytest.mark.parametrize("name", ["Europe", "zone.tab", "x" * 3000, "..%2F..%2Fetc%2Fpasswd", "Europe%2FParis%2F"])
def test_a_browser_zone_that_is_no_zone_is_ignored(app: Flask, record: dict[str, Any], name: str) -> None:
    browser = browser_in(app, None)
    browser.set_cookie("kintsugi_tz", name)
    for page in ["/", "/incidents", "/incidents/1", "/account", "/postmortems/1"]:
        answer = browser.get(page)
        assert answer.status_code == 200, page
    assert "Fri 2026-11-20 10:00 UTC" in browser.get("/incidents/1").get_data(as_text=True)


def test_a_command_given_a_folder_of_the_zone_database_says_so(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "create", "z@example.com", "--timezone", "Europe"])
    assert result.exit_code == 1
    assert "unknown time zone 'Europe'" in result.output


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


NOW = "2026-11-20T10:00:00+00:00"
ODD_INTS: list[Any] = [True, 1.5, "1", -1, 2**31, 2**63, 10**30, None]
ODD_TIMES: list[Any] = [5, "2026-11-20T10:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "soon"]
# Cursors of no order's shape.
SHAPELESS = {
    "not base64": "!!!~~~",
    "base64 of garbage": base64.urlsafe_b64encode(b"\xff\xfe\x00\x01garbage").decode(),
    "a string": cursor("x"),
    "too few keys": cursor([["i", 1]]),
    "nested deep": base64.urlsafe_b64encode(b"[" * 3000).decode(),
    "very long": "A" * 20_000,
}


def odd_cursors(valid: list[list[Any]]) -> dict[str, str]:
    """Cursors shaped like a valid one with one key made odd: each whole number, each time, each tag."""
    found = dict(SHAPELESS)
    for position, (tag, _) in enumerate(valid):
        for odd in ODD_INTS if tag == "i" else ODD_TIMES:
            found[f"key {position} = {odd!r:.20}"] = cursor([*valid[:position], [tag, odd], *valid[position + 1 :]])
        found[f"key {position} tagged x"] = cursor([*valid[:position], ["x", 1], *valid[position + 1 :]])
        found[f"key {position} in three parts"] = cursor([*valid[:position], [tag, 1, 2], *valid[position + 1 :]])
    return found


@pytest.mark.parametrize(
    ("where", "valid"),
    [
        ("/api/incidents", [["t", NOW], ["i", 1]]),
        ("/incidents", [["t", NOW], ["i", 1]]),
        ("/api/incidents?sort=severity", [["i", 1], ["t", NOW], ["i", 1]]),
        ("/incidents?sort=updated", [["t", NOW], ["i", 1]]),
    ],
)
def test_a_cursor_of_any_other_shape_is_400(
    app: Flask, admin: Caller, record: dict[str, Any], where: str, valid: list[list[Any]]
) -> None:
    browser = browser_in(app, "UTC")
    joiner = "&" if "?" in where else "?"

    def status(value: str) -> int:
        url = f"{where}{joiner}cursor={value}"
        return int((admin.get(url) if url.startswith("/api/") else browser.get(url)).status_code)

    assert status(cursor(valid)) == 200
    answers = {name: status(value) for name, value in odd_cursors(valid).items()}
    assert {name: code for name, code in answers.items() if code != 400} == {}


def test_a_time_kept_before_it_was_refused_is_shown_in_utc(app: Flask, admin: Caller, record: dict[str, Any]) -> None:
    # Kept before times had to fall inside the calendar in every zone: New York cannot show it.
    year_one = datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    with app.app_context():
        session = get_session()
        session.execute(update(Incident).values(started_at=year_one))
        session.execute(update(TimelineEntry).values(occurred_at=year_one))
        session.commit()
    browser = browser_in(app, "America/New_York")
    for page in ["/incidents/1", "/incidents/1/timeline/1/edit", "/incidents", "/postmortems/1", "/"]:
        answer = browser.get(page)
        assert answer.status_code == 200, page
    assert "1-01-01 00:30 UTC" in browser.get("/incidents/1").get_data(as_text=True)  # strftime writes year 1 as "1"
    assert admin.get("/api/incidents/1").get_json()["started_at"].startswith("0001-01-01T00:30:00")
