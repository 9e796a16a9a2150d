"""The incident record through the JSON API: declare, read, change, list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from conftest import Caller, declare


def ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def test_declare_returns_the_record_with_declarer_as_commander(responder: Caller) -> None:
    started = ago(minutes=30)
    incident = declare(
        responder,
        title="Checkout 5xx",
        severity="sev2",
        summary="**Errors** at checkout",
        started_at=started,
        services=["checkout", " payments ", "checkout"],
        teams=["payments"],
        tags=["deploy"],
    )
    assert incident["title"] == "Checkout 5xx"
    assert incident["severity"] == "SEV2"
    assert incident["status"] == "investigating"
    assert incident["visibility"] == "open"
    assert incident["services"] == ["checkout", "payments"]
    assert incident["teams"] == ["payments"]
    assert incident["tags"] == ["deploy"]
    assert incident["roles"]["commander"]["email"] == "riley@example.com"
    assert datetime.fromisoformat(incident["started_at"]) == datetime.fromisoformat(started)
    # Declaring is detecting at the latest: detected_at defaults to the declaration.
    assert incident["detected_at"] == incident["declared_at"]
    assert incident["durations"]["time_to_detect"] >= 30 * 60 - 5
    assert incident["durations"]["time_to_mitigate"] is None
    assert incident["started_at"].endswith("+00:00")


def test_declare_logs_a_timeline_entry(responder: Caller) -> None:
    incident = declare(responder, severity="SEV1")
    entries = responder.get(f"/api/incidents/{incident['id']}/timeline").get_json()["entries"]
    assert [e["kind"] for e in entries] == ["status_change"]
    assert entries[0]["text"] == "Declared SEV1 incident; Riley Responder is incident commander."


def test_durations_follow_the_key_times(responder: Caller) -> None:
    base = datetime.now(UTC) - timedelta(hours=5)
    incident = declare(responder, started_at=base.isoformat(), detected_at=(base + timedelta(minutes=10)).isoformat())
    response = responder.patch(
        f"/api/incidents/{incident['id']}",
        {
            "acknowledged_at": (base + timedelta(minutes=13)).isoformat(),
            "mitigated_at": (base + timedelta(minutes=70)).isoformat(),
            "resolved_at": (base + timedelta(hours=4)).isoformat(),
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["durations"] == {
        "time_to_detect": 600.0,
        "time_to_acknowledge": 180.0,
        "time_to_mitigate": 3600.0,
        "time_to_resolve": 4 * 3600.0 - 600.0,
        "impact_duration": 4200.0,
    }


def test_key_times_out_of_order_are_refused_naming_both_fields(responder: Caller) -> None:
    base = datetime.now(UTC) - timedelta(hours=2)
    incident = declare(responder, started_at=base.isoformat(), detected_at=(base + timedelta(minutes=1)).isoformat())
    response = responder.patch(
        f"/api/incidents/{incident['id']}", {"detected_at": (base - timedelta(minutes=1)).isoformat()}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "detected_at"
    assert "detected_at" in error["message"] and "started_at" in error["message"]
    resolved_early = responder.patch(
        f"/api/incidents/{incident['id']}",
        {"mitigated_at": ago(minutes=30), "resolved_at": ago(minutes=60)},
    )
    assert resolved_early.status_code == 422
    message = resolved_early.get_json()["error"]["message"]
    assert "resolved_at" in message and "mitigated_at" in message
    assert responder.get(f"/api/incidents/{incident['id']}").get_json()["mitigated_at"] is None


def test_times_in_other_offsets_are_stored_as_the_same_instant(responder: Caller) -> None:
    instant = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    in_tokyo = instant.astimezone(timezone(timedelta(hours=9))).isoformat()
    incident = declare(responder, started_at=in_tokyo)
    assert incident["started_at"] == instant.isoformat()


def test_status_moves_forward_fill_key_times_and_log_entries(responder: Caller) -> None:
    incident = declare(responder, started_at=ago(minutes=20))
    path = f"/api/incidents/{incident['id']}"
    mitigated = responder.patch(path, {"status": "mitigated"}).get_json()
    assert mitigated["status"] == "mitigated"
    assert mitigated["mitigated_at"] is not None
    resolved = responder.patch(path, {"status": "resolved"}).get_json()
    assert resolved["status"] == "resolved"
    assert resolved["mitigated_at"] == mitigated["mitigated_at"]
    texts = [e["text"] for e in responder.get(path + "/timeline").get_json()["entries"]]
    assert "Status changed from investigating to mitigated." in texts
    assert "Status changed from mitigated to resolved." in texts


def test_reopening_is_recorded_and_clears_later_times(responder: Caller) -> None:
    incident = declare(responder, started_at=ago(minutes=20))
    path = f"/api/incidents/{incident['id']}"
    responder.patch(path, {"status": "closed"})
    closed = responder.get(path).get_json()
    assert closed["closed_at"] is not None and closed["resolved_at"] is not None
    reopened = responder.patch(path, {"status": "investigating"}).get_json()
    assert reopened["status"] == "investigating"
    assert reopened["resolved_at"] is None and reopened["mitigated_at"] is None
    assert reopened["closed_at"] is None
    texts = [e["text"] for e in responder.get(path + "/timeline").get_json()["entries"]]
    assert any(t.startswith("Reopened: status changed from closed to investigating.") for t in texts)


def test_severity_and_role_changes_add_entries(responder: Caller, make_caller: Any) -> None:
    other = make_caller("responder", email="sam@example.com", name="Sam Scribe")
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}"
    updated = responder.patch(
        path,
        {"severity": "SEV1", "roles": {"scribe": "sam@example.com", "participants": ["SAM@example.com"]}},
    ).get_json()
    assert updated["severity"] == "SEV1"
    assert updated["roles"]["scribe"]["name"] == "Sam Scribe"
    assert [p["email"] for p in updated["roles"]["participants"]] == ["sam@example.com"]
    assert updated["roles"]["commander"]["email"] == "riley@example.com"
    texts = [e["text"] for e in responder.get(path + "/timeline").get_json()["entries"]]
    assert "Severity changed from SEV2 to SEV1." in texts
    assert "Scribe: nobody → Sam Scribe." in texts
    assert other.user.email == "sam@example.com"


def test_unknown_user_in_a_role_is_refused(responder: Caller) -> None:
    incident = declare(responder)
    response = responder.patch(f"/api/incidents/{incident['id']}", {"roles": {"commander": "ghost@example.com"}})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "roles.commander"


def test_list_filters_and_paginates(responder: Caller) -> None:
    for n in range(7):
        declare(
            responder,
            title=f"incident {n}",
            severity="SEV1" if n % 2 else "SEV3",
            started_at=ago(hours=n + 1),
            services=["checkout" if n < 3 else "search"],
        )
    everything = responder.get("/api/incidents?limit=3").get_json()
    assert [i["title"] for i in everything["incidents"]] == ["incident 0", "incident 1", "incident 2"]
    second = responder.get(f"/api/incidents?limit=3&cursor={everything['next_cursor']}").get_json()
    assert [i["title"] for i in second["incidents"]] == ["incident 3", "incident 4", "incident 5"]
    third = responder.get(f"/api/incidents?limit=3&cursor={second['next_cursor']}").get_json()
    assert [i["title"] for i in third["incidents"]] == ["incident 6"]
    assert third["next_cursor"] is None

    sev1 = responder.get("/api/incidents?severity=SEV1").get_json()["incidents"]
    assert [i["title"] for i in sev1] == ["incident 1", "incident 3", "incident 5"]
    checkout = responder.get("/api/incidents?service=checkout").get_json()["incidents"]
    assert [i["title"] for i in checkout] == ["incident 0", "incident 1", "incident 2"]
    since = responder.get("/api/incidents", query_string={"since": ago(hours=3, minutes=30)}).get_json()
    assert [i["title"] for i in since["incidents"]] == ["incident 0", "incident 1", "incident 2"]
    window = responder.get(
        "/api/incidents", query_string={"since": ago(hours=6, minutes=30), "until": ago(hours=4, minutes=30)}
    ).get_json()
    assert [i["title"] for i in window["incidents"]] == ["incident 4", "incident 5"]


def test_list_filters_by_status(responder: Caller) -> None:
    first = declare(responder, title="one", started_at=ago(hours=2))
    declare(responder, title="two", started_at=ago(hours=1))
    responder.patch(f"/api/incidents/{first['id']}", {"status": "resolved"})
    resolved = responder.get("/api/incidents?status=resolved").get_json()["incidents"]
    assert [i["title"] for i in resolved] == ["one"]
    both = responder.get("/api/incidents?status=resolved,investigating").get_json()["incidents"]
    assert [i["title"] for i in both] == ["two", "one"]


def test_patch_title_and_labels(responder: Caller) -> None:
    incident = declare(responder, services=["a", "b"])
    updated = responder.patch(
        f"/api/incidents/{incident['id']}", {"title": "Renamed", "services": ["b", "c"], "visibility": "restricted"}
    ).get_json()
    assert updated["title"] == "Renamed"
    assert updated["services"] == ["b", "c"]
    assert updated["visibility"] == "restricted"


def test_healthz_answers_without_login(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "outbox_oldest_pending_seconds": None}


def test_a_status_given_with_its_time_is_logged_once_at_that_time(responder: Caller) -> None:
    incident = declare(responder, started_at=ago(hours=2), detected_at=ago(hours=2))
    path = f"/api/incidents/{incident['id']}"
    mitigated_at = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    responder.patch(path, {"status": "mitigated", "mitigated_at": mitigated_at.isoformat()})
    entries = responder.get(path + "/timeline").get_json()["entries"]
    changes = [e for e in entries if not e["text"].startswith("Declared")]
    assert [(e["text"], e["occurred_at"]) for e in changes] == [
        ("Status changed from investigating to mitigated.", mitigated_at.isoformat())
    ]
    # A key time set on its own is logged with the old and new values.
    responder.patch(path, {"acknowledged_at": ago(minutes=90)})
    texts = [e["text"] for e in responder.get(path + "/timeline").get_json()["entries"]]
    assert any(t.startswith("Acknowledged time set to ") and t.endswith("(was unset).") for t in texts)


def test_list_sorts_page_through_every_order_without_gaps(responder: Caller) -> None:
    titles = []
    for n in range(9):
        titles.append(f"i{n}")
        declare(responder, title=f"i{n}", severity=f"SEV{1 + n % 3}", started_at=ago(hours=10 - n))
    for sort, expected in (
        ("newest", [f"i{n}" for n in range(8, -1, -1)]),
        ("oldest", [f"i{n}" for n in range(9)]),
        ("updated", [f"i{n}" for n in range(8, -1, -1)]),
        ("severity", ["i6", "i3", "i0", "i7", "i4", "i1", "i8", "i5", "i2"]),
    ):
        seen: list[str] = []
        cursor = None
        while True:
            query = {"limit": "2", "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = responder.get("/api/incidents", query_string=query).get_json()
            seen += [i["title"] for i in page["incidents"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, sort
    bad = responder.get("/api/incidents", query_string={"sort": "oldest", "cursor": cursor or "W10"})
    assert bad.status_code == 400
