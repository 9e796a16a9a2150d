"""The Slack app: the /incident slash command, answered within Slack's three seconds, and what Kintsugi
posts to Slack afterwards through the outbox (incident channels, their headlines, announcements)."""

from __future__ import annotations

from flask import Flask

from .settings import EXTENSION, read_settings

# The outbox's handlers, by the names stored in its rows: keep them stable across releases.
CHANNEL_HANDLER = "slack.channel"
HEADLINE_HANDLER = "slack.headline"
ANNOUNCE_HANDLER = "slack.announce"


def init_app(app: Flask) -> None:
    """Read the Slack settings and, when a signing secret is set, register the command's endpoint and
    subscribe the outbound handlers.

    Without one, Slack is off: its endpoints answer 404, no outbox row is written for Slack, and
    nothing else changes.
    """
    settings = read_settings(app.config)
    if settings is None:
        return
    from incidents.events import ChatChannelLinked, IncidentChanged, IncidentDeclared, subscribe

    from . import announcements, channels, headline, views

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
