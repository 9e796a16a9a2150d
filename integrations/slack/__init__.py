"""The Slack app: the /incident slash command, and the events of linked channels."""

from __future__ import annotations

from flask import Flask

from incidents.database import get_session
from incidents.events import ChatHistoryRequested, Event, subscribe

from .settings import EXTENSION, read_settings

HISTORY_HANDLER = "slack.history"


def init_app(app: Flask) -> None:
    """Read the Slack settings and, when a signing secret is set, register the Slack endpoints.

    Without one, Slack is off: its endpoints answer 404 and nothing else changes.
    """
    settings = read_settings(app.config)
    if settings is None:
        return
    from . import events, history, views  # noqa: F401 (importing events adds its route to the views' blueprint)

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
