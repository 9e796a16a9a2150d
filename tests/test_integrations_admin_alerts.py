"""The admin page of pager alerts: what became of each alert, the routing rules in force, and trying them."""

from __future__ import annotations

from typing import Any

import pytest
from alerting import AM_TOKEN, PD_SECRET, am_alert, am_notification, am_post, pd_event, pd_post
from conftest import make_user, sign_in, words_of
from flask import Flask

from incidents.models import Role
from integrations import receiving, rules


@pytest.fixture
def am_app(app: Flask) -> Flask:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    make_user(app, "ada@example.com", Role.ADMIN)
    make_user(app, "rui@example.com", Role.RESPONDER)
    return app


def test_the_page_says_what_became_of_each_alert(am_app: Flask, client: Any) -> None:
    am_app.config["PAGERDUTY_WEBHOOK_SECRETS"] = PD_SECRET
    am_app.extensions[receiving.RULES] = rules.load_rules(
        {
            "ALERT_RULES": [{"source": "alertmanager", "action": "record", "match": {"team": "lab"}}],
            "SEVERITIES": am_app.config["SEVERITIES"],
        }
    )
    am_post(client, am_notification(am_alert("HighErrorRate", service="checkout", fingerprint="a1")))
    # A warning of the same group joins the open incident; one of another service finds none.
    am_post(
        client,
        am_notification(
            am_alert("HighErrorRate", service="checkout", fingerprint="a1"),
            am_alert("SlowCheckout", service="checkout", severity="warning", fingerprint="a5"),
        ),
    )
    am_post(
        client,
        am_notification(
            am_alert("DiskFilling", service="search", severity="warning", fingerprint="a2"),
            group_key='{}:{alertname="DiskFilling"}',
        ),
    )
    am_post(
        client,
        am_notification(
            am_alert("CertExpiring", service="edge", severity="info", fingerprint="a3"),
            group_key='{}:{alertname="CertExpiring"}',
        ),
    )
    lab = am_alert("LabDown", service="lab-api", fingerprint="a6")
    lab["labels"]["team"] = "lab"
    am_post(client, am_notification(lab, group_key='{}:{alertname="LabDown"}'))
    am_post(
        client,
        am_notification(
            am_alert(
                "QueueLag",
                service="billing",
                severity="critical",
                fingerprint="a4",
                status="resolved",
                ends="2026-11-22T06:10:00Z",
            ),
            group_key='{}:{alertname="QueueLag"}',
        ),
    )
    pd_post(client, pd_event(incident_id="QPD1"))
    sign_in(client, "ada@example.com")
    page = client.get("/admin/alerts")
    assert page.status_code == 200
    words = words_of(page.get_data(as_text=True))
    title = "HighErrorRate for checkout: 5xx ratio above 5%"
    assert f"Alertmanager: HighErrorRate for checkout firing declared or joined #1 {title}" in words
    assert f"Alertmanager: SlowCheckout for checkout firing joined #1 {title}" in words
    assert (
        "Alertmanager: DiskFilling for search firing only recorded: no open incident shared its dedup key or service"
        in words
    )
    recorded = "only recorded, as the rules in force when it arrived said (a record rule, or none matched)"
    assert f"Alertmanager: CertExpiring for edge firing {recorded}" in words
    assert f"Alertmanager: LabDown for lab-api firing {recorded}" in words
    assert "Alertmanager: QueueLag for billing resolved only recorded: it arrived already resolved" in words
    assert (
        "PagerDuty: [FIRING:2] HighErrorRate checkout for Checkout API firing declared or joined "
        "#2 [FIRING:2] HighErrorRate checkout"
    ) in words
    assert 'href="/incidents/1"' in page.get_data(as_text=True)
    # Newest first.
    assert (
        words.index("PagerDuty:")
        < words.index("QueueLag")
        < words.index("CertExpiring")
        < words.index("Alertmanager: HighErrorRate")
    )


def test_only_admins_see_it(am_app: Flask, client: Any) -> None:
    assert client.get("/admin/alerts").status_code == 302  # to the sign-in form
    sign_in(client, "rui@example.com")
    assert client.get("/admin/alerts").status_code == 403
    assert client.get("/admin/alerts?sender=alertmanager&facts=severity%3Dcritical").status_code == 403


def test_the_rules_in_force_are_listed_in_order_yours_first(am_app: Flask, client: Any) -> None:
    receiving_rules = [
        {"source": "alertmanager", "action": "record", "match": {"team": ["sandbox", "lab"]}},
        {
            "source": "*",
            "action": "declare",
            "match": {"env": "prod"},
            "severity": "SEV1",
            "mitigate_when_resolved": True,
        },
    ]
    am_app.extensions[receiving.RULES] = rules.load_rules(
        {"ALERT_RULES": receiving_rules, "SEVERITIES": am_app.config["SEVERITIES"]}
    )
    sign_in(client, "ada@example.com")
    words = words_of(client.get("/admin/alerts").get_data(as_text=True))
    assert "1 Alertmanager team is sandbox or lab is only recorded" in words
    assert (
        "2 any sender env is prod declares an incident (SEV1 unless the alert names one), or joins one open for "
        "its dedup key or service; the incident is marked mitigated when all its alerts resolve"
    ) in words
    assert "3 (default) Alertmanager severity is critical or page declares an incident (SEV2" in words
    assert "— any sender no rule above matched is only recorded" in words


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("sender=alertmanager&facts=severity%3Dcritical", "Rule 1 (default): the alert declares an incident (SEV2"),
        ("sender=alertmanager&facts=severity%3Dwarning%0Aenv%3Dprod", "Rule 2 (default): the alert joins an incident"),
        ("sender=pagerduty&facts=urgency%3Dhigh", "Rule 5 (default): the alert declares an incident"),
        ("sender=opsgenie&facts=priority%3DP5", "No rule matches: the alert is only recorded."),
        ("sender=alertmanager&facts=", "No rule matches: the alert is only recorded."),
        ("sender=alertmanager&facts=severity", "line 1: write each fact as name=value, for example severity=critical"),
        (
            "sender=nagios&facts=severity%3Dcritical",
            "the sender must be one of alertmanager, pagerduty, opsgenie, grafana",
        ),
    ],
)
def test_trying_the_rules_names_the_rule_an_alert_meets(am_app: Flask, client: Any, query: str, answer: str) -> None:
    sign_in(client, "ada@example.com")
    page = client.get(f"/admin/alerts?{query}")
    assert page.status_code == 200
    assert answer in words_of(page.get_data(as_text=True))
