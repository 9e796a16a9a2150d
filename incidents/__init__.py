"""The incident domain: incidents, their timelines, and the people who respond to them."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import (
    accounts,
    admin_links,
    api,
    cli,
    database,
    errors_http,
    outbox,
    postmortems,
    routing,
    security,
    views,
    views_entry,
    views_incident,
)
from .outbox import views as outbox_views


def init_app(app: Flask) -> None:
    """Wire the domain into the app: database, sign-in, the rooms, pages, API, error answers and commands."""
    routing.init_app(app)  # first: the routes registered below read their ids with it
    database.init_app(app)
    outbox.init_app(app)
    security.init_app(app)
    # CSRF on every form; the API authenticates by Bearer token, never by cookie, so is exempt.
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    admin_links.init_app(app)
    accounts.init_app(app)
    views.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(views_incident.bp)
    app.register_blueprint(views_entry.bp)
    app.register_blueprint(api.bp)
    postmortems.init_app(app)
    app.register_blueprint(outbox_views.bp)
    admin_links.add_admin_link(app, "Outbox", "outbox.parked")
    errors_http.init_app(app)
    cli.init_app(app)
