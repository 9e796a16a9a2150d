"""Routing rules: the defaults in code, plus an optional file (KINTSUGI_ALERT_RULES), checked at start-up."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from incidents.alerts.commands import DEFAULT_RULES, SENDER_NAMES, RouteAction, RoutingRule, route
from incidents.models import Source

RULE_KEYS = {"source", "action", "match", "severity", "mitigate_when_resolved", "commander"}
# Senders as the rules name them.
SENDERS = {source.value: source for source in SENDER_NAMES}


class RulesError(ValueError):
    """The routing rules cannot be used; the message says which rule and why."""


def load_rules(config: Mapping[str, Any]) -> tuple[RoutingRule, ...]:
    """The configured rules first (first match wins), then the defaults.

    ALERT_RULES is a path to a TOML file of [[rule]] tables or a JSON file (a list, or {"rule": [...]});
    tests may give the list itself.
    """
    setting = config.get("ALERT_RULES")
    if not setting:
        return DEFAULT_RULES
    origin = "ALERT_RULES"
    if isinstance(setting, (str, Path)):
        origin = f"KINTSUGI_ALERT_RULES ({setting})"
        raw = _read(Path(setting), origin)
    else:
        raw = setting
    if isinstance(raw, dict):
        raw = raw.get("rule", raw.get("rules"))
    if not isinstance(raw, list):
        raise RulesError(f"{origin}: expected a list of rules ([[rule]] tables in TOML)")
    scale = _scale(config.get("SEVERITIES", ""))
    return tuple(_rule(item, n, origin, scale) for n, item in enumerate(raw, start=1)) + DEFAULT_RULES


def _read(path: Path, origin: str) -> Any:
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{origin}: cannot read the file ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(content)
        return tomllib.loads(content)
    except ValueError as exc:
        raise RulesError(f"{origin}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {exc}") from None


def _rule(item: Any, n: int, origin: str, scale: list[str]) -> RoutingRule:
    where = f"{origin}: rule {n}"
    if not isinstance(item, dict):
        raise RulesError(f"{where}: must be a table of {', '.join(sorted(RULE_KEYS))}")
    unknown = set(item) - RULE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(RULE_KEYS))}")
    source_name = item.get("source", "*")
    if source_name != "*" and source_name not in SENDERS:
        raise RulesError(f"{where}: source must be '*' or one of {', '.join(SENDERS)}")
    try:
        action = RouteAction(str(item.get("action")))
    except ValueError:
        raise RulesError(f"{where}: action must be one of {', '.join(a.value for a in RouteAction)}") from None
    match = item.get("match", {})
    if not isinstance(match, dict):
        raise RulesError(f"{where}: match must be a table of fact = value or [values]")
    values: dict[str, tuple[str, ...]] = {}
    for fact, wanted in match.items():
        listed = wanted if isinstance(wanted, list) else [wanted]
        if not listed or not all(isinstance(v, str) for v in listed):
            raise RulesError(f"{where}: match.{fact} must be a string or a list of strings")
        values[str(fact)] = tuple(listed)
    severity = item.get("severity")
    if severity is not None and str(severity).lower() not in {s.lower() for s in scale}:
        raise RulesError(f"{where}: severity {severity!r} is not on the scale {', '.join(scale)}")
    mitigate = item.get("mitigate_when_resolved", False)
    if not isinstance(mitigate, bool):
        raise RulesError(f"{where}: mitigate_when_resolved must be true or false")
    commander = item.get("commander")
    if commander is not None and (
        not isinstance(commander, str) or "@" not in commander or action is not RouteAction.DECLARE
    ):
        raise RulesError(f"{where}: commander must be the email of a person, on a rule that declares")
    return RoutingRule(
        commander=commander.strip() if commander else None,
        source=None if source_name == "*" else SENDERS[source_name],
        action=action,
        match=values,
        severity=str(severity) if severity is not None else None,
        mitigate_when_resolved=mitigate,
    )


def _scale(raw: Any) -> list[str]:
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return [str(v).strip() for v in values if str(v).strip()]


def facts_of(text: str) -> dict[str, str]:
    """Facts typed one per line as name=value (an alert's labels, say), for trying the rules."""
    facts: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise RulesError(f"line {number}: write each fact as name=value, for example severity=critical")
        facts[name.strip()] = value.strip()
    return facts


def sender_of(value: str) -> Source:
    """A sender named as in the rules (alertmanager, pagerduty, opsgenie, grafana)."""
    if value not in SENDERS:
        raise RulesError(f"the sender must be one of {', '.join(SENDERS)}")
    return SENDERS[value]


NumberedRule = tuple[int | None, RoutingRule, bool]


def rules_in_force(rules: Sequence[RoutingRule]) -> list[NumberedRule]:
    """The rules in the order they are tried: (number from 1, rule, whether it is a default)."""
    return [(n, rule, any(rule is default for default in DEFAULT_RULES)) for n, rule in enumerate(rules, start=1)]


def first_match(rules: Sequence[RoutingRule], sender: str, facts: str) -> NumberedRule:
    """The rule an alert from the sender with these facts meets, numbered as in rules_in_force;
    no number when none does and the alert is only recorded."""
    rule = route(rules, sender_of(sender), facts_of(facts))
    found = next((numbered for numbered in rules_in_force(rules) if numbered[1] is rule), None)
    return found if found is not None else (None, rule, False)
