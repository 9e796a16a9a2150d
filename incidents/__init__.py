"""The incident domain: incidents, their timelines, and the people who respond to them."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import api, cli, database, errors_http, security, views, views_entry, views_incident
from .accounts import auth, sso, views_admin, views_sso
from .accounts import views as views_auth
from .accounts import views_profile as views_account
from .postmortems import (
    api as api_postmortem,
)
from .postmortems import (
    templates as postmortem_templates,
)
from .postmortems import (
    views as views_review,
)
from .postmortems import (
    views_document as views_review_document,
)
from .postmortems import (
    views_items as views_review_items,
)


def init_app(app: Flask) -> None:
    """Wire the domain into the app: database, sign-in (with optional single sign-on), pages, API, error answers and commands."""
    database.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    sso.init_app(app)
    # CSRF on every form; the API authenticates by Bearer token, never by cookie, so is exempt.
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    csrf.exempt(api_postmortem.bp)
    postmortem_templates.init_app(app)
    views.init_app(app)
    app.register_blueprint(views_auth.bp)
    app.register_blueprint(views_sso.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(views_incident.bp)
    app.register_blueprint(views_entry.bp)
    app.register_blueprint(views_review.bp)
    app.register_blueprint(views_review_items.bp)
    app.register_blueprint(views_review_document.bp)
    app.register_blueprint(views_account.bp)
    app.register_blueprint(views_admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_postmortem.bp)
    errors_http.init_app(app)
    cli.init_app(app)
