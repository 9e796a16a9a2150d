"""Similar past post-mortems beside an incident and its review: "this looks like PM-12 from March:
its countermeasure X is still open". The pages carry a placeholder that the browser fills from
/search/similar/<incident id> after the page has loaded, so the page never waits for the search."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from incidents.accounts.auth import signed_in
from incidents.database import get_session

from . import service
from .engine import Hit
from .serialize import hit_url

bp = Blueprint("search_similar", __name__)

OPEN = ("open", "in_progress")


@dataclass(frozen=True)
class SimilarReport:
    """A similar post-mortem and its countermeasures still open."""

    hit: Hit
    url: str
    open_countermeasures: tuple[str, ...]


def placeholder(incident_id: int) -> Markup:
    """The panel's place on a page: a link that works without script, filled in by the browser."""
    url = url_for("search_similar.similar", incident_id=incident_id)
    return Markup(
        '<section class="panel similar" aria-labelledby="similar-h" data-fragment="{url}?fragment=1">'
        '<h2 id="similar-h">Similar past post-mortems</h2>'
        '<p><a href="{url}">Find post-mortems of incidents like this one</a></p></section>'
    ).format(url=url)


@bp.get("/search/similar/<int:incident_id>")
@signed_in
def similar(incident_id: int) -> str:
    """The published post-mortems most like this incident, with what they left open."""
    reports = [
        SimilarReport(hit, hit_url(hit), tuple(title for title, status in followed if status in OPEN))
        for hit, followed in service.similar_with_countermeasures(
            get_session(), viewer=current_user, incident_id=incident_id
        )
    ]
    template = "search/similar_fragment.html" if request.args.get("fragment") else "search/similar.html"
    return render_template(template, reports=reports, incident_id=incident_id)
