"""Links to other packages' admin pages, listed beside Users: they add theirs; incidents never imports them."""

from __future__ import annotations

from flask import Flask, current_app

ADMIN_LINKS = "kintsugi.admin_links"


def init_app(app: Flask) -> None:
    """Offer the links to every page template as admin_links()."""
    app.add_template_global(admin_links)


def add_admin_link(app: Flask, label: str, endpoint: str) -> None:
    """List a package's admin page beside Users."""
    app.extensions.setdefault(ADMIN_LINKS, []).append((label, endpoint))


def admin_links() -> list[tuple[str, str]]:
    """The admin pages other packages added, as (label, endpoint)."""
    links: list[tuple[str, str]] = current_app.extensions.get(ADMIN_LINKS, [])
    return links
