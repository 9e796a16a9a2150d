"""The pure parts of incident channels: the names channels get, and what a headline shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_workspace import actions_of, fields_of

from incidents.chat.queries import IncidentFacts, Person
from incidents.models import IncidentRole, Status, Visibility
from integrations.slack.actions import SEVERITY_ACTION, STATUS_ACTION
from integrations.slack.channel_names import render
from integrations.slack.headline import headline

BOB = "U0BOB0001"


@pytest.mark.parametrize(
    ("pattern", "title", "suffix", "name"),
    [
        ("inc-{id}-{slug}", "Checkout: 500s at the édge!", 1, "inc-42-checkout-500s-at-the-edge"),
        ("inc-{id}-{slug}", "🔥🔥", 1, "inc-42"),
        ("inc-{id}-{slug}", "Checkout down", 3, "inc-42-checkout-down-3"),
        ("{date}_{severity}_inc{id}", "Checkout down", 1, "2026-12-01_sev2_inc42"),
        ("inc-{id}-{slug}", "word " * 40, 2, "inc-42-" + "-".join(["word"] * 14) + "-2"),
    ],
)
def test_channel_names_follow_the_pattern_within_slacks_rules(pattern: str, title: str, suffix: int, name: str) -> None:
    made = render(pattern, incident_id=42, title=title, severity="SEV2", declared_on=date(2026, 12, 1), suffix=suffix)
    assert made == name
    assert len(made) <= 80


def test_a_resolved_incidents_headline_offers_closing_and_tells_its_durations() -> None:
    began = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    riley = Person(user_id=1, name="Riley <R&D>", chat_id=None)
    facts = IncidentFacts(
        id=7,
        title="x" * 200,
        status=Status.RESOLVED,
        severity="SEV3",
        visibility=Visibility.OPEN,
        started_at=began,
        declared_at=began,
        declared_by=riley,
        roles={IncidentRole.COMMANDER: [riley], IncidentRole.SCRIBE: [replace(riley, chat_id=BOB)]},
        durations={"time_to_mitigate": timedelta(minutes=35), "time_to_resolve": timedelta(hours=2, minutes=5)},
    )
    message = headline(facts, url=None, severities=["SEV1", "SEV2", "SEV3"])
    assert len(message.blocks[0]["text"]["text"]) == 150
    assert fields_of(message.blocks)[2:] == [
        "*Commander*\nRiley &lt;R&amp;D&gt;",
        f"*Scribe*\n<@{BOB}>",
        "*Comms lead*\n—",
        f"*Started*\n<!date^{int(began.timestamp())}^{{date_short_pretty}} {{time}}|2026-12-01 06:00 UTC>",
        "*Time to mitigate*\n35 min",
        "*Time to resolve*\n2 h 5 min",
    ]
    assert actions_of(message.blocks) == [[(STATUS_ACTION, "7:closed"), (SEVERITY_ACTION, "7:SEV3")]]
    closed = headline(replace(facts, status=Status.CLOSED), url=None, severities=["SEV1", "SEV2", "SEV3"])
    assert actions_of(closed.blocks) == [[(SEVERITY_ACTION, "7:SEV3")]]
