"""The Slack app: the /incident slash command and the clicks and forms it leads to, answered within Slack's
three seconds; `flask slack manifest` to create the app."""

from __future__ import annotations

from flask import Flask

from .settings import EXTENSION, read_settings


def init_app(app: Flask) -> None:
    """Add `flask slack` and, when a signing secret is set, register the endpoints of commands and interactions.

    Without one, Slack is off: its endpoints answer 404 and nothing else changes, but the manifest that
    creates the Slack app (which gives the secret) can still be printed.
    """
    from .cli import slack_cli

    app.cli.add_command(slack_cli)
    settings = read_settings(app.config)
    if settings is None:
        return
    from . import interactions, views  # noqa: F401 (interactions adds its routes to views.bp)

    app.extensions[EXTENSION] = settings
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
