"""What pagers and alerting tools tell us, as plain commands, and the rules that route them.

Adapters translate a sender's payload into these dataclasses; service_alerts applies them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..models import Source


class AlertState(enum.StrEnum):
    """Whether an alert occurrence is firing or has resolved."""

    FIRING = "firing"
    RESOLVED = "resolved"


class RouteAction(enum.StrEnum):
    """What a firing alert does: declare an incident, attach to an open one, or is only recorded."""

    DECLARE = "declare"
    ATTACH = "attach"
    RECORD = "record"


class ResponseKind(enum.StrEnum):
    """What a responder did to an alert in the sender."""

    ACKNOWLEDGED = "acknowledged"
    NOTE = "note"
    OTHER = "other"


@dataclass(frozen=True)
class AlertSignal:
    """An alert occurrence fired or resolved, as its sender saw it.

    (source, alert_key, occurrence_key) names one occurrence: Alertmanager's fingerprint and
    startsAt, PagerDuty's incident id, Opsgenie's alertId.
    """

    source: Source
    alert_key: str
    occurrence_key: str
    state: AlertState
    name: str
    text: str
    event_id: str
    title: str = ""
    service: str | None = None
    dedup_key: str | None = None
    facts: Mapping[str, str] = field(default_factory=dict)
    severity_hint: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    occurred_at: datetime | None = None
    # When the sender first told someone (PagerDuty's trigger); else when it reached us.
    detected_at: datetime | None = None
    # (what it is, url): the first goes on the alert's entry, the others become evidence entries.
    links: tuple[tuple[str, str], ...] = ()
    actor_name: str = ""


@dataclass(frozen=True)
class ResponderAction:
    """A person acted on an alert in the sender: acknowledged it, wrote a note, escalated it."""

    source: Source
    alert_key: str
    kind: ResponseKind
    event_id: str
    text: str
    actor_name: str = ""
    occurred_at: datetime | None = None
    link: str | None = None


Command = AlertSignal | ResponderAction


@dataclass(frozen=True)
class Translation:
    """A delivery read: its commands, or why nothing is to be done, or why it could not be read."""

    commands: tuple[Command, ...] = ()
    ignored: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    """When an alert from a source matches every fact, what it does.

    match maps a fact (an Alertmanager label, PagerDuty's urgency, Opsgenie's priority) to the
    values it may take; an empty match takes every alert of the source. severity is the one a
    declared incident gets when the alert does not name one on the scale; commander, who commands it.
    """

    source: Source | None
    action: RouteAction
    match: Mapping[str, Sequence[str]] = field(default_factory=dict)
    severity: str | None = None
    mitigate_when_resolved: bool = False
    # The email of the person who commands the incidents this rule declares; else the first to act.
    commander: str | None = None

    def matches(self, source: Source, facts: Mapping[str, str]) -> bool:
        """Whether this rule applies to an alert with these facts."""
        if self.source is not None and self.source is not source:
            return False
        return all(facts.get(name) in values for name, values in self.match.items())


# Page-worthy alerts declare; lesser ones join an incident already open for their service.
DEFAULT_RULES: tuple[RoutingRule, ...] = (
    RoutingRule(Source.ALERTMANAGER, RouteAction.DECLARE, {"severity": ("critical", "page")}, "SEV2"),
    RoutingRule(Source.ALERTMANAGER, RouteAction.ATTACH, {"severity": ("warning", "error")}),
    RoutingRule(Source.GRAFANA, RouteAction.DECLARE, {"severity": ("critical", "page")}, "SEV2"),
    RoutingRule(Source.GRAFANA, RouteAction.ATTACH, {"severity": ("warning", "error")}),
    RoutingRule(Source.PAGERDUTY, RouteAction.DECLARE, {"urgency": ("high",)}, "SEV2"),
    RoutingRule(Source.PAGERDUTY, RouteAction.ATTACH, {}),
    RoutingRule(Source.OPSGENIE, RouteAction.DECLARE, {"priority": ("P1", "P2")}, "SEV2"),
    RoutingRule(Source.OPSGENIE, RouteAction.ATTACH, {"priority": ("P3",)}),
)

RECORD_ONLY = RoutingRule(None, RouteAction.RECORD)


def route(rules: Sequence[RoutingRule], source: Source, facts: Mapping[str, str]) -> RoutingRule:
    """The first rule that matches, else: only record the alert."""
    return next((rule for rule in rules if rule.matches(source, facts)), RECORD_ONLY)


SENDER_NAMES = {
    Source.ALERTMANAGER: "Alertmanager",
    Source.PAGERDUTY: "PagerDuty",
    Source.OPSGENIE: "Opsgenie",
    Source.GRAFANA: "Grafana",
}


def sender_name(source: Source) -> str:
    """How people name the sender."""
    return SENDER_NAMES.get(source, source.value.capitalize())
