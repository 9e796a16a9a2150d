"""The timeline: entries with their own times, idempotent deliveries, corrections and soft deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from conftest import Caller, declare


def test_entries_are_ordered_by_when_they_happened(responder: Caller) -> None:
    incident = declare(responder, started_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat())
    path = f"/api/incidents/{incident['id']}/timeline"
    late = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    early = late - timedelta(hours=2)
    first = responder.post(path, {"text": "rolled back", "occurred_at": late.isoformat(), "kind": "action"})
    assert first.status_code == 201
    second = responder.post(
        path,
        {
            "text": "alert fired",
            "occurred_at": early.astimezone(timezone(timedelta(hours=-5))).isoformat(),
            "kind": "alert",
            "evidence_url": "https://grafana.example.com/d/abc",
            "is_key_moment": True,
        },
    )
    assert second.status_code == 201
    body = second.get_json()
    assert body["occurred_at"] == early.isoformat()
    assert body["source"] == "api"
    assert body["actor"]["name"] == "Riley Responder"
    assert body["evidence_url"] == "https://grafana.example.com/d/abc"
    assert body["is_key_moment"] is True
    assert datetime.fromisoformat(body["recorded_at"]) > early
    texts = [e["text"] for e in responder.get(path).get_json()["entries"]]
    # The declaration entry happened at declaration, after both.
    assert texts[:2] == ["alert fired", "rolled back"]
    assert texts[2].startswith("Declared SEV2 incident")


def test_a_redelivered_event_is_stored_once(responder: Caller) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    body = {"text": "imported from the old tracker", "source": "import", "external_id": "legacy-42"}
    first = responder.post(path, body)
    again = responder.post(path, {**body, "text": "a changed redelivery"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["text"] == "imported from the old tracker"
    entries = responder.get(path).get_json()["entries"]
    assert sum(e["external_id"] == "legacy-42" for e in entries) == 1
    # The same id from another source is a different event.
    other = responder.post(path, {"text": "api event", "external_id": "legacy-42"})
    assert other.status_code == 201


def test_the_same_event_on_another_incident_is_a_conflict(responder: Caller) -> None:
    one = declare(responder)
    two = declare(responder)
    body = {"text": "event", "source": "import", "external_id": "evt-1"}
    assert responder.post(f"/api/incidents/{one['id']}/timeline", body).status_code == 201
    response = responder.post(f"/api/incidents/{two['id']}/timeline", body)
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "external_id"


def test_a_correction_keeps_who_when_and_what_it_said(responder: Caller, make_caller: object) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    entry = responder.post(path, {"text": "restarted the wrong pod", "kind": "action"}).get_json()
    corrected = responder.patch(f"{path}/{entry['id']}", {"text": "restarted pod checkout-7", "is_key_moment": True})
    assert corrected.status_code == 200
    body = corrected.get_json()
    assert body["text"] == "restarted pod checkout-7"
    assert body["is_key_moment"] is True
    assert body["edited_at"] is not None
    [revision] = body["revisions"]
    assert revision["change"] == "correction"
    assert revision["revised_by"] == responder.user.id
    assert revision["before"]["text"] == "restarted the wrong pod"
    assert revision["before"]["is_key_moment"] is False


def test_a_correction_that_changes_nothing_leaves_no_revision(responder: Caller) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    entry = responder.post(path, {"text": "same"}).get_json()
    body = responder.patch(f"{path}/{entry['id']}", {"text": "same"}).get_json()
    assert body["revisions"] == []
    assert body["edited_at"] is None


def test_deleting_is_soft_and_recorded(responder: Caller) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    entry = responder.post(path, {"text": "posted in the wrong incident"}).get_json()
    deleted = responder.delete(f"{path}/{entry['id']}")
    assert deleted.status_code == 200
    assert deleted.get_json()["deleted_at"] is not None
    visible = responder.get(path).get_json()["entries"]
    assert entry["id"] not in [e["id"] for e in visible]
    everything = responder.get(path + "?include_deleted=true").get_json()["entries"]
    [kept] = [e for e in everything if e["id"] == entry["id"]]
    assert kept["text"] == "posted in the wrong incident"
    assert kept["revisions"][0]["change"] == "deletion"
    assert responder.patch(f"{path}/{entry['id']}", {"text": "x"}).status_code == 409


def test_an_entry_of_another_incident_is_not_found(responder: Caller) -> None:
    one = declare(responder)
    two = declare(responder)
    entry = responder.post(f"/api/incidents/{one['id']}/timeline", {"text": "x"}).get_json()
    assert responder.patch(f"/api/incidents/{two['id']}/timeline/{entry['id']}", {"text": "y"}).status_code == 404
    assert responder.delete(f"/api/incidents/{two['id']}/timeline/{entry['id']}").status_code == 404


def test_a_blank_external_id_is_no_id(responder: Caller) -> None:
    incident = declare(responder)
    path = f"/api/incidents/{incident['id']}/timeline"
    first = responder.post(path, {"text": "one", "external_id": "   "})
    second = responder.post(path, {"text": "two", "external_id": ""})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["external_id"] is None
