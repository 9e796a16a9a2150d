"""Bad input gets a clear 4xx and leaves the database as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask
from sqlalchemy import func, select

from incidents.database import get_session
from incidents.models import Incident, TimelineEntry, User


def counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        session = get_session()
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) for model in (Incident, TimelineEntry, User)
        )


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error: dict[str, Any] = response.get_json()["error"]
    assert error["message"]
    assert error["code"]
    if field is not None:
        assert error["field"] == field
    return error


BAD_DECLARATIONS = [
    (b'{"title": "x", "severity": "SEV1"', 400, None),
    (b"", 400, None),
    (b"[1, 2]", 400, None),
    (b'"just a string"', 400, None),
    (b'{"title": 42, "severity": "SEV1"}', 400, "title"),
    (b'{"title": "x", "severity": "SEV1", "colour": "red"}', 400, "colour"),
    (b'{"title": "x", "severity": "SEV9"}', 422, "severity"),
    (b'{"title": "   ", "severity": "SEV1"}', 422, "title"),
    (b'{"title": "x", "severity": "SEV1", "started_at": "2026-11-20T10:00:00"}', 400, "started_at"),
    (b'{"title": "x", "severity": "SEV1", "started_at": "yesterday"}', 400, "started_at"),
    (b'{"title": "x", "severity": "SEV1", "started_at": 1700000000}', 400, "started_at"),
    (b'{"title": "x", "severity": "SEV1", "started_at": "2999-01-01T00:00:00Z"}', 422, "started_at"),
    (b'{"title": "x", "severity": "SEV1", "services": "checkout"}', 400, "services"),
    (b'{"title": "x", "severity": "SEV1", "services": [1]}', 400, "services"),
    (b'{"title": "x", "severity": "SEV1", "visibility": "secret"}', 400, "visibility"),
    (b'{"title": "x", "severity": "SEV1", "commander": "nobody@example.com"}', 422, "commander"),
    (b'{"title": "x", "severity": "SEV1", "summary": null}', 400, "summary"),
    (b"\xff\xfe\x00garbage", 400, None),
]


@pytest.mark.parametrize(("raw", "status", "field"), BAD_DECLARATIONS)
def test_bad_declarations_are_refused_and_store_nothing(
    app: Flask, responder: Caller, raw: bytes, status: int, field: str | None
) -> None:
    before = counts(app)
    assert_error(responder.post("/api/incidents", raw=raw), status, field)
    assert counts(app) == before


def test_a_megabyte_title_is_refused(app: Flask, responder: Caller) -> None:
    before = counts(app)
    error = assert_error(responder.post("/api/incidents", {"title": "x" * 1_000_000, "severity": "SEV1"}), 422, "title")
    assert "at most 200 characters" in error["message"]
    assert counts(app) == before


def test_a_body_over_the_limit_is_refused(app: Flask, responder: Caller) -> None:
    before = counts(app)
    response = responder.post("/api/incidents", raw=b'{"title": "' + b"x" * 3_000_000 + b'", "severity": "SEV1"}')
    assert_error(response, 413)
    assert counts(app) == before


def test_sql_and_html_metacharacters_are_stored_verbatim(responder: Caller) -> None:
    title = "'; DROP TABLE incidents; -- <script>alert(1)</script> %_\\"
    incident = declare(responder, title=title, services=["a'b\"c"])
    assert responder.get(f"/api/incidents/{incident['id']}").get_json()["title"] == title
    found = responder.get("/api/incidents", query_string={"q": "DROP TABLE"}).get_json()["incidents"]
    assert [i["id"] for i in found] == [incident["id"]]
    assert responder.get("/api/incidents", query_string={"q": "%"}).get_json()["incidents"][0]["id"] == incident["id"]
    assert responder.get("/api/incidents", query_string={"q": "zz%"}).get_json()["incidents"] == []
    assert (
        responder.get("/api/incidents", query_string={"service": "a'b\"c"}).get_json()["incidents"][0]["id"]
        == incident["id"]
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"status": "sleeping"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_queries_are_refused(responder: Caller, query: dict[str, str], field: str) -> None:
    assert_error(responder.get("/api/incidents", query_string=query), 400, field)


def test_patch_refuses_bad_fields_and_changes_nothing(responder: Caller) -> None:
    incident = declare(responder, title="Original")
    path = f"/api/incidents/{incident['id']}"
    assert_error(responder.patch(path, {"title": "New", "severity": "SEV0"}), 422, "severity")
    assert_error(responder.patch(path, {"title": "New", "started_at": None}), 422, "started_at")
    assert_error(responder.patch(path, {"title": "New", "roles": {"janitor": "a@b.c"}}), 400, "roles.janitor")
    assert_error(responder.patch(path, {"title": "New", "status": "done"}), 400, "status")
    after = responder.get(path).get_json()
    assert after["title"] == "Original"
    assert after["severity"] == "SEV2"
    entries = responder.get(path + "/timeline").get_json()["entries"]
    assert len(entries) == 1


def test_bad_timeline_entries_are_refused(app: Flask, responder: Caller) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    before = counts(app)
    assert_error(responder.post(path, {"text": ""}), 422, "text")
    assert_error(responder.post(path, {"text": "x", "occurred_at": "2026-11-20 10:00"}), 400, "occurred_at")
    assert_error(responder.post(path, {"text": "x", "kind": "gossip"}), 400, "kind")
    assert_error(responder.post(path, {"text": "x", "source": "pagerduty"}), 400, "source")
    assert_error(responder.post(path, {"text": "x", "evidence_url": "javascript:alert(1)"}), 422, "evidence_url")
    assert_error(responder.post(path, {"text": "x", "is_key_moment": "yes"}), 400, "is_key_moment")
    assert_error(responder.post(path, {"text": "x" * 60_000}), 422, "text")
    assert_error(responder.post("/api/incidents/999999/timeline", {"text": "x"}), 404)
    assert counts(app) == before


def test_unknown_time_zone_is_refused(responder: Caller) -> None:
    # A zone is one of a known list, like a status: a name not on it is unreadable (400).
    assert_error(responder.patch("/api/me", {"timezone": "Mars/Olympus_Mons"}), 400, "timezone")
    assert_error(responder.patch("/api/me", {"timezone": "../../etc/passwd"}), 400, "timezone")
    assert responder.get("/api/me").get_json()["timezone"] is None  # follows the browser
    assert responder.patch("/api/me", {"timezone": "Europe/Berlin"}).get_json()["timezone"] == "Europe/Berlin"


def test_missing_malformed_and_revoked_tokens_get_401(app: Flask, client: Any, responder: Caller) -> None:
    assert_error(client.get("/api/incidents"), 401)
    assert_error(client.get("/api/incidents", headers={"Authorization": "Bearer nope"}), 401)
    assert_error(client.get("/api/incidents", headers={"Authorization": "Basic abc"}), 401)
    assert_error(client.post("/api/incidents", json={"title": "x", "severity": "SEV1"}), 401)
    from incidents.accounts.models import ApiToken
    from incidents.accounts.service import revoke_api_token

    with app.app_context():
        session = get_session()
        token = session.scalar(select(ApiToken).where(ApiToken.user_id == responder.user.id))
        assert token is not None
        revoke_api_token(session, user_id=responder.user.id, token_id=token.id)
    assert_error(responder.get("/api/incidents"), 401)


def test_unknown_routes_and_methods_answer_json(responder: Caller) -> None:
    assert_error(responder.get("/api/nothing-here"), 404)
    assert_error(responder.call("PUT", "/api/incidents"), 405)


def test_entry_time_in_the_future_is_refused(responder: Caller) -> None:
    incident = declare(responder)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert_error(
        responder.post(f"/api/incidents/{incident['id']}/timeline", {"text": "x", "occurred_at": later}),
        422,
        "occurred_at",
    )


def test_a_chunked_api_body_over_the_limit_is_refused_whole(app: Flask, responder: Caller) -> None:
    import io
    import json as json_module

    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = json_module.dumps({"title": "Checkout errors", "severity": "SEV2", "summary": "x" * 2000}).encode()
    answer = responder.client.post(
        "/api/incidents",
        input_stream=io.BytesIO(body),
        headers={
            "Authorization": f"Bearer {responder.token}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    assert answer.status_code == 413
    assert responder.get("/api/incidents").get_json()["incidents"] == []
