"""The blameless review through the API: start from a template, write, conflict, act, publish, close."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask


@pytest.fixture
def resolved(responder: Caller) -> dict[str, Any]:
    """A resolved SEV2 incident with an alert, a detection marked as key moment, and a mitigation."""
    incident = declare(
        responder,
        title="Checkout 502s",
        severity="SEV2",
        summary="Card payments failed with 502.",
        services=["checkout"],
        started_at="2026-11-20T10:00:00+00:00",
        detected_at="2026-11-20T10:07:00+00:00",
    )
    url = f"/api/incidents/{incident['id']}/timeline"
    responder.post(
        url, {"text": "HighErrorRate firing for checkout", "kind": "alert", "occurred_at": "2026-11-20T10:06:00+00:00"}
    )
    responder.post(
        url,
        {
            "text": "Rolled back gateway 4.12",
            "kind": "action",
            "occurred_at": "2026-11-20T10:40:00+00:00",
            "is_key_moment": True,
        },
    )
    responder.post(url, {"text": "coffee", "kind": "note", "occurred_at": "2026-11-20T10:41:00+00:00"})
    response = responder.patch(
        f"/api/incidents/{incident['id']}",
        {"status": "resolved", "mitigated_at": "2026-11-20T10:45:00+00:00", "resolved_at": "2026-11-20T11:30:00+00:00"},
    )
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def start(caller: Caller, incident_id: int, **body: Any) -> dict[str, Any]:
    response = caller.post(f"/api/incidents/{incident_id}/postmortem", body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def sections(postmortem: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in postmortem["sections"]}


def write_required(
    caller: Caller, postmortem_id: int, keys: tuple[str, ...] = ("summary", "impact", "detection")
) -> None:
    """A person's words added under the pre-fill of each of these sections."""
    current = sections(caller.get(f"/api/postmortems/{postmortem_id}").get_json())
    for key in keys:
        body = current[key]["body"] + "\n\nWhat the review found about this."
        response = caller.call(
            "PUT",
            f"/api/postmortems/{postmortem_id}/sections/{key}",
            {"body": body, "version": current[key]["version"]},
        )
        assert response.status_code == 200, response.get_json()


def test_templates_are_listed_with_their_prompts(responder: Caller) -> None:
    templates = responder.get("/api/postmortem-templates").get_json()["templates"]
    keys = [t["key"] for t in templates]
    assert keys[0] == "handbook" and set(keys) == {"handbook", "google-sre", "near-miss", "security", "written-report"}
    handbook = templates[0]
    assert handbook["default"] is True
    prompts = " ".join(s["prompt"] for s in handbook["sections"])
    assert "monitoring, a person, a customer" in prompts
    assert [s["title"] for s in handbook["sections"] if s["key"] in ("surprises", "lucky")] == [
        "Why were we surprised?",
        "Where we got lucky",
    ]


def test_starting_prefills_what_the_incident_knows(responder: Caller, resolved: dict[str, Any]) -> None:
    postmortem = start(responder, resolved["id"])
    assert postmortem["template"] == "handbook"  # suggested for SEV2
    assert postmortem["status"] == "draft"
    by_key = sections(postmortem)
    assert by_key["summary"]["body"] == "Card payments failed with 502."
    impact = by_key["impact"]["body"]
    # Times are stored as times: a <time> element, its words in UTC for a plain Markdown reader.
    assert 'Impact began: <time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 10:00 UTC</time>' in impact
    assert "Impact lasted: 45m 00s" in impact and "Time to detect: 7m 00s" in impact
    assert "Time to resolve: 1h 23m" in impact
    alert = '- <time datetime="2026-11-20T10:06:00Z">Fri 2026-11-20 10:06 UTC</time> (api): HighErrorRate firing'
    assert alert + " for checkout" in by_key["detection"]["body"]
    assert "Decided (incident commander): Riley Responder" in by_key["stakeholders"]["body"]
    assert [e["text"] for e in postmortem["agreed_timeline"]] == [
        "HighErrorRate firing for checkout",
        "Rolled back gateway 4.12",
    ]
    assert postmortem["metrics"] == {
        "severity": "SEV2",
        "downtime_seconds": 45 * 60,
        "time_to_detect_seconds": 7 * 60,
        "time_to_resolve_seconds": 83 * 60,
    }
    again = responder.post(f"/api/incidents/{resolved['id']}/postmortem", {})
    assert again.status_code == 409 and again.get_json()["error"]["details"] == {"postmortem_id": postmortem["id"]}
    assert responder.get(f"/api/incidents/{resolved['id']}/postmortem").get_json()["id"] == postmortem["id"]


def test_a_low_severity_gets_the_lightweight_template(responder: Caller) -> None:
    incident = declare(responder, severity="SEV4")
    assert start(responder, incident["id"])["template"] == "near-miss"
    other = declare(responder, severity="SEV4")
    assert start(responder, other["id"], template="security")["template"] == "security"
    third = declare(responder, severity="SEV4")
    assert responder.post(f"/api/incidents/{third['id']}/postmortem", {"template": "nope"}).status_code == 404


def test_a_stale_save_is_refused_with_both_texts(responder: Caller, make_caller: Any, resolved: dict[str, Any]) -> None:
    sam = make_caller("responder", name="Sam Second")
    postmortem = start(responder, resolved["id"])
    url = f"/api/postmortems/{postmortem['id']}/sections/surprises"
    version = sections(postmortem)["surprises"]["version"]
    first = responder.call("PUT", url, {"body": "We believed the gateway retried.", "version": version})
    assert first.status_code == 200 and first.get_json()["version"] == version + 1
    second = sam.call("PUT", url, {"body": "Nobody knew the pool was shared.", "version": version})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert "changed by Riley Responder" in error["message"]
    assert error["details"]["current_body"] == "We believed the gateway retried."
    assert error["details"]["your_body"] == "Nobody knew the pool was shared."
    assert error["details"]["current_version"] == version + 1
    merged = sam.call(
        "PUT",
        url,
        {"body": "We believed the gateway retried. Nobody knew the pool was shared.", "version": version + 1},
    )
    assert merged.status_code == 200
    history = responder.get(f"/api/postmortems/{postmortem['id']}/history").get_json()["changes"]
    assert [c["by"]["name"] for c in history[:2]] == ["Sam Second", "Riley Responder"]
    assert "+We believed the gateway retried. Nobody knew the pool was shared." in history[0]["diff"]
    assert "-We believed the gateway retried." in history[0]["diff"]


def test_contributing_factors_with_how_follow_ups(responder: Caller, resolved: dict[str, Any]) -> None:
    postmortem = start(responder, resolved["id"])
    url = f"/api/postmortems/{postmortem['id']}/factors"
    factor = responder.post(url, {"text": "The gateway shares one connection pool", "category": "Design decision"})
    assert factor.status_code == 201 and factor.get_json()["category"] == "design decision"
    how = responder.post(
        url,
        {
            "text": "How did the pool fill? Retries doubled",
            "category": "dependency",
            "parent_id": factor.get_json()["id"],
        },
    )
    assert how.get_json()["parent_id"] == factor.get_json()["id"]
    bad = responder.post(url, {"text": "x", "category": "root cause"})
    assert bad.status_code == 422 and "design decision" in bad.get_json()["error"]["message"]
    assert responder.delete(f"/api/factors/{factor.get_json()['id']}").status_code == 204
    assert responder.get(f"/api/postmortems/{postmortem['id']}").get_json()["contributing_factors"] == []


def test_action_items_default_dates_owners_and_lists(
    responder: Caller, make_caller: Any, resolved: dict[str, Any]
) -> None:
    owner = make_caller("responder", email="olu@example.com", name="Olu Owner")
    postmortem = start(responder, resolved["id"])
    url = f"/api/postmortems/{postmortem['id']}/action-items"
    fix = responder.post(
        url, {"title": "Separate pools per merchant", "owner": "olu@example.com", "type": "prevent"}
    ).get_json()
    assert fix["due_on"] == (date.today() + timedelta(days=30)).isoformat()
    idea = responder.post(
        url, {"title": "Chaos test the gateway", "priority": "idea", "owner_team": "payments"}
    ).get_json()
    assert idea["due_on"] == (date.today() + timedelta(days=90)).isoformat()
    late = responder.post(
        url, {"title": "Alert on pool saturation", "owner": "olu@example.com", "type": "detect", "due_on": "2020-01-01"}
    )
    assert late.status_code == 201 and late.get_json()["overdue"] is True  # allowed, and flagged
    nobody = responder.post(url, {"title": "x", "owner": "ghost@example.com"})
    assert nobody.status_code == 422 and nobody.get_json()["error"]["field"] == "owner"

    mine = owner.get("/api/action-items?owner=me").get_json()["action_items"]
    assert [i["title"] for i in mine] == ["Alert on pool saturation", "Separate pools per merchant"]
    assert [i["title"] for i in owner.get("/api/action-items?owner=me&overdue=true").get_json()["action_items"]] == [
        "Alert on pool saturation"
    ]
    assert [i["title"] for i in owner.get("/api/action-items?team=payments").get_json()["action_items"]] == [
        "Chaos test the gateway"
    ]
    assert len(owner.get("/api/action-items?service=checkout").get_json()["action_items"]) == 3
    assert owner.get("/api/action-items?service=search").get_json()["action_items"] == []

    refused = owner.patch(f"/api/action-items/{fix['id']}", {"status": "wont_do"})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "wont_do_reason"
    done = owner.patch(
        f"/api/action-items/{fix['id']}", {"status": "wont_do", "wont_do_reason": "Pools go away with the new gateway"}
    )
    assert done.get_json()["status"] == "wont_do"
    assert owner.patch(f"/api/action-items/{fix['id']}", {"priority": None}).status_code == 422


def test_publishing_needs_owners_dates_required_sections_and_blameless_language(
    responder: Caller, resolved: dict[str, Any]
) -> None:
    postmortem = start(responder, resolved["id"])
    pid = postmortem["id"]
    responder.call(
        "PUT",
        f"/api/postmortems/{pid}/sections/impact",
        {"body": "", "version": sections(postmortem)["impact"]["version"]},
    )
    responder.post(f"/api/postmortems/{pid}/action-items", {"title": "Chaos test the gateway", "priority": "idea"})
    refused = responder.post(f"/api/postmortems/{pid}/publish", {})
    assert refused.status_code == 422
    problems = refused.get_json()["error"]["details"]["problems"]
    assert "“Impact” is required and empty" in problems
    assert "idea “Chaos test the gateway” has no owner" in problems
    assert "there is no countermeasure yet" in problems

    current = sections(responder.get(f"/api/postmortems/{pid}").get_json())
    assert "“Summary” is required and holds only the pre-filled text and its prompt" in problems
    responder.call(
        "PUT",
        f"/api/postmortems/{pid}/sections/impact",
        {"body": "Checkout failed for 45 minutes.", "version": current["impact"]["version"]},
    )
    write_required(responder, pid, keys=("summary", "detection"))
    responder.call(
        "PUT",
        f"/api/postmortems/{pid}/sections/surprises",
        {"body": "We should have known the pool was shared.", "version": current["surprises"]["version"]},
    )
    item = responder.get(f"/api/postmortems/{pid}").get_json()["action_items"][0]
    responder.patch(f"/api/action-items/{item['id']}", {"owner_team": "payments"})
    responder.post(
        f"/api/postmortems/{pid}/action-items", {"title": "Be more careful with pool sizes", "owner_team": "payments"}
    )
    refused = responder.post(f"/api/postmortems/{pid}/publish", {})
    details = refused.get_json()["error"]["details"]
    assert details["problems"] == []
    assert {(f["where"], f["rule"], f["phrase"]) for f in details["findings"]} == {
        ("section:surprises", "counterfactual", "should have"),
        (f"action_item:{item['id'] + 1}", "try-harder", "Be more careful"),
    }
    # Reframe one, acknowledge the other with a reason.
    current = sections(responder.get(f"/api/postmortems/{pid}").get_json())
    responder.call(
        "PUT",
        f"/api/postmortems/{pid}/sections/surprises",
        {"body": "Nothing showed the pool was shared.", "version": current["surprises"]["version"]},
    )
    without_reason = responder.post(
        f"/api/postmortems/{pid}/publish",
        {
            "acknowledge": [
                {
                    "where": f"action_item:{item['id'] + 1}",
                    "rule": "try-harder",
                    "phrase": "Be more careful",
                    "reason": " ",
                }
            ]
        },
    )
    assert without_reason.status_code == 422 and without_reason.get_json()["error"]["field"] == "acknowledge"
    published = responder.post(
        f"/api/postmortems/{pid}/publish",
        {
            "acknowledge": [
                {
                    "where": f"action_item:{item['id'] + 1}",
                    "rule": "try-harder",
                    "phrase": "Be more careful",
                    "reason": "Paired with an automated limit",
                }
            ]
        },
    )
    assert published.status_code == 200, published.get_json()
    body = published.get_json()
    assert body["status"] == "published" and body["published_at"]
    assert body["acknowledged_findings"][0]["reason"] == "Paired with an automated limit"

    # Published: the text stands until reopened; the work on action items goes on.
    locked = responder.call("PUT", f"/api/postmortems/{pid}/sections/lucky", {"body": "x", "version": 1})
    assert locked.status_code == 409
    assert responder.patch(f"/api/action-items/{item['id']}", {"status": "in_progress"}).status_code == 200
    assert responder.patch(f"/api/action-items/{item['id']}", {"title": "Other"}).status_code == 422
    assert responder.post(f"/api/postmortems/{pid}/reopen").get_json()["status"] == "draft"
    history = responder.get(f"/api/postmortems/{pid}/history").get_json()["changes"]
    assert history[0]["summary"] == "Reopened." and any(c["summary"].startswith("Published") for c in history)


def test_closing_waits_for_a_published_postmortem_when_configured(
    app: Flask, responder: Caller, resolved: dict[str, Any]
) -> None:
    app.config["POSTMORTEM_REQUIRED_FOR"] = "SEV1,SEV2"
    refused = responder.patch(f"/api/incidents/{resolved['id']}", {"status": "closed"})
    assert refused.status_code == 422
    assert (
        refused.get_json()["error"]["message"]
        == "SEV2 incidents close once their post-mortem is published (none is started yet)"
    )
    assert responder.get(f"/api/incidents/{resolved['id']}").get_json()["status"] == "resolved"
    postmortem = start(responder, resolved["id"])
    write_required(responder, postmortem["id"])
    assert (
        "it is draft"
        in responder.patch(f"/api/incidents/{resolved['id']}", {"status": "closed"}).get_json()["error"]["message"]
    )
    responder.post(
        f"/api/postmortems/{postmortem['id']}/action-items",
        {"title": "Alert on pool saturation", "owner_team": "payments"},
    )
    assert responder.post(f"/api/postmortems/{postmortem['id']}/publish", {}).status_code == 200
    assert responder.patch(f"/api/incidents/{resolved['id']}", {"status": "closed"}).get_json()["status"] == "closed"
    low = declare(responder, severity="SEV4")
    assert responder.patch(f"/api/incidents/{low['id']}", {"status": "closed"}).status_code == 200


def test_restricted_reviews_stay_hidden_and_viewers_only_read(
    responder: Caller, make_caller: Any, resolved: dict[str, Any]
) -> None:
    secret = declare(responder, title="Key leak", visibility="restricted")
    hidden = start(responder, secret["id"], template="security")
    responder.post(f"/api/postmortems/{hidden['id']}/action-items", {"title": "Rotate keys", "owner_team": "security"})
    outsider = make_caller("responder")
    assert outsider.get(f"/api/postmortems/{hidden['id']}").status_code == 404
    assert outsider.get(f"/api/incidents/{secret['id']}/postmortem").status_code == 404
    assert (
        outsider.post(f"/api/postmortems/{hidden['id']}/factors", {"text": "x", "category": "process"}).status_code
        == 404
    )
    assert outsider.get("/api/action-items?team=security").get_json()["action_items"] == []
    viewer = make_caller("viewer")
    open_one = start(responder, resolved["id"])
    assert viewer.get(f"/api/postmortems/{open_one['id']}").status_code == 200
    assert (
        viewer.post(f"/api/postmortems/{open_one['id']}/factors", {"text": "x", "category": "process"}).status_code
        == 403
    )


def test_markdown_export_has_front_matter_and_the_document(responder: Caller, resolved: dict[str, Any]) -> None:
    postmortem = start(responder, resolved["id"])
    responder.post(
        f"/api/postmortems/{postmortem['id']}/factors", {"text": 'Title with "quotes" <script>', "category": "process"}
    )
    response = responder.get(f"/api/postmortems/{postmortem['id']}/export.md")
    assert response.mimetype == "text/markdown"
    text = response.get_data(as_text=True)
    assert text.startswith('---\ntitle: "Checkout 502s"\nincident: ' + str(resolved["id"]) + '\nseverity: "SEV2"\n')
    assert "downtime_seconds: 2700" in text
    assert "## Why were we surprised?" in text
    assert '\ntimezone: "UTC"\n---\n\n# Checkout 502s\n\n_Times are in UTC._\n' in text
    assert "- Fri 2026-11-20 10:06 UTC: HighErrorRate firing for checkout" in text
    assert "- Fri 2026-11-20 10:06 UTC (api): HighErrorRate firing for checkout" in text  # the section's, plain
    assert "<time" not in text
    assert '- **process**: Title with "quotes" <script>' in text


def test_bad_input_changes_nothing(responder: Caller, resolved: dict[str, Any]) -> None:
    postmortem = start(responder, resolved["id"])
    pid = postmortem["id"]
    version = sections(postmortem)["lucky"]["version"]
    url = f"/api/postmortems/{pid}/sections/lucky"
    assert responder.call("PUT", url, {"body": "x" * 50_001, "version": version}).status_code == 422
    assert responder.call("PUT", url, {"body": "x", "version": "1"}).status_code == 400
    assert responder.call("PUT", url, {"body": "x"}).status_code == 400
    assert (
        responder.call("PUT", f"/api/postmortems/{pid}/sections/nope", {"body": "x", "version": 1}).status_code == 404
    )
    assert responder.patch(f"/api/postmortems/{pid}", {"agreed_downtime_seconds": -5}).status_code == 422
    assert responder.patch(f"/api/postmortems/{pid}", {"agreed_severity": "SEV9"}).status_code == 422
    assert responder.patch(f"/api/postmortems/{pid}", {"facilitator": "ghost@example.com"}).status_code == 422
    assert responder.call("PUT", f"/api/postmortems/{pid}/timeline", {"entry_ids": [999_999]}).status_code == 422
    assert (
        responder.post(f"/api/postmortems/{pid}/action-items", {"title": "x", "due_on": "next week"}).status_code == 400
    )
    assert (
        responder.post(
            f"/api/postmortems/{pid}/action-items", {"title": "x", "ticket_url": "javascript:alert(1)"}
        ).status_code
        == 422
    )
    after = responder.get(f"/api/postmortems/{pid}").get_json()
    assert after["sections"] == postmortem["sections"]
    assert after["metrics"] == postmortem["metrics"] and after["action_items"] == []
    assert after["agreed_timeline"] == postmortem["agreed_timeline"]


def test_the_agreed_timeline_is_chosen_from_the_incidents_and_drops_deleted_entries(
    responder: Caller, resolved: dict[str, Any]
) -> None:
    postmortem = start(responder, resolved["id"])
    entries = responder.get(f"/api/incidents/{resolved['id']}/timeline").get_json()["entries"]
    coffee = next(e for e in entries if e["text"] == "coffee")
    alert = next(e for e in entries if e["kind"] == "alert")
    chosen = responder.call(
        "PUT", f"/api/postmortems/{postmortem['id']}/timeline", {"entry_ids": [coffee["id"], alert["id"]]}
    )
    assert [e["text"] for e in chosen.get_json()["agreed_timeline"]] == ["HighErrorRate firing for checkout", "coffee"]
    responder.delete(f"/api/incidents/{resolved['id']}/timeline/{coffee['id']}")
    after = responder.get(f"/api/postmortems/{postmortem['id']}").get_json()
    assert [e["text"] for e in after["agreed_timeline"]] == ["HighErrorRate firing for checkout"]
    assert "coffee" not in responder.get(f"/api/postmortems/{postmortem['id']}/export.md").get_data(as_text=True)
