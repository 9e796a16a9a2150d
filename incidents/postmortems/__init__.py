"""The blameless review: post-mortems, their sections, contributing factors and countermeasures."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the post-mortem templates, then register the review pages and the API (exempt from CSRF: Bearer tokens)."""
    # Imported here: the core imports some of this room's modules, and importing any of them runs
    # this file first; its pages and API would then be imported half-way through the core.
    from . import api, templates, views, views_document, views_items

    templates.init_app(app)
    app.extensions["csrf"].exempt(api.bp)
    for blueprint in (views.bp, views_items.bp, views_document.bp, api.bp):
        app.register_blueprint(blueprint)
