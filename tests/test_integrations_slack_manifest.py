"""`flask slack manifest`: the Slack app's manifest, printed before Slack is set up (Slack gives the secret)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from integrations.slack.settings import EXTENSION

SCOPES = {
    "commands",
    "chat:write",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "channels:manage",
    "groups:write",
    "channels:join",
    "channels:history",
    "groups:history",
    "pins:read",
    "reactions:read",
}
EVENTS = ["message.channels", "message.groups", "reaction_added", "reaction_removed", "pin_added", "pin_removed"]


def manifest_of(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["slack", "manifest", *args])


def test_the_manifest_points_slack_at_this_deployment(app: Flask, client: FlaskClient) -> None:
    # Slack is off here (no signing secret): its endpoints answer 404, and the manifest is printed all the same.
    assert EXTENSION not in app.extensions
    assert client.post("/integrations/slack/interactions", data=b"payload=%7B%7D").status_code == 404
    result = manifest_of(app, "--url", "https://kintsugi.example.com")
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert made["display_information"]["name"] == "Kintsugi"
    features = made["features"]
    assert features["bot_user"] == {"display_name": "Kintsugi", "always_online": True}
    assert features["app_home"]["messages_tab_enabled"] is True
    [command] = features["slash_commands"]
    assert command["command"] == "/incident"
    assert command["url"] == "https://kintsugi.example.com/integrations/slack/commands"
    assert command["usage_hint"].startswith("declare <title> [sev1..sev5]")
    assert len(command["description"]) <= 100 and command["description"]
    # Mentions must arrive as <@U123>, which `/incident commander @person` reads.
    assert command["should_escape"] is True
    settings = made["settings"]
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://kintsugi.example.com/integrations/slack/interactions",
    }
    assert settings["event_subscriptions"] == {
        "request_url": "https://kintsugi.example.com/integrations/slack/events",
        "bot_events": EVENTS,
    }
    assert settings["socket_mode_enabled"] is False
    bot_scopes = made["oauth_config"]["scopes"]["bot"]
    assert sorted(bot_scopes) == sorted(SCOPES)
    assert len(bot_scopes) == len(set(bot_scopes))


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://kintsugi.example.com/", "https://kintsugi.example.com"),
        ("  https://Kintsugi.Example.COM  ", "https://kintsugi.example.com"),
        ("https://kintsugi.example.com:8443", "https://kintsugi.example.com:8443"),
        ("https://kintsugi.example.com:443/", "https://kintsugi.example.com"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
    ],
)
def test_the_address_is_written_as_slack_will_call_it(app: Flask, given: str, root: str) -> None:
    result = manifest_of(app, "--url", given)
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["settings"]["interactivity"]["request_url"] == f"{root}/integrations/slack/interactions"
    assert made["features"]["slash_commands"][0]["url"] == f"{root}/integrations/slack/commands"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("http://kintsugi.example.com", "--url must start with https://"),
        ("kintsugi.example.com", "--url must start with https://"),
        ("ftp://kintsugi.example.com", "--url must start with https://"),
        ("https://", "--url must name a host"),
        ("https://admin:pw@kintsugi.example.com", "--url must name a host, without a user or password"),
        ("https://kintsugi.example.com/integrations/slack/commands", "without a path, query or fragment"),
        ("https://kintsugi.example.com/?x=1", "without a path, query or fragment"),
        ("https://kintsugi.example.com?", "without a path, query or fragment"),
        ("https://kintsugi.example.com#top", "without a path, query or fragment"),
        ("https://kintsugi.example.com:99999", "--url must be an address such as https://kintsugi.example.com"),
        ("https://[::1", "--url must be an address such as https://kintsugi.example.com"),
        ("", "--url must start with https://"),
    ],
)
def test_a_wrong_address_is_refused_with_what_to_give(app: Flask, given: str, said: str) -> None:
    result = manifest_of(app, "--url", given)
    assert result.exit_code == 2
    assert said in result.output
    assert "{" not in result.output


def test_the_url_is_required(app: Flask) -> None:
    result = manifest_of(app)
    assert result.exit_code == 2
    assert "Missing option '--url'" in result.output


def test_a_name_of_its_own(app: Flask) -> None:
    made = json.loads(manifest_of(app, "--url", "https://k.example", "--name", "Kintsugi (staging)").output)
    assert made["display_information"]["name"] == made["features"]["bot_user"]["display_name"] == "Kintsugi (staging)"
    refused = manifest_of(app, "--url", "https://k.example", "--name", "K" * 36)
    assert refused.exit_code == 2
    assert "--name must be 1 to 35 characters" in refused.output
