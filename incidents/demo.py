"""A living demo: realistic incidents and timelines, written through the same use cases as real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from .accounts.service import create_user, user_by_email
from .models import EntryKind, Role, Source, Status, User, Visibility, utcnow
from .postmortems.items import add_action_item, add_contributing_factor, update_action_item
from .postmortems.models import ActionPriority, ActionStatus, ActionType
from .postmortems.service import publish_postmortem, save_section, start_postmortem, update_review
from .service import declare_incident, update_incident
from .timeline import record_timeline_entry

DEMO_PASSWORD = "kintsugi-demo-password"

PEOPLE = (
    ("priya@example.com", "Priya Raman", Role.RESPONDER, "America/New_York"),
    ("marcus@example.com", "Marcus Okafor", Role.RESPONDER, "Europe/London"),
    ("lena@example.com", "Lena Fischer", Role.RESPONDER, "Europe/Berlin"),
    ("jordan@example.com", "Jordan Lee", Role.RESPONDER, "America/Los_Angeles"),
    ("sam@example.com", "Sam Taylor", Role.VIEWER, "Asia/Tokyo"),
)


@dataclass
class Story:
    """One demo incident: minutes are counted from when impact started."""

    title: str
    severity: str
    services: list[str]
    commander: str
    started_hours_ago: float
    summary: str
    entries: list[tuple[float, Source, EntryKind, str, str, bool]]
    detected: float
    acknowledged: float | None = None
    mitigated: float | None = None
    resolved: float | None = None
    close: bool = False
    visibility: Visibility = Visibility.OPEN
    teams: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    scribe: str | None = None
    review: Review | None = None


@dataclass
class Review:
    """A demo post-mortem: section texts, contributing factors with hows, and action items."""

    sections: dict[str, str]
    factors: list[tuple[str, str, list[str]]]
    # (title, owner email or None, team or None, priority, type, due in days, status)
    actions: list[tuple[str, str | None, str | None, ActionPriority, ActionType, int, ActionStatus]]
    publish: bool = True


CHECKOUT_REVIEW = Review(
    sections={
        "summary": "A payments client upgrade shortened its default timeout below the processor's slowest checks, "
        "so card payments needing 3-D Secure failed until the upgrade was rolled back.",
        "impact": "About one card payment in five failed at checkout; customers saw a retry prompt. No payment was "
        "taken twice.",
        "detection": "The checkout error-rate alert paged the on-call engineer; support tickets followed minutes "
        "later.",
        "surprises": "The client's new default timeout (2 s) was shorter than the processor's p99 for 3-D Secure "
        "checks. Nobody knew the default had changed: the release notes listed it under 'internal'.",
        "went_well": "The error-rate alert fired within four minutes, and the rollback took six.",
        "lucky": "The upgrade went out on a Tuesday morning, not during the Friday evening peak.",
    },
    factors=[
        (
            "dependency",
            "The payments client changed its default timeout between minor versions.",
            [
                "How did the change reach production unnoticed? "
                "Our dependency bot merges minor versions after CI alone.",
            ],
        ),
        ("detection", "Canary analysis compares error rates, but the canary sees almost no 3-D Secure traffic.", []),
        ("design decision", "Checkout relies on the client's defaults instead of setting its own timeouts.", []),
    ],
    actions=[
        (
            "Set explicit payments client timeouts in checkout config",
            "priya@example.com",
            None,
            ActionPriority.COUNTERMEASURE,
            ActionType.PREVENT,
            14,
            ActionStatus.DONE,
        ),
        (
            "Route a share of 3-D Secure traffic to canaries",
            None,
            "payments",
            ActionPriority.COUNTERMEASURE,
            ActionType.DETECT,
            30,
            ActionStatus.IN_PROGRESS,
        ),
        (
            "Alert on payments client timeout ratio",
            "marcus@example.com",
            None,
            ActionPriority.COUNTERMEASURE,
            ActionType.DETECT,
            -3,
            ActionStatus.OPEN,
        ),
        (
            "Review which dependency upgrades may merge without a human",
            "lena@example.com",
            None,
            ActionPriority.IDEA,
            ActionType.PROCESS,
            90,
            ActionStatus.OPEN,
        ),
    ],
)

STORIES = (
    Story(
        title="Checkout returns 5xx after payments client upgrade",
        severity="SEV2",
        services=["checkout", "payments"],
        teams=["payments"],
        tags=["deploy"],
        commander="priya@example.com",
        scribe="marcus@example.com",
        started_hours_ago=30,
        summary="A new payments client version timed out against the card processor, "
        "so **12% of checkouts failed** for 47 minutes.",
        detected=4,
        acknowledged=7,
        mitigated=47,
        resolved=95,
        close=True,
        review=CHECKOUT_REVIEW,
        entries=[
            (0, Source.WEB, EntryKind.ACTION, "Marcus Okafor", "Deployed payments-client 4.2.0 to production.", False),
            (
                4,
                Source.ALERTMANAGER,
                EntryKind.ALERT,
                "Alertmanager",
                "Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)",
                True,
            ),
            (7, Source.PAGERDUTY, EntryKind.ACTION, "PagerDuty", "PagerDuty: acknowledged by Priya Raman", False),
            (
                15,
                Source.SLACK,
                EntryKind.NOTE,
                "Priya Raman",
                "Errors line up with the payments-client deploy; timeouts to the processor at 2s.",
                False,
            ),
            (
                31,
                Source.SLACK,
                EntryKind.DECISION,
                "Priya Raman",
                "Decision: roll back payments-client rather than raise the timeout.",
                True,
            ),
            (
                47,
                Source.WEB,
                EntryKind.ACTION,
                "Marcus Okafor",
                "Rollback to 4.1.3 complete; error ratio back under 0.1%.",
                True,
            ),
        ],
    ),
    Story(
        title="Primary database failover stalled; writes unavailable",
        severity="SEV1",
        services=["orders-db", "orders"],
        teams=["data-platform"],
        tags=["database", "failover"],
        commander="lena@example.com",
        scribe="priya@example.com",
        started_hours_ago=80,
        summary="The orders primary lost its disk; the standby did not promote because the fencing script hung. "
        "Writes were unavailable until a manual promotion; replays ran into the next day.",
        detected=2,
        acknowledged=5,
        mitigated=96,
        resolved=60 * 26,
        close=True,
        entries=[
            (
                0,
                Source.ALERTMANAGER,
                EntryKind.ALERT,
                "Alertmanager",
                "Alertmanager: PostgresPrimaryDown firing for orders-db",
                True,
            ),
            (
                2,
                Source.PAGERDUTY,
                EntryKind.DETECTION,
                "PagerDuty",
                "PagerDuty: triggered (high urgency) for orders-db",
                True,
            ),
            (5, Source.PAGERDUTY, EntryKind.ACTION, "PagerDuty", "PagerDuty: acknowledged by Lena Fischer", False),
            (
                22,
                Source.SLACK,
                EntryKind.NOTE,
                "Lena Fischer",
                "Standby is healthy but not promoted; "
                "the fencing step has been waiting on the old primary's BMC for 15 minutes.",
                False,
            ),
            (
                40,
                Source.SLACK,
                EntryKind.COMMUNICATION,
                "Jordan Lee",
                "Status page updated: order placement unavailable.",
                False,
            ),
            (
                88,
                Source.WEB,
                EntryKind.DECISION,
                "Lena Fischer",
                "Decision: fence the old primary by hand and promote the standby.",
                True,
            ),
            (96, Source.WEB, EntryKind.ACTION, "Lena Fischer", "Standby promoted; writes accepted again.", True),
            (
                60 * 20,
                Source.WEB,
                EntryKind.NOTE,
                "Priya Raman",
                "Replay of queued orders at 80%; no duplicates found so far.",
                False,
            ),
            (
                60 * 26,
                Source.WEB,
                EntryKind.ACTION,
                "Priya Raman",
                "Replay complete; reconciliation matches the payment provider's totals.",
                True,
            ),
        ],
    ),
    Story(
        title="Search API p99 latency above 2s",
        severity="SEV3",
        services=["search-api"],
        teams=["discovery"],
        commander="marcus@example.com",
        started_hours_ago=5,
        summary="Latency rose after the nightly index rebuild overlapped with peak traffic.",
        detected=12,
        acknowledged=14,
        mitigated=50,
        entries=[
            (12, Source.GRAFANA, EntryKind.ALERT, "Grafana", "Grafana: Search p99 latency alert firing (2.4s)", True),
            (
                20,
                Source.WEB,
                EntryKind.NOTE,
                "Marcus Okafor",
                "Index rebuild is still running; CPU on the search nodes at 95%.",
                False,
            ),
            (50, Source.WEB, EntryKind.ACTION, "Marcus Okafor", "Paused the rebuild; p99 back to 300ms.", True),
        ],
    ),
    Story(
        title="Unfamiliar admin sign-ins on the billing console",
        severity="SEV2",
        services=["billing-console"],
        teams=["security"],
        tags=["security"],
        commander="jordan@example.com",
        started_hours_ago=50,
        visibility=Visibility.RESTRICTED,
        summary="Sign-ins from an unfamiliar network on two admin accounts. Restricted while the investigation runs.",
        detected=30,
        acknowledged=35,
        mitigated=70,
        resolved=300,
        entries=[
            (
                30,
                Source.OPSGENIE,
                EntryKind.ALERT,
                "Opsgenie",
                "Opsgenie: anomalous sign-in alert for billing-console",
                True,
            ),
            (
                55,
                Source.WEB,
                EntryKind.ACTION,
                "Jordan Lee",
                "Sessions of both accounts revoked; passwords and keys rotated.",
                True,
            ),
            (70, Source.WEB, EntryKind.EVIDENCE, "Jordan Lee", "Sign-in log export attached to the case file.", False),
        ],
    ),
    Story(
        title="Status page certificate expired",
        severity="SEV4",
        services=["status-page"],
        commander="priya@example.com",
        started_hours_ago=200,
        summary="The status page's certificate expired; renewal had silently failed for 30 days.",
        detected=90,
        acknowledged=95,
        mitigated=120,
        resolved=125,
        close=True,
        entries=[
            (
                90,
                Source.SLACK,
                EntryKind.DETECTION,
                "Sam Taylor",
                "A customer reports a certificate warning on the status page.",
                True,
            ),
            (120, Source.WEB, EntryKind.ACTION, "Priya Raman", "Certificate renewed by hand; renewal job fixed.", True),
        ],
    ),
    Story(
        title="Order events consumer lag growing",
        severity="SEV3",
        services=["orders", "kafka"],
        teams=["data-platform"],
        commander="lena@example.com",
        started_hours_ago=1.5,
        summary="Consumer lag on `order-events` is growing; fulfilment emails are delayed.",
        detected=10,
        acknowledged=18,
        entries=[
            (
                10,
                Source.ALERTMANAGER,
                EntryKind.ALERT,
                "Alertmanager",
                "Alertmanager: KafkaConsumerLagHigh firing for orders (lag above 50k)",
                True,
            ),
            (18, Source.PAGERDUTY, EntryKind.ACTION, "PagerDuty", "PagerDuty: acknowledged by Lena Fischer", False),
            (
                40,
                Source.WEB,
                EntryKind.NOTE,
                "Lena Fischer",
                "One partition is stuck on a poison message; looking at skipping it safely.",
                False,
            ),
        ],
    ),
    Story(
        title="Near miss: log cluster disk at 95%",
        severity="SEV5",
        services=["logging"],
        tags=["near-miss", "capacity"],
        commander="marcus@example.com",
        started_hours_ago=400,
        summary="Retention misconfiguration filled the log cluster's disks; caught before ingestion stopped.",
        detected=0,
        acknowledged=3,
        mitigated=25,
        resolved=30,
        close=True,
        entries=[
            (
                0,
                Source.ALERTMANAGER,
                EntryKind.ALERT,
                "Alertmanager",
                "Alertmanager: DiskAlmostFull firing for logging (95%)",
                True,
            ),
            (25, Source.WEB, EntryKind.ACTION, "Marcus Okafor", "Retention set back to 14 days; 40% freed.", True),
        ],
    ),
)


def load_demo(session: Session) -> int:
    """Create the demo people and incidents; returns how many incidents were written."""
    people = {email: _person(session, email, name, role, zone) for email, name, role, zone in PEOPLE}
    for story in STORIES:
        _tell(session, story, people)
    return len(STORIES)


def _person(session: Session, email: str, name: str, role: Role, zone: str) -> User:
    existing = user_by_email(session, email)
    if existing is not None:
        return existing
    return create_user(session, email=email, name=name, role=role, timezone=zone, password=DEMO_PASSWORD)


def _tell(session: Session, story: Story, people: dict[str, User]) -> None:
    started = utcnow() - timedelta(hours=story.started_hours_ago)

    def at(minutes: float | None) -> datetime | None:
        return started + timedelta(minutes=minutes) if minutes is not None else None

    lead = people[story.commander]
    incident = declare_incident(
        session,
        actor=lead,
        title=story.title,
        severity=story.severity,
        summary=story.summary,
        started_at=started,
        detected_at=at(story.detected),
        acknowledged_at=at(story.acknowledged),
        services=story.services,
        teams=story.teams,
        tags=story.tags,
        visibility=story.visibility,
        declared_at=at(story.acknowledged if story.acknowledged is not None else story.detected),
    )
    roles: dict[str, object] = {"participants": [p for p in people if p not in (story.commander, story.scribe)][:2]}
    if story.scribe:
        roles["scribe"] = story.scribe
    update_incident(session, actor=lead, incident_id=incident.id, roles=roles)
    for minutes, source, kind, actor_name, text, key in story.entries:
        record_timeline_entry(
            session,
            actor=lead,
            incident_id=incident.id,
            text=text,
            occurred_at=at(minutes),
            kind=kind,
            source=source,
            actor_name=actor_name,
            is_key_moment=key,
            external_id=f"demo-{incident.id}-{minutes}" if source is not Source.WEB else None,
        )
    reached: list[tuple[Status, float | None]] = [
        (Status.MITIGATED, story.mitigated),
        (Status.RESOLVED, story.resolved),
    ]
    for status, when in reached:
        if when is not None:
            times: dict[str, Any] = {f"{status.value}_at": at(when)}
            update_incident(session, actor=lead, incident_id=incident.id, status=status, **times)
    if story.review is not None:
        _review(session, incident.id, story.review, lead, people)
    if story.close:
        update_incident(session, actor=lead, incident_id=incident.id, status=Status.CLOSED)


def _review(session: Session, incident_id: int, review: Review, lead: User, people: dict[str, User]) -> None:
    postmortem = start_postmortem(session, actor=lead, incident_id=incident_id)
    for key, text in review.sections.items():
        section = postmortem.section(key)
        if section is not None:
            # Written under what the pre-fill put there, as an author would.
            body = f"{section.body}\n\n{text}".strip()
            save_section(session, actor=lead, postmortem_id=postmortem.id, key=key, body=body, version=section.version)
    for category, text, hows in review.factors:
        factor = add_contributing_factor(session, actor=lead, postmortem_id=postmortem.id, text=text, category=category)
        for how in hows:
            add_contributing_factor(
                session, actor=lead, postmortem_id=postmortem.id, text=how, category=category, parent_id=factor.id
            )
    for title, owner, team, priority, kind, days, status in review.actions:
        item = add_action_item(
            session,
            actor=lead,
            postmortem_id=postmortem.id,
            title=title,
            owner=owner,
            owner_team=team,
            priority=priority,
            type=kind,
            due_on=utcnow().date() + timedelta(days=days),
        )
        if status is not ActionStatus.OPEN:
            update_action_item(session, actor=lead, action_item_id=item.id, status=status)
    update_review(session, actor=lead, postmortem_id=postmortem.id, facilitator="lena@example.com")
    if review.publish:
        publish_postmortem(session, actor=lead, postmortem_id=postmortem.id)
