"""The library's shelves and feeds: published post-mortems browsed by service, team, tag, contributing-
factor category and year, "this day in incident history", what was published lately, and Atom feeds
of them for feed readers and chat."""

from __future__ import annotations

from flask import Flask

from . import feeds, views


def init_app(app: Flask) -> None:
    """Register the library's pages and its feeds."""
    app.register_blueprint(views.bp)
    app.register_blueprint(feeds.bp)
