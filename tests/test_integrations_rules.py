"""Routing rules: defaults in code, an optional TOML or JSON file, refused at start-up with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from incidents.alerts.commands import DEFAULT_RULES, RouteAction, route
from incidents.models import Source
from integrations.rules import RulesError, load_rules

SCALE = "SEV1,SEV2,SEV3,SEV4,SEV5"


def test_defaults_declare_on_critical_attach_on_warning_and_record_the_rest() -> None:
    rules = load_rules({"SEVERITIES": SCALE})
    assert rules == DEFAULT_RULES
    assert route(rules, Source.ALERTMANAGER, {"severity": "critical"}).action is RouteAction.DECLARE
    assert route(rules, Source.ALERTMANAGER, {"severity": "warning"}).action is RouteAction.ATTACH
    assert route(rules, Source.ALERTMANAGER, {"severity": "info"}).action is RouteAction.RECORD
    assert route(rules, Source.ALERTMANAGER, {}).action is RouteAction.RECORD
    assert route(rules, Source.PAGERDUTY, {"urgency": "high"}).action is RouteAction.DECLARE
    assert route(rules, Source.PAGERDUTY, {"urgency": "low"}).action is RouteAction.ATTACH
    assert route(rules, Source.OPSGENIE, {"priority": "P5"}).action is RouteAction.RECORD


def test_a_toml_file_comes_before_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nsource = "alertmanager"\naction = "record"\nmatch = { team = ["sandbox", "lab"] }\n\n'
        '[[rule]]\nsource = "*"\naction = "declare"\nmatch = { env = "prod", severity = "warning" }\n'
        'severity = "sev3"\nmitigate_when_resolved = true\n'
    )
    rules = load_rules({"ALERT_RULES": str(path), "SEVERITIES": SCALE})
    assert route(rules, Source.ALERTMANAGER, {"team": "lab", "severity": "critical"}).action is RouteAction.RECORD
    chosen = route(rules, Source.GRAFANA, {"env": "prod", "severity": "warning"})
    assert (chosen.action, chosen.severity, chosen.mitigate_when_resolved) == (RouteAction.DECLARE, "sev3", True)
    assert route(rules, Source.GRAFANA, {"env": "dev", "severity": "warning"}).action is RouteAction.ATTACH


def test_a_json_file_works_too(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('[{"source": "pagerduty", "action": "record", "match": {"urgency": "high"}}]')
    assert (
        route(load_rules({"ALERT_RULES": str(path), "SEVERITIES": SCALE}), Source.PAGERDUTY, {"urgency": "high"}).action
        is RouteAction.RECORD
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[rule]]\naction = "page"\n', "rule 1: action must be one of declare, attach, record"),
        ('[[rule]]\naction = "declare"\nsource = "nagios"\n', "rule 1: source must be '*' or one of"),
        ('[[rule]]\naction = "declare"\nseverity = "SEV9"\n', "rule 1: severity 'SEV9' is not on the scale"),
        ('[[rule]]\naction = "declare"\nmatch = { severity = 3 }\n', "rule 1: match.severity must be a string"),
        ('[[rule]]\naction = "declare"\nwhen = "always"\n', "rule 1: unknown key 'when'"),
        (
            '[[rule]]\naction = "declare"\nmitigate_when_resolved = "yes"\n',
            "mitigate_when_resolved must be true or false",
        ),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_bad_rules_stop_the_start_with_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(content)
    with pytest.raises(RulesError, match="KINTSUGI_ALERT_RULES") as caught:
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "ALERT_RULES": str(path)})
    assert message in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the file"):
        load_rules({"ALERT_RULES": str(tmp_path / "absent.toml"), "SEVERITIES": SCALE})
