"""Numbers beyond what the database stores (an INTEGER column: 2**31 - 1 on PostgreSQL) are a 404 in a URL and a
400 naming the field in a body or a form, never a 500; and nothing changes. Every route and every field that
takes one is tried, so that a new one is caught."""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Caller, csrf_of, declare, sign_in
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel

from incidents import schemas
from incidents.postmortems import schemas as postmortem_schemas

TOO_BIG = [2**31, 2**63, 10**30, -(2**63) - 1, -(2**31) - 1]
# In a URL too: as many digits as int() refuses to read, and a digit that int() reads but is not ASCII.
ODD_URL_IDS = [*(str(n) for n in TOO_BIG if n > 0), "9" * 5000, "\u0661"]


@pytest.fixture
def admin_browser(app: Flask, admin: Caller) -> FlaskClient:
    from incidents.accounts.service import set_password
    from incidents.database import get_session

    with app.app_context():
        set_password(get_session(), user_id=admin.user.id, password="correct horse battery")
    browser = app.test_client()
    assert sign_in(browser, admin.user.email).status_code == 302
    return browser


@pytest.fixture
def review(admin: Caller) -> dict[str, Any]:
    """An incident with an entry, its post-mortem with a factor and an action item: ids 1 everywhere."""
    incident = declare(admin)
    entry = admin.post(f"/api/incidents/{incident['id']}/timeline", {"text": "Rolled back gateway 4.12"}).get_json()
    postmortem = admin.post(f"/api/incidents/{incident['id']}/postmortem", {}).get_json()
    factor = admin.post(
        f"/api/postmortems/{postmortem['id']}/factors", {"text": "No canary stage", "category": "process"}
    ).get_json()
    return {"incident": incident, "entry": entry, "postmortem": postmortem, "factor": factor}


def id_routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(rule, method, the id argument made odd) for every route that takes an id."""
    for rule in app.url_map.iter_rules():
        for name in re.findall(r"<int:(\w+)>", rule.rule):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule.rule, method, name


def url_of(rule: str, odd: str, value: str) -> str:
    """The rule with the odd argument set to value, every other id 1 and any other part a real word."""
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: value if m.group(2) == odd else ("1" if m.group(1) == "int" else "summary"),
        rule,
    )


def test_every_route_answers_404_to_an_id_beyond_the_database(
    app: Flask, admin: Caller, admin_browser: FlaskClient, review: dict[str, Any]
) -> None:
    routes = list(id_routes(app))
    # The check must see the rooms: pages, API, the review, admin pages and the senders' admin.
    rules = {rule for rule, _, _ in routes}
    assert {
        "/api/incidents/<int:incident_id>",
        "/incidents/<int:incident_id>/timeline/<int:entry_id>/edit",
        "/postmortems/<int:postmortem_id>/factors/<int:factor_id>",
        "/admin/deliveries/<int:delivery_id>/replay",
        "/account/tokens/<int:token_id>/revoke",
    } <= rules
    before = review_now(admin, review)
    answers = {}
    for rule, method, odd in routes:
        for value in ODD_URL_IDS:
            url = url_of(rule, odd, value)
            if url.startswith("/api/"):
                answer = admin.call(method, url, {} if method in ("POST", "PUT", "PATCH") else None)
            else:
                answer = admin_browser.open(url, method=method)
            answers[(method, rule, odd, value[:12])] = answer.status_code
    assert {key: status for key, status in answers.items() if status != 404} == {}
    # Nothing was changed on the way: the post-mortem is as it was.
    assert review_now(admin, review) == before


def review_now(admin: Caller, review: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = admin.get(f"/api/postmortems/{review['postmortem']['id']}").get_json()
    assert len(found["contributing_factors"]) == 1
    return found


# Every whole number the JSON API reads, with a call that sends it.
Call = tuple[str, str, Callable[[int], Any]]
INT_FIELDS: dict[tuple[str, str], Call] = {
    ("SaveSection", "version"): ("PUT", "/api/postmortems/1/sections/summary", lambda n: {"body": "b", "version": n}),
    ("AgreedTimeline", "entry_ids"): ("PUT", "/api/postmortems/1/timeline", lambda n: {"entry_ids": [1, n]}),
    ("AddFactor", "parent_id"): (
        "POST",
        "/api/postmortems/1/factors",
        lambda n: {"text": "No canary", "category": "process", "parent_id": n},
    ),
    **{
        ("UpdateReview", name): ("PATCH", "/api/postmortems/1", lambda n, name=name: {name: n})
        for name in ("agreed_downtime_seconds", "agreed_time_to_detect_seconds", "agreed_time_to_resolve_seconds")
    },
    ("IncidentQuery", "limit"): ("GET", "/api/incidents?limit={n}", lambda n: None),
    ("ActionItemQuery", "limit"): ("GET", "/api/action-items?limit={n}", lambda n: None),
    ("ChatLogQuery", "limit"): ("GET", "/api/incidents/1/chat?limit={n}", lambda n: None),
}


def takes_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(takes_int(arg) for arg in typing.get_args(annotation))


def test_every_whole_number_the_api_reads_is_tried_below() -> None:
    models = [
        m
        for module in (schemas, postmortem_schemas)
        for m in vars(module).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__
    ]
    found = {(m.__name__, name) for m in models for name, f in m.model_fields.items() if takes_int(f.annotation)}
    assert found == set(INT_FIELDS)


@pytest.mark.parametrize("shape_field", list(INT_FIELDS), ids=lambda k: ".".join(k))
def test_a_whole_number_beyond_the_database_is_400_naming_the_field(
    admin: Caller, review: dict[str, Any], shape_field: tuple[str, str]
) -> None:
    method, path, body = INT_FIELDS[shape_field]
    before = review_now(admin, review)
    for number in TOO_BIG:
        answer = admin.call(method, path.format(n=number), body(number))
        assert answer.status_code == 400, (number, answer.get_json())
        assert answer.get_json()["error"]["field"] == shape_field[1], answer.get_json()
    assert review_now(admin, review) == before


def form_post(browser: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    token = csrf_of(browser.get("/postmortems/1").get_data(as_text=True))
    return browser.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize(
    ("url", "field", "make"),
    [
        ("/postmortems/1/timeline", "entry_ids", lambda odd: {"entry_ids": ["1", odd]}),
        ("/postmortems/1/factors", "parent_id", lambda odd: {"text": "t", "category": "process", "parent_id": odd}),
    ],
)
@pytest.mark.parametrize("odd", ["\u00b2", "\u0661\u0662", str(2**31), str(10**30), "9" * 5000])
def test_a_form_id_beyond_the_database_or_not_in_ascii_digits_is_400(
    admin: Caller,
    admin_browser: FlaskClient,
    review: dict[str, Any],
    url: str,
    field: str,
    make: Callable[[str], dict[str, Any]],
    odd: str,
) -> None:
    before = review_now(admin, review)
    answer = form_post(admin_browser, url, make(odd))
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert review_now(admin, review) == before


@pytest.mark.parametrize("typed", ["99999999999d", "9" * 38 + "d", "2147483648s", "\u0661\u0662h"])
@pytest.mark.parametrize("field", ["agreed_downtime", "agreed_time_to_detect", "agreed_time_to_resolve"])
def test_a_typed_duration_beyond_the_database_or_not_in_ascii_digits_is_400(
    admin: Caller, admin_browser: FlaskClient, review: dict[str, Any], field: str, typed: str
) -> None:
    before = review_now(admin, review)
    answer = form_post(admin_browser, "/postmortems/1/review", {field: typed})
    assert answer.status_code == 400
    assert review_now(admin, review) == before
    assert form_post(admin_browser, "/postmortems/1/review", {field: "1h 30m"}).status_code == 302
    assert review_now(admin, review)["metrics"][f"{field.removeprefix('agreed_')}_seconds"] == 5400


@pytest.mark.parametrize(
    "args",
    [["outbox", "retry", str(2**31)], ["outbox", "retry", str(2**63)], ["integrations", "replay", "--id", str(2**63)]],
)
def test_commands_refuse_an_id_beyond_the_database(app: Flask, args: list[str]) -> None:
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "is not in the range 1<=x<=2147483647" in result.output
