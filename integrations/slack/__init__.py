"""The Slack app: the /incident slash command and the clicks and forms it leads to, the events of linked
channels, all answered within Slack's three seconds; what Kintsugi posts to Slack afterwards through the
outbox (incident channels, their headlines, announcements, a channel's history read in); and
`flask slack manifest` to create the app."""

from __future__ import annotations

from flask import Flask

from incidents.database import get_session
from incidents.events import (
    ChatChannelLinked,
    ChatHistoryRequested,
    Event,
    IncidentChanged,
    IncidentDeclared,
    subscribe,
)

from .settings import EXTENSION, read_settings

# The outbox's handlers, by the names stored in its rows: keep them stable across releases.
CHANNEL_HANDLER = "slack.channel"
HEADLINE_HANDLER = "slack.headline"
ANNOUNCE_HANDLER = "slack.announce"
HISTORY_HANDLER = "slack.history"


def init_app(app: Flask) -> None:
    """Add `flask slack` and, when a signing secret is set, register the Slack endpoints and subscribe the
    outbound handlers.

    Without one, Slack is off: its endpoints answer 404, no outbox row is written for Slack, and nothing
    else changes; the manifest that creates the Slack app (which gives the secret) can still be printed.
    """
    from .cli import slack_cli

    app.cli.add_command(slack_cli)
    settings = read_settings(app.config)
    if settings is None:
        return
    # Importing events and interactions adds their routes to the views' blueprint.
    from . import announcements, channels, events, headline, history, interactions, views  # noqa: F401

    app.extensions[EXTENSION] = settings
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
    if settings.create_channels:
        subscribe(app, IncidentDeclared, CHANNEL_HANDLER, channels.on_declared)
    subscribe(app, ChatChannelLinked, HEADLINE_HANDLER, headline.on_linked)
    subscribe(app, IncidentChanged, HEADLINE_HANDLER, headline.on_changed)
    if settings.announce_channel:
        for event in (IncidentDeclared, IncidentChanged, ChatChannelLinked):
            subscribe(app, event, ANNOUNCE_HANDLER, announcements.on_event)

    def read_history(event: Event) -> None:
        assert isinstance(event, ChatHistoryRequested)
        if event.provider == "slack":
            history.read_history(get_session(), settings, event)

    subscribe(app, ChatHistoryRequested, HISTORY_HANDLER, read_history)
