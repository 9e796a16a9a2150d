"""Places on the incident's pages where other packages add a panel (the library's similar
post-mortems): incidents names the places and shows what is added, and imports none of those
packages, which add their panels in their own init_app."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from markupsafe import Markup

PANELS = "kintsugi.page_panels"
# The incident page (beside its summary), and the post-mortem's review page.
PLACES = ("incident", "postmortem")
# Given the incident's id, the panel's HTML; the package checks what the reader may see.
Panel = Callable[[int], Markup]


def add_panel(app: Flask, place: str, panel: Panel) -> None:
    """Show a panel at one of PLACES on every such page."""
    if place not in PLACES:
        raise ValueError(f"a panel's place is one of {', '.join(PLACES)}, not {place!r}")
    app.extensions.setdefault(PANELS, {}).setdefault(place, []).append(panel)


def panels_at(place: str, incident_id: int) -> list[Markup]:
    """The panels added at this place, for this incident."""
    found: dict[str, list[Panel]] = current_app.extensions.get(PANELS, {})
    return [panel(incident_id) for panel in found.get(place, [])]
