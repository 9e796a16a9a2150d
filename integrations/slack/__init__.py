"""The Slack app: the /incident slash command and the clicks and forms it leads to, the events of linked
channels, all answered within Slack's three seconds; `flask slack manifest` to create the app."""

from __future__ import annotations

from flask import Flask

from incidents.database import get_session
from incidents.events import ChatHistoryRequested, Event, subscribe

from .settings import EXTENSION, read_settings

HISTORY_HANDLER = "slack.history"


def init_app(app: Flask) -> None:
    """Add `flask slack` and, when a signing secret is set, register the Slack endpoints and handlers.

    Without one, Slack is off: its endpoints answer 404 and nothing else changes, but the manifest that
    creates the Slack app (which gives the secret) can still be printed.
    """
    from .cli import slack_cli

    app.cli.add_command(slack_cli)
    settings = read_settings(app.config)
    if settings is None:
        return
    # Importing events and interactions adds their routes to the views' blueprint.
    from . import events, history, interactions, views  # noqa: F401

    app.extensions[EXTENSION] = settings
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(views.bp)
    app.register_blueprint(views.bp)

    def read_history(event: Event) -> None:
        assert isinstance(event, ChatHistoryRequested)
        if event.provider == "slack":
            history.read_history(get_session(), settings, event)

    subscribe(app, ChatHistoryRequested, HISTORY_HANDLER, read_history)
