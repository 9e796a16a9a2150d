"""/incident with an organisation's own severity scale (KINTSUGI_SEVERITIES), not Kintsugi's SEV1 to SEV5."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Caller
from flask.testing import FlaskClient
from slack_requests import ALICE, run, slack_settings
from slack_standin import SlackStandin

ROOM = "C0INC0001"


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    slack = SlackStandin().start()
    slack.add_member(ALICE, "riley@example.com", "Riley Responder")
    yield slack
    slack.stop()


@pytest.fixture(autouse=True)
def app_config(standin: SlackStandin) -> dict[str, Any]:
    return {**slack_settings(standin.url), "SEVERITIES": "P1,P2,P3,P4"}


def test_declare_and_sev_speak_the_organisation_s_scale(client: FlaskClient, responder: Caller) -> None:
    declared = run(client, "declare payments failing P2 service:payments", channel_id=ROOM)
    assert "declared a P2 incident" in declared["text"]
    run(client, "attach 1", channel_id=ROOM)
    assert "set the severity to P1" in run(client, "sev p1", channel_id=ROOM)["text"]
    assert responder.get("/api/incidents/1").get_json()["severity"] == "P1"
    assert "set the severity to P3" in run(client, "sev 3", channel_id=ROOM)["text"]
    refused = run(client, "sev 5", channel_id=ROOM)
    assert refused["text"].startswith("Give a severity of P1, P2, P3, P4, or its number")
    assert responder.get("/api/incidents/1").get_json()["severity"] == "P3"
    least = run(client, "declare cron late", channel_id="C0GENERAL1")
    assert "declared a P4 incident" in least["text"]
