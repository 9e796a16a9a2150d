"""The one writer of incident state: a pager's incident is declared, acknowledged and commanded by the
same core as a person's, and a sender's text is cut with a mark where a person's is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alerting import (
    AM_TOKEN,
    PD_SECRET,
    am_alert,
    am_notification,
    am_post,
    db,
    only_incident,
    pd_event,
    pd_post,
    timeline_texts,
    use_rules,
)
from conftest import Caller, csrf_of, make_user, sign_in
from flask import Flask
from sqlalchemy import select

from incidents.actors import Sender, cut, text_of
from incidents.errors import InvalidInput
from incidents.models import TEXT_MAX, TITLE_MAX, Incident, IncidentRole, Role, TimelineEntry
from integrations import rules


@pytest.fixture
def pager_app(app: Flask) -> Flask:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    app.config["PAGERDUTY_WEBHOOK_SECRETS"] = PD_SECRET
    return app


def commanders(app: Flask) -> list[str]:
    with db(app) as session:
        incident = session.scalars(select(Incident)).one()
        return [u.email for u in incident.holders(IncidentRole.COMMANDER)]


@pytest.mark.parametrize("length", [TITLE_MAX + 1, TITLE_MAX + 9, TITLE_MAX + 95, 5 * TITLE_MAX, 12_345])
def test_a_senders_text_is_cut_to_fit_with_a_mark_of_what_was_left_out(length: int) -> None:
    value = "x" * length
    kept = cut(value, TITLE_MAX)
    assert len(kept) <= TITLE_MAX
    body, _, mark = kept.partition(" … [")
    assert set(body) == {"x"}
    assert mark == f"{length - len(body):,} more characters not kept]"
    assert cut("  short and sweet  ", TITLE_MAX) == "short and sweet"


def test_a_persons_text_that_is_too_long_is_refused_not_cut() -> None:
    from incidents.models import User

    person = User(email="p@example.com", name="P", role=Role.RESPONDER)
    with pytest.raises(InvalidInput, match="title must be at most 200 characters"):
        text_of(person, "y" * 201, field="title", limit=TITLE_MAX)
    assert text_of(Sender("Alertmanager"), "y" * 201, field="title", limit=TITLE_MAX).endswith(
        "more characters not kept]"
    )


def test_an_alert_with_an_enormous_title_and_text_declares_with_both_cut_and_marked(
    pager_app: Flask, client: Any
) -> None:
    # The incident's title and the alert's entry both carry the summary.
    answer = am_post(client, am_notification(am_alert(summary="s" * (TEXT_MAX + 500))))
    assert answer.status_code == 200 and answer.get_json()["status"] == "applied", answer.get_json()
    incident = only_incident(pager_app)
    assert len(incident.title) <= TITLE_MAX and incident.title.endswith("more characters not kept]")
    texts = timeline_texts(pager_app, incident.id)
    assert any(t.startswith("Alertmanager: declared a SEV2 incident from") for t in texts)
    alert_entry = next(t for t in texts if "5xx" in t or "sss" in t)
    assert len(alert_entry) <= TEXT_MAX and alert_entry.endswith("more characters not kept]")


def test_an_alert_declared_incident_has_no_commander_until_a_person_acts(
    pager_app: Flask, client: Any, responder: Caller
) -> None:
    am_post(client, am_notification(am_alert()))
    assert commanders(pager_app) == []
    incident = only_incident(pager_app)
    assert "Alertmanager: declared a SEV2 incident from HighErrorRate; nobody commands it yet." in timeline_texts(
        pager_app, incident.id
    )
    # The first person to act on it in Kintsugi, here by writing on its timeline, takes command.
    answer = responder.post(f"/api/incidents/{incident.id}/timeline", {"text": "Looking at the checkout pods"})
    assert answer.status_code == 201
    assert commanders(pager_app) == ["riley@example.com"]
    assert "Incident commander: nobody → Riley Responder (the first to act on it)." in timeline_texts(
        pager_app, incident.id
    )


def test_a_routing_rule_names_the_commander(pager_app: Flask, client: Any) -> None:
    make_user(pager_app, "oncall@example.com")
    use_rules(
        pager_app,
        [
            {
                "source": "alertmanager",
                "match": {"severity": "critical"},
                "action": "declare",
                "commander": "oncall@example.com",
            }
        ],
    )
    am_post(client, am_notification(am_alert()))
    assert commanders(pager_app) == ["oncall@example.com"]
    incident = only_incident(pager_app)
    assert "Alertmanager: declared a SEV2 incident from HighErrorRate; Oncall is incident commander." in timeline_texts(
        pager_app, incident.id
    )


def test_a_rule_naming_nobody_known_declares_without_a_commander(pager_app: Flask, client: Any) -> None:
    use_rules(pager_app, [{"source": "alertmanager", "action": "declare", "commander": "gone@example.com"}])
    answer = am_post(client, am_notification(am_alert()))
    assert answer.get_json()["status"] == "applied"
    assert commanders(pager_app) == []
    texts = timeline_texts(pager_app, only_incident(pager_app).id)
    assert any("gone@example.com" in t and "no active account" in t for t in texts), texts


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"action": "declare", "commander": "not-an-email"}, "commander must be the email of a person"),
        ({"action": "attach", "commander": "a@example.com"}, "on a rule that declares"),
        ({"action": "declare", "commander": 7}, "commander must be the email"),
    ],
)
def test_a_bad_commander_in_the_rules_stops_the_start(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(rules.RulesError, match=message):
        rules.load_rules({"ALERT_RULES": [rule], "SEVERITIES": "SEV1,SEV2"})


def test_the_person_who_acknowledges_in_pagerduty_takes_command(pager_app: Flask, client: Any) -> None:
    make_user(pager_app, "bob@example.com")
    with db(pager_app) as session:
        from incidents.models import User

        bob = session.scalars(select(User).where(User.email == "bob@example.com")).one()
        bob.name = "Bob Oncall"
        session.commit()
    pd_post(client, pd_event())
    assert commanders(pager_app) == []
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-ACK"))
    assert commanders(pager_app) == ["bob@example.com"]
    incident = only_incident(pager_app)
    assert incident.acknowledged_at is not None
    assert "PagerDuty: Bob Oncall acknowledged, so takes command; commander: nobody → Bob Oncall." in timeline_texts(
        pager_app, incident.id
    )


def test_an_acknowledgement_by_someone_kintsugi_does_not_know_sets_the_time_only(pager_app: Flask, client: Any) -> None:
    pd_post(client, pd_event())
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-ACK", agent="A Stranger"))
    incident = only_incident(pager_app)
    assert incident.acknowledged_at is not None
    assert commanders(pager_app) == []


def test_an_acknowledgement_before_detection_leaves_the_time_unset_by_the_one_rule(
    pager_app: Flask, client: Any
) -> None:
    now = datetime.now(UTC)
    pd_post(client, pd_event(occurred_at=(now - timedelta(minutes=1)).isoformat()))
    # The sender's clock says it was acknowledged before it was triggered: not patched to the detection time.
    early = (now - timedelta(minutes=10)).isoformat()
    answer = pd_post(client, pd_event("incident.acknowledged", event_id="EV-EARLY", occurred_at=early, agent=None))
    assert answer.get_json()["status"] == "applied"
    incident = only_incident(pager_app)
    assert incident.acknowledged_at is None
    with db(pager_app) as session:
        entry = session.scalars(select(TimelineEntry).where(TimelineEntry.external_id == "EV-EARLY")).one()
        assert entry.is_key_moment is False


def test_take_command_on_the_page(pager_app: Flask, client: Any) -> None:
    am_post(client, am_notification(am_alert()))
    incident = only_incident(pager_app)
    make_user(pager_app, "kim@example.com")
    browser = pager_app.test_client()
    sign_in(browser, "kim@example.com")
    page = browser.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "nobody yet" in page and "Take command" in page
    taken = browser.post(f"/incidents/{incident.id}/take-command", data={"csrf_token": csrf_of(page)})
    assert taken.status_code == 302
    assert commanders(pager_app) == ["kim@example.com"]
    page = browser.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Take command" not in page
    # Someone commands it now: taking command again is refused and changes nothing.
    make_user(pager_app, "lee@example.com")
    other = pager_app.test_client()
    sign_in(other, "lee@example.com")
    page = other.get(f"/incidents/{incident.id}").get_data(as_text=True)
    again = other.post(f"/incidents/{incident.id}/take-command", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409
    assert commanders(pager_app) == ["kim@example.com"]


def test_a_viewer_cannot_take_command(pager_app: Flask, client: Any) -> None:
    am_post(client, am_notification(am_alert()))
    incident = only_incident(pager_app)
    make_user(pager_app, "vic@example.com", role=Role.VIEWER)
    browser = pager_app.test_client()
    sign_in(browser, "vic@example.com")
    page = browser.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Take command" not in page
    refused = browser.post(f"/incidents/{incident.id}/take-command", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    assert commanders(pager_app) == []


def emitted(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """The events written to the outbox for the test's listener, in order, as (type, payload)."""
    from incidents.outbox.models import OutboxRow

    with db(app) as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.handler == "test.listener").order_by(OutboxRow.id))
        return [(row.event_type, row.payload) for row in rows]


@pytest.fixture
def listening(pager_app: Flask) -> Flask:
    """Every event type has a subscriber, so every event a use case emits is an outbox row."""
    from incidents.events import event_types, subscribe

    for type_name in event_types():
        subscribe(pager_app, type_name, "test.listener", lambda _event: None)
    return pager_app


def test_an_alert_declared_incident_emits_the_events_of_one_declared_on_a_page(listening: Flask, client: Any) -> None:
    make_user(listening, "kim@example.com")
    browser = listening.test_client()
    sign_in(browser, "kim@example.com")
    page = browser.get("/incidents/new").get_data(as_text=True)
    browser.post(
        "/incidents/new",
        data={
            "csrf_token": csrf_of(page),
            "title": "Checkout errors",
            "severity": "SEV2",
            "commander": "kim@example.com",
            "visibility": "open",
        },
    )
    by_page = emitted(listening)
    am_post(client, am_notification(am_alert(service="payments")))
    by_alert = emitted(listening)[len(by_page) :]
    page_declared = [p for t, p in by_page if t == "incident.declared"]
    alert_declared = [p for t, p in by_alert if t == "incident.declared"]
    assert len(page_declared) == 1 and len(alert_declared) == 1
    assert set(page_declared[0]) == set(alert_declared[0])
    assert page_declared[0]["source"] == "web" and page_declared[0]["actor_name"] == "Kim"
    assert alert_declared[0]["source"] == "alertmanager" and alert_declared[0]["actor_id"] is None
    assert alert_declared[0]["actor_name"] == "Alertmanager"
    # The alert's own entry is an event too, for the incident it declared.
    incident_id = alert_declared[0]["incident_id"]
    assert (
        "timeline.entries_recorded",
        {"incident_id": incident_id, "entry_ids": [], "source": "alertmanager"},
    ) in by_alert


def test_a_pagers_acknowledgement_and_mitigation_emit_incident_changes(listening: Flask, client: Any) -> None:
    use_rules(listening, [{"source": "pagerduty", "action": "declare", "mitigate_when_resolved": True}])
    pd_post(client, pd_event(occurred_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat()))
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-ACK"))
    pd_post(client, pd_event("incident.resolved", event_id="EV-RES"))
    changes = [p["changed"] for t, p in emitted(listening) if t == "incident.changed"]
    assert ["acknowledged_at"] in changes
    assert ["status"] in changes or ["mitigated_at", "status"] in changes
    incident = only_incident(listening)
    assert incident.status.value == "mitigated" and incident.mitigated_at is not None


def test_a_refused_change_emits_nothing(listening: Flask, responder: Caller) -> None:
    answer = responder.post("/api/incidents", {"title": "t", "severity": "SEV9"})
    assert answer.status_code == 422
    assert emitted(listening) == []


def test_healthz_tells_the_age_of_the_oldest_effect_still_waiting(listening: Flask, responder: Caller) -> None:
    assert listening.test_client().get("/healthz").get_json()["outbox_oldest_pending_seconds"] is None
    responder.post("/api/incidents", {"title": "Checkout errors", "severity": "SEV2"})
    age = listening.test_client().get("/healthz").get_json()["outbox_oldest_pending_seconds"]
    assert isinstance(age, float) and 0 <= age < 60  # no worker runs in tests: it waits


def test_a_change_that_changes_nothing_emits_nothing_and_names_only_what_changed(
    listening: Flask, responder: Caller
) -> None:
    incident = responder.post("/api/incidents", {"title": "Checkout errors", "severity": "SEV2"}).get_json()
    before = len(emitted(listening))
    same = responder.patch(f"/api/incidents/{incident['id']}", {"severity": "SEV2", "status": "investigating"})
    assert same.status_code == 200
    assert emitted(listening)[before:] == []
    assert same.get_json()["updated_at"] == incident["updated_at"]
    responder.patch(f"/api/incidents/{incident['id']}", {"severity": "SEV1", "status": "investigating", "tags": []})
    changes = [p["changed"] for t, p in emitted(listening)[before:] if t == "incident.changed"]
    assert changes == [["severity"]]


def test_only_an_open_alert_declared_incident_is_taken_by_the_first_to_act(
    pager_app: Flask, client: Any, responder: Caller
) -> None:
    # A person's incident whose commander was cleared stays as its people left it.
    incident = responder.post("/api/incidents", {"title": "Search slow", "severity": "SEV3"}).get_json()
    responder.patch(f"/api/incidents/{incident['id']}", {"roles": {"commander": None}})
    responder.patch(f"/api/incidents/{incident['id']}", {"tags": ["search"]})
    with db(pager_app) as session:
        found = session.get(Incident, incident["id"])
        assert found is not None and found.holders(IncidentRole.COMMANDER) == []
    # An import writing history in someone's name takes nobody's command.
    am_post(client, am_notification(am_alert(service="payments")))
    with db(pager_app) as session:
        alert_id = session.scalars(select(Incident.id).where(Incident.declared_by_id.is_(None))).one()
    imported = responder.post(
        f"/api/incidents/{alert_id}/timeline",
        {"text": "Paged the payments team", "source": "import", "actor_name": "Carol", "external_id": "old-1"},
    )
    assert imported.status_code == 201
    with db(pager_app) as session:
        found = session.get(Incident, alert_id)
        assert found is not None and found.holders(IncidentRole.COMMANDER) == []


def test_a_late_acknowledgement_of_a_closed_incident_takes_no_command(pager_app: Flask, client: Any) -> None:
    make_user(pager_app, "bob@example.com")
    with db(pager_app) as session:
        from incidents.models import User

        session.scalars(select(User).where(User.email == "bob@example.com")).one().name = "Bob Oncall"
        session.commit()
    pd_post(client, pd_event(occurred_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat()))
    incident_id = only_incident(pager_app).id
    # Closed long ago; the acknowledgement comes after an escalation, days later.
    with db(pager_app) as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        from incidents.models import Status

        found.status = Status.CLOSED  # as if long closed; the test needs no post-mortem
        session.commit()
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-LATE"))
    assert commanders(pager_app) == []


def test_one_commander_at_most_even_when_two_take_command_at_once(pager_app: Flask, client: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    from incidents.models import RoleAssignment, User

    am_post(client, am_notification(am_alert()))
    make_user(pager_app, "kim@example.com")
    make_user(pager_app, "lee@example.com")
    incident_id = only_incident(pager_app).id
    with db(pager_app) as session:
        kim, lee = (
            session.scalars(select(User).where(User.email == e)).one() for e in ("kim@example.com", "lee@example.com")
        )
        session.add(RoleAssignment(incident_id=incident_id, user_id=kim.id, role=IncidentRole.COMMANDER))
        session.commit()
        # What a second, simultaneous "Take command" would write after both found nobody in command.
        session.add(RoleAssignment(incident_id=incident_id, user_id=lee.id, role=IncidentRole.COMMANDER))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # Participants are many.
        session.add(RoleAssignment(incident_id=incident_id, user_id=lee.id, role=IncidentRole.PARTICIPANT))
        session.add(RoleAssignment(incident_id=incident_id, user_id=kim.id, role=IncidentRole.PARTICIPANT))
        session.commit()
    assert commanders(pager_app) == ["kim@example.com"]
