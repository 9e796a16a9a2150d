"""People and how they sign in: accounts, passwords, single sign-on and personal API tokens."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Sign-in (with optional single sign-on), the reader's own account pages and the admin's accounts page."""
    # Imported here: the core imports some of this room's modules, and importing any of them runs
    # this file first; its pages and API would then be imported half-way through the core.
    from . import auth, sso, throttle, views, views_admin, views_profile, views_sso

    auth.init_app(app)
    throttle.init_app(app)
    sso.init_app(app)
    for blueprint in (views.bp, views_sso.bp, views_profile.bp, views_admin.bp):
        app.register_blueprint(blueprint)
