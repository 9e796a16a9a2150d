"""The /incident subcommands as a responder types them in Slack, against the real app and a stand-in Web API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Caller, declare
from flask import Flask
from flask.testing import FlaskClient
from library import index_now, published
from slack_requests import ALICE, GENERAL, run, slack_settings
from slack_standin import SlackStandin
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.accounts.models import ExternalIdentity
from incidents.chat.models import ChatChannel
from incidents.models import Incident, IncidentRole, LabelKind, Role, Source, TimelineEntry, User
from integrations.slack.commands import REGISTRY

BOB = "U0BOB0001"
INCIDENT_ROOM = "C0INC0001"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    slack.add_member(BOB, "bob@example.com", "Bob Builder")
    yield slack
    slack.stop()


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return slack_settings(standin.url)


def incident(session: Session, incident_id: int) -> Incident:
    session.rollback()
    found = session.get(Incident, incident_id)
    assert found is not None
    return found


def entries(session: Session, incident_id: int) -> list[TimelineEntry]:
    session.rollback()
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.id)
    return list(session.scalars(query))


def total(session: Session, model: Any) -> int:
    session.rollback()
    return session.scalar(select(func.count(model.id))) or 0


def test_declare_with_severity_and_services(client: FlaskClient, session: Session, responder: Caller) -> None:
    reply = run(client, "declare checkout service down sev2 service:checkout,payments service:edge")
    declared = incident(session, 1)
    assert declared.title == "checkout service down"
    assert declared.severity == "SEV2"
    assert declared.label_values(LabelKind.SERVICE) == ["checkout", "edge", "payments"]
    assert [u.email for u in declared.holders(IncidentRole.COMMANDER)] == ["riley@example.com"]
    assert [(e.source, e.actor_name) for e in entries(session, 1)] == [(Source.SLACK, "Riley Responder")]
    assert reply["response_type"] == "in_channel"
    assert reply["text"].splitlines()[:2] == [
        f"<@{ALICE}> declared a SEV2 incident: <http://localhost/incidents/1|#1 checkout service down>. "
        f"<@{ALICE}> is incident commander. Services: checkout, payments, edge.",
        "To work it from a channel, type `/incident attach 1` there.",
    ]
    # Declaring does not link the channel it was typed in: only attach does.
    assert total(session, ChatChannel) == 0


def test_declare_without_a_severity_is_the_least_severe(client: FlaskClient, session: Session) -> None:
    reply = run(client, "declare Sev 2 dashboards slow &amp; <@U0BOB0001|bob> looking")
    declared = incident(session, 1)
    assert (declared.title, declared.severity) == ("Sev 2 dashboards slow & @bob looking", "SEV5")
    assert reply["text"].splitlines()[0].endswith("No severity was given: change it with `/incident sev 1 <1-5>`.")
    assert "Sev 2 dashboards slow &amp; @bob looking>" in reply["text"]


# `declare` with nothing after it opens the declaration form: see test_integrations_slack_interactions.py.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare sev1 service:api", "Give the incident a title: what is happening, as responders see it."),
        ("declare db down sev1 sev2", "Give one severity, not SEV1 and SEV2."),
    ],
)
def test_declare_without_a_title_answers_with_usage(
    client: FlaskClient, session: Session, standin: SlackStandin, text: str, expected: str
) -> None:
    reply = run(client, text)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(expected)
    assert total(session, Incident) == 0
    assert standin.calls == []


def test_declare_lists_similar_past_postmortems(app: Flask, client: FlaskClient, responder: Caller) -> None:
    for n, title in enumerate(["Checkout 502s from an exhausted connection pool", "Checkout pool exhausted again"]):
        published(
            responder,
            title=title,
            summary=f"Card payments failed when the database connection pool ran out ({n}).",
            services=["checkout"],
            factors=[("design decision", "The connection pool was shared by checkout and search")],
        )
    index_now(app)
    reply = run(client, "declare checkout connection pool exhausted sev2 service:checkout")
    lines = reply["text"].splitlines()
    assert lines[2] == "Past post-mortems like this one:"
    shown = sorted(lines[3:])
    assert len(shown) == 2
    assert all(re.fullmatch(r"• <http://localhost/postmortems/\d+\|#\d Checkout .+> \(SEV2\)", line) for line in shown)


def test_help_comes_from_the_registry(client: FlaskClient, standin: SlackStandin) -> None:
    reply = run(client, "help")
    assert reply["response_type"] == "ephemeral"
    for sub in REGISTRY.values():
        assert f"• `/incident {sub.usage}` — {sub.summary}" in reply["text"]
    assert set(REGISTRY) >= {"declare", "status", "sev", "commander", "scribe", "comms", "mitigated", "resolved"}
    assert set(REGISTRY) >= {"note", "timeline", "page", "attach", "postmortem", "similar", "help"}
    assert "put the incident's id first: `/incident status 42`, `/incident sev 42 2`" in reply["text"]
    assert run(client, "")["text"] == reply["text"]
    assert standin.calls == []  # help asks nobody who you are


def test_an_unknown_subcommand_gets_the_help(client: FlaskClient, session: Session) -> None:
    reply = run(client, "reboot <@U0BOB0001> everything")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("There is no `/incident reboot`.\n*/incident* — work an incident from Slack:")
    assert total(session, Incident) == 0


def test_a_command_needing_an_incident_outside_an_incident_channel(client: FlaskClient, responder: Caller) -> None:
    for text in ("status", "sev 2", "note the cache is cold", "mitigated"):
        reply = run(client, text)
        assert reply["response_type"] == "ephemeral"
        assert reply["text"].startswith("Which incident? This channel is linked to none: put the incident's id first")
    assert "`/incident sev <id> <1-5>`" in run(client, "sev 2")["text"]


def test_commands_in_a_linked_channel_act_on_its_incident(
    client: FlaskClient, session: Session, responder: Caller
) -> None:
    first = declare(responder, title="Checkout errors", severity="SEV3")
    second = declare(responder, title="Search slow", severity="SEV4")
    attached = run(client, f"attach {first['id']}", channel_id=INCIDENT_ROOM)
    assert attached["response_type"] == "in_channel"
    assert "linked this channel to <http://localhost/incidents/1|#1 Checkout errors> — SEV3" in attached["text"]
    # In the incident's channel: the channel's incident, a bare number that is the severity, or #id.
    run(client, "sev 2", channel_id=INCIDENT_ROOM)
    assert incident(session, first["id"]).severity == "SEV2"
    run(client, "sev1", channel_id=INCIDENT_ROOM)
    assert incident(session, first["id"]).severity == "SEV1"
    run(client, f"sev {second['id']} 3", channel_id=INCIDENT_ROOM)
    assert incident(session, second["id"]).severity == "SEV3"
    status = run(client, f"status #{second['id']}", channel_id=INCIDENT_ROOM)
    assert status["text"] == (
        "<http://localhost/incidents/2|#2 Search slow> — SEV3, investigating; commander: Riley Responder"
    )
    assert run(client, "status", channel_id=INCIDENT_ROOM)["text"].startswith("<http://localhost/incidents/1|")
    # A note's leading number is part of its text in the incident's channel.
    run(client, "note 5 pods restarted", channel_id=INCIDENT_ROOM)
    assert entries(session, first["id"])[-1].text == "5 pods restarted"
    # Elsewhere, the id comes first.
    run(client, f"sev {second['id']} sev4")
    assert incident(session, second["id"]).severity == "SEV4"
    run(client, f"note {second['id']} 5 pods restarted")
    assert entries(session, second["id"])[-1].text == "5 pods restarted"


def test_attaching_again_moves_the_channel(client: FlaskClient, session: Session, responder: Caller) -> None:
    first = declare(responder, title="Checkout errors")
    second = declare(responder, title="Payments errors")
    run(client, f"attach {first['id']}", channel_id=INCIDENT_ROOM)
    assert run(client, f"attach {first['id']}", channel_id=INCIDENT_ROOM)["response_type"] == "in_channel"
    run(client, f"attach {second['id']}", channel_id=INCIDENT_ROOM)
    session.rollback()
    links = list(session.scalars(select(ChatChannel)))
    assert [(link.provider, link.channel_id, link.incident_id) for link in links] == [
        ("slack", INCIDENT_ROOM, second["id"])
    ]
    assert links[0].linked_by is not None and links[0].linked_by.email == "riley@example.com"
    assert [e.text for e in entries(session, first["id"])][1:] == [
        f"Linked the slack channel {INCIDENT_ROOM} to this incident.",
        f"The slack channel {INCIDENT_ROOM} now speaks of incident {second['id']}.",
    ]
    assert [e.text for e in entries(session, second["id"])][1:] == [
        f"Linked the slack channel {INCIDENT_ROOM} to this incident."
    ]
    assert run(client, "status", channel_id=INCIDENT_ROOM)["text"].startswith("<http://localhost/incidents/2|")


@pytest.mark.parametrize("text", ["attach", "attach forty-two", "attach 0"])
def test_attach_needs_an_id(client: FlaskClient, session: Session, text: str) -> None:
    reply = run(client, text)
    assert reply["text"] == "Give the id of the incident to link this channel to.\nUsage: `/incident attach <id>`"
    assert total(session, ChatChannel) == 0


def test_roles_from_mentions(client: FlaskClient, session: Session, standin: SlackStandin, responder: Caller) -> None:
    declared = declare(responder, title="Checkout errors")
    reply = run(client, f"commander {declared['id']} <@{BOB}|bob>")
    assert reply["response_type"] == "in_channel"
    assert reply["text"].startswith(f"<@{ALICE}> made <@{BOB}> incident commander: ")
    run(client, f"scribe {declared['id']} <@{BOB}>")
    run(client, f"comms {declared['id']} <@{ALICE}|alice>")
    found = incident(session, declared["id"])
    assert [u.email for u in found.holders(IncidentRole.COMMANDER)] == ["bob@example.com"]
    assert [u.email for u in found.holders(IncidentRole.SCRIBE)] == ["bob@example.com"]
    assert [u.email for u in found.holders(IncidentRole.COMMUNICATIONS_LEAD)] == ["riley@example.com"]
    bob = session.scalar(select(User).where(User.email == "bob@example.com"))
    assert bob is not None and (bob.name, bob.role) == ("Bob Builder", Role.RESPONDER)
    # Each member was asked of Slack once, then remembered.
    asked = [(c.body["user"], c.authorization, c.content_type) for c in standin.calls_of("users.info")]
    assert asked == [
        (ALICE, "Bearer xoxb-test-token", "application/x-www-form-urlencoded"),
        (BOB, "Bearer xoxb-test-token", "application/x-www-form-urlencoded"),
    ]
    session.rollback()
    identities = {(i.issuer, i.subject, i.user.email) for i in session.scalars(select(ExternalIdentity))}
    assert identities == {
        ("https://slack.com", ALICE, "riley@example.com"),
        ("https://slack.com", BOB, "bob@example.com"),
    }


@pytest.mark.parametrize("text", ["commander 1 bob", "commander #1", "scribe 1 @bob", "comms 1 <#C0GENERAL1|general>"])
def test_a_role_needs_a_mention(client: FlaskClient, session: Session, responder: Caller, text: str) -> None:
    declare(responder, title="Checkout errors")
    reply = run(client, text)
    assert reply["text"].startswith("Mention the person with @, such as @alex.\nUsage: `/incident ")
    assert [u.email for u in incident(session, 1).holders(IncidentRole.SCRIBE)] == []


def test_mitigated_then_resolved(client: FlaskClient, session: Session, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    assert "— SEV2, mitigated;" in run(client, "mitigated 1")["text"]
    found = incident(session, 1)
    assert (found.status.value, found.mitigated_at is not None) == ("mitigated", True)
    assert "— SEV2, resolved;" in run(client, "resolved 1")["text"]
    assert incident(session, 1).status.value == "resolved"
    assert [e.source for e in entries(session, 1)][-2:] == [Source.SLACK, Source.SLACK]


def test_notes_keep_long_emoji_and_right_to_left_text(client: FlaskClient, session: Session, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    run(client, "attach 1", channel_id=INCIDENT_ROOM)
    long_note = ("Rolled back checkout to v2024.11.21-3; error rate dropping. " * 70)[:4000].strip()
    assert len(long_note) >= 3990
    mixed = "🔥 rollback done 👩🏽‍💻 — שלום עולם، مرحبا بالعالم ✅"
    # Slack sends <, > and & in typed text as &lt;, &gt; and &amp;, and a link as <url|label>.
    typed = "a &lt; b &amp; c &gt; d, see <https://grafana.example/d/1|the dashboard>"
    for text in (long_note, mixed, typed):
        reply = run(client, f"note {text}", channel_id=INCIDENT_ROOM)
        assert reply == {"response_type": "ephemeral", "text": "Noted on incident #1's timeline."}
    notes = entries(session, 1)[-3:]
    assert [n.text for n in notes] == [
        long_note,
        mixed,
        "a < b & c > d, see the dashboard (https://grafana.example/d/1)",
    ]
    assert {(n.source, n.actor_name, n.kind.value) for n in notes} == {(Source.SLACK, "Riley Responder", "note")}
    shown = run(client, "timeline", channel_id=INCIDENT_ROOM)["text"]
    assert mixed in shown
    assert "a &lt; b &amp; c &gt; d" in shown


def test_the_same_command_delivered_twice_notes_once(client: FlaskClient, session: Session, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    first = run(client, "note 1 failing over to the replica", trigger_id="8012345678901.1.abc")
    again = run(client, "note 1 failing over to the replica", trigger_id="8012345678901.1.abc")
    assert first["text"] == "Noted on incident #1's timeline."
    assert again["text"] == "That note is on incident #1's timeline already."
    assert [e.text for e in entries(session, 1)].count("failing over to the replica") == 1


def test_the_same_declaration_delivered_twice_declares_once(client: FlaskClient, session: Session) -> None:
    first = run(client, "declare checkout down sev2", trigger_id="8012345678901.2.abc")
    again = run(client, "declare checkout down sev2", trigger_id="8012345678901.2.abc")
    assert first["response_type"] == "in_channel"
    assert again == {
        "response_type": "ephemeral",
        "text": "Slack delivered this command twice; the incident was declared the first time.",
    }
    assert total(session, Incident) == 1
    run(client, "declare checkout down sev2")  # typed again: a new trigger id, a new incident
    assert total(session, Incident) == 2


def test_an_empty_note_answers_with_usage(client: FlaskClient, session: Session, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    assert run(client, "note 1   ")["text"] == "Say what to note.\nUsage: `/incident note <text>`"
    assert len(entries(session, 1)) == 1


def test_timeline_page_and_similar(client: FlaskClient, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    for n in range(12):
        run(client, f"note 1 step {n}")
    lines = run(client, "timeline 1")["text"].splitlines()
    assert lines[0] == "Timeline of <http://localhost/incidents/1|#1 Checkout errors> (last 10, UTC):"
    assert len(lines) == 11
    assert re.fullmatch(r"• \d{4}-\d\d-\d\d \d\d:\d\d Riley Responder: step 11", lines[-1])
    assert run(client, "page 1") == {
        "response_type": "ephemeral",
        "text": "<http://localhost/incidents/1|#1 Checkout errors>",
    }
    assert run(client, "similar 1")["text"] == (
        "No published post-mortem is like <http://localhost/incidents/1|#1 Checkout errors> yet."
    )


def test_postmortem_starts_once_then_links(client: FlaskClient, session: Session, responder: Caller) -> None:
    declare(responder, title="Checkout errors")
    responder.patch("/api/incidents/1", {"status": "resolved"})
    started = run(client, "postmortem 1")
    assert started["response_type"] == "in_channel"
    assert started["text"].startswith(
        f"<@{ALICE}> started the blameless post-mortem of incident #1: <http://localhost/postmortems/1|"
    )
    linked = run(client, "postmortem 1")
    assert linked["response_type"] == "ephemeral"
    assert linked["text"].startswith("Incident #1's post-mortem: <http://localhost/postmortems/1|")
    assert responder.get("/api/incidents/1/postmortem").status_code == 200


def test_a_restricted_incident_answers_an_outsider_as_a_missing_one(
    client: FlaskClient, session: Session, standin: SlackStandin, make_caller: Any
) -> None:
    insider = make_caller("responder", email="ina@example.com", name="Ina Insider")
    hidden = declare(insider, title="Payroll export leaked", visibility="restricted")
    missing = hidden["id"] + 1000
    for template in (
        "status {}",
        "sev {} 1",
        "note {} I saw it",
        "timeline {}",
        "page {}",
        "postmortem {}",
        "similar {}",
        "attach {}",
        "commander {} <@U0ALICE01>",
        "resolved {}",
    ):
        asked = run(client, template.format(hidden["id"]))
        absent = run(client, template.format(missing))
        assert asked["text"].replace(str(hidden["id"]), "N") == absent["text"].replace(str(missing), "N")
        assert asked["response_type"] == absent["response_type"] == "ephemeral"
    assert run(client, f"status {missing}")["text"] == f"Incident {missing} not found."
    found = incident(session, hidden["id"])
    assert (found.severity, found.status.value, len(entries(session, hidden["id"]))) == ("SEV2", "investigating", 1)
    assert total(session, ChatChannel) == 0


def test_a_restricted_incidents_news_stays_out_of_channels_not_its_own(
    client: FlaskClient, session: Session, make_caller: Any
) -> None:
    # Riley (Slack's U0ALICE01) commands a restricted incident and may see it; the general channel may not.
    riley = make_caller("responder", email="riley@example.com", name="Riley Responder")
    hidden = declare(riley, title="Payroll export leaked", visibility="restricted")
    elsewhere = run(client, f"sev {hidden['id']} 1")
    assert elsewhere["response_type"] == "ephemeral"
    assert elsewhere["text"].startswith(f"<@{ALICE}> set the severity to SEV1:")
    assert incident(session, hidden["id"]).severity == "SEV1"
    run(client, f"attach {hidden['id']}", channel_id=INCIDENT_ROOM)
    own = run(client, "sev 2", channel_id=INCIDENT_ROOM)
    assert own["response_type"] == "in_channel"
    assert own["text"].startswith(f"<@{ALICE}> set the severity to SEV2:")
    # An open incident's news is for the channel it is asked in.
    assert run(client, f"sev {declare(riley, title='Checkout errors')['id']} 3")["response_type"] == "in_channel"


def test_a_member_without_an_email_is_told_why(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    standin.add_member("U0HIDDEN1", None, "Hidden Profile")
    standin.add_member("B0BOT0001", "bot@example.com", "Deploy Bot", is_bot=True)
    for member in ("U0HIDDEN1", "B0BOT0001"):
        reply = run(client, "declare checkout down", user_id=member)
        assert reply["response_type"] == "ephemeral"
        assert reply["text"].startswith(f"Kintsugi knows people by their email, and Slack shows none for <@{member}>")
    assert (total(session, Incident), total(session, User), total(session, ExternalIdentity)) == (0, 0, 0)


def test_a_failing_lookup_is_told_and_changes_nothing(
    client: FlaskClient, session: Session, standin: SlackStandin
) -> None:
    standin.answer_next("users.info", 200, {"ok": False, "error": "missing_scope"})
    reply = run(client, "declare checkout down")
    assert reply["text"].startswith(f"Kintsugi could not look up <@{ALICE}> in Slack (missing_scope).")
    assert run(client, "declare checkout down", user_id="U0NOBODY1")["text"].startswith(
        "Kintsugi could not look up <@U0NOBODY1> in Slack (user_not_found)."
    )
    standin.answer_next("users.info", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    slowed = run(client, "declare checkout down")
    assert slowed["text"] == "Slack asks Kintsugi to slow down; try again in 30 seconds."
    assert (total(session, Incident), total(session, User)) == (0, 0)


def test_a_short_rate_limit_is_waited_out(client: FlaskClient, session: Session, standin: SlackStandin) -> None:
    standin.answer_next("users.info", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    reply = run(client, "declare checkout down sev3")
    assert reply["response_type"] == "in_channel"
    assert [c.body["user"] for c in standin.calls_of("users.info")] == [ALICE, ALICE]
    assert incident(session, 1).severity == "SEV3"


def test_an_existing_account_is_matched_by_email(client: FlaskClient, session: Session, make_caller: Any) -> None:
    make_caller("viewer", email="Riley@Example.com", name="Riley Reader")
    reply = run(client, "declare checkout down")
    assert reply["text"] == "Your account may read incidents but not change them."
    assert (total(session, Incident), total(session, User), total(session, ExternalIdentity)) == (0, 1, 1)


def test_a_command_without_user_or_channel_changes_nothing(client: FlaskClient, session: Session) -> None:
    reply = run(client, "declare checkout down", user_id="")
    assert reply["text"] == "Slack sent this command without its user or channel; nothing was done."
    assert total(session, Incident) == 0


def test_the_general_channel_is_no_incident_channel() -> None:
    assert GENERAL != INCIDENT_ROOM
