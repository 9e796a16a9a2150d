"""The post-mortem and action item JSON API under /api: parse, call one service function, serialize."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request

from .. import schemas
from ..accounts.auth import api_actor
from ..accounts.service import user_by_email
from ..database import get_session
from ..errors import NotFound
from . import items, queries, service
from . import schemas as shapes
from . import templates as postmortem_templates  # the view below is named templates
from .serialize import (
    action_item_json,
    change_json,
    factor_json,
    postmortem_json,
    postmortem_markdown,
    section_json,
    template_json,
)

bp = Blueprint("api_postmortems", __name__, url_prefix="/api")


@bp.before_request
def _authenticate() -> None:
    api_actor()


@bp.get("/postmortem-templates")
def templates() -> Response:
    """The installed templates with their sections and prompts."""
    return jsonify(templates=[template_json(t) for t in postmortem_templates.all_templates()])


@bp.post("/incidents/<int:incident_id>/postmortem")
def start(incident_id: int) -> tuple[Response, int]:
    """Start the incident's post-mortem from a template (the severity's suggestion by default)."""
    body = schemas.parse_json(shapes.StartPostmortem, request.get_data() or b"{}")
    postmortem = service.start_postmortem(
        get_session(), actor=api_actor(), incident_id=incident_id, template=body.template
    )
    return jsonify(postmortem_json(postmortem)), 201


@bp.get("/incidents/<int:incident_id>/postmortem")
def of_incident(incident_id: int) -> Response:
    """The incident's post-mortem."""
    postmortem = queries.postmortem_of_incident(get_session(), viewer=api_actor(), incident_id=incident_id)
    if postmortem is None:
        raise NotFound(f"incident {incident_id} has no post-mortem yet")
    return jsonify(postmortem_json(postmortem))


@bp.get("/postmortems/<int:postmortem_id>")
def show(postmortem_id: int) -> Response:
    """A post-mortem."""
    postmortem = queries.get_postmortem(get_session(), viewer=api_actor(), postmortem_id=postmortem_id)
    return jsonify(postmortem_json(postmortem))


@bp.patch("/postmortems/<int:postmortem_id>")
def update(postmortem_id: int) -> Response:
    """Record the facilitator, meeting time and agreed metrics."""
    body = schemas.parse_json(shapes.UpdateReview, request.get_data())
    postmortem = service.update_review(get_session(), actor=api_actor(), postmortem_id=postmortem_id, **body.changes())
    return jsonify(postmortem_json(postmortem))


@bp.put("/postmortems/<int:postmortem_id>/sections/<key>")
def save_section(postmortem_id: int, key: str) -> Response:
    """Save a section; 409 with the current text when someone saved it since `version`."""
    body = schemas.parse_json(shapes.SaveSection, request.get_data())
    section = service.save_section(
        get_session(), actor=api_actor(), postmortem_id=postmortem_id, key=key, body=body.body, version=body.version
    )
    return jsonify(section_json(section))


@bp.put("/postmortems/<int:postmortem_id>/timeline")
def agree_timeline(postmortem_id: int) -> Response:
    """Choose the incident timeline entries that make the agreed timeline."""
    body = schemas.parse_json(shapes.AgreedTimeline, request.get_data())
    postmortem = service.set_agreed_timeline(
        get_session(), actor=api_actor(), postmortem_id=postmortem_id, entry_ids=body.entry_ids
    )
    return jsonify(postmortem_json(postmortem))


@bp.post("/postmortems/<int:postmortem_id>/factors")
def add_factor(postmortem_id: int) -> tuple[Response, int]:
    """Add a contributing factor, or a "how" follow-up (parent_id)."""
    body = schemas.parse_json(shapes.AddFactor, request.get_data())
    factor = items.add_contributing_factor(
        get_session(), actor=api_actor(), postmortem_id=postmortem_id, **body.model_dump()
    )
    return jsonify(factor_json(factor)), 201


@bp.patch("/factors/<int:factor_id>")
def update_factor(factor_id: int) -> Response:
    """Reword or recategorise a contributing factor."""
    body = schemas.parse_json(shapes.UpdateFactor, request.get_data())
    factor = items.update_contributing_factor(
        get_session(), actor=api_actor(), factor_id=factor_id, **body.model_dump()
    )
    return jsonify(factor_json(factor))


@bp.delete("/factors/<int:factor_id>")
def remove_factor(factor_id: int) -> tuple[str, int]:
    """Remove a contributing factor and its follow-ups."""
    items.remove_contributing_factor(get_session(), actor=api_actor(), factor_id=factor_id)
    return "", 204


@bp.post("/postmortems/<int:postmortem_id>/action-items")
def add_action_item(postmortem_id: int) -> tuple[Response, int]:
    """Add a countermeasure or a lower-priority idea."""
    body = schemas.parse_json(shapes.AddActionItem, request.get_data())
    item = items.add_action_item(get_session(), actor=api_actor(), postmortem_id=postmortem_id, **body.model_dump())
    return jsonify(action_item_json(item)), 201


@bp.patch("/action-items/<int:action_item_id>")
def update_action_item(action_item_id: int) -> Response:
    """Change an action item: its owner, due date, status (won't do needs a reason)..."""
    body = schemas.parse_json(shapes.UpdateActionItem, request.get_data())
    item = items.update_action_item(get_session(), actor=api_actor(), action_item_id=action_item_id, **body.changes())
    return jsonify(action_item_json(item))


@bp.get("/action-items")
def action_items() -> Response:
    """Action items across post-mortems: owner (an email or "me"), team, service, status, overdue."""
    args = {
        **request.args.to_dict(),
        "status": [v for raw in request.args.getlist("status") for v in raw.split(",") if v],
    }
    query = schemas.parse_query(shapes.ActionItemQuery, args)
    session = get_session()
    viewer = api_actor()
    owner_id = None
    if query.owner:
        owner = viewer if query.owner == "me" else user_by_email(session, query.owner)
        owner_id = owner.id if owner else -1  # an unknown owner owns nothing
    filters = queries.ActionItemFilter(
        owner_id=owner_id,
        team=query.team,
        service=query.service,
        statuses=query.status,
        priority=query.priority,
        overdue_on=date.today() if query.overdue else None,
    )
    items = queries.list_action_items(session, viewer=viewer, filters=filters, limit=query.limit)
    return jsonify(action_items=[action_item_json(i) for i in items])


@bp.post("/postmortems/<int:postmortem_id>/submit")
def submit(postmortem_id: int) -> Response:
    """Move a draft into review."""
    postmortem = service.submit_for_review(get_session(), actor=api_actor(), postmortem_id=postmortem_id)
    return jsonify(postmortem_json(postmortem))


@bp.post("/postmortems/<int:postmortem_id>/publish")
def publish(postmortem_id: int) -> Response:
    """Publish; 422 lists what is missing and the blameless findings still to reframe or acknowledge."""
    body = schemas.parse_json(shapes.Publish, request.get_data() or b"{}")
    postmortem = service.publish_postmortem(
        get_session(),
        actor=api_actor(),
        postmortem_id=postmortem_id,
        acknowledge=[a.model_dump() for a in body.acknowledge],
    )
    return jsonify(postmortem_json(postmortem))


@bp.post("/postmortems/<int:postmortem_id>/reopen")
def reopen(postmortem_id: int) -> Response:
    """Take a published post-mortem back to draft."""
    postmortem = service.reopen_postmortem(get_session(), actor=api_actor(), postmortem_id=postmortem_id)
    return jsonify(postmortem_json(postmortem))


@bp.get("/postmortems/<int:postmortem_id>/history")
def history(postmortem_id: int) -> Response:
    """Every saved change, newest first, with diffs."""
    changes = queries.postmortem_changes(get_session(), viewer=api_actor(), postmortem_id=postmortem_id)
    return jsonify(changes=[change_json(c) for c in changes])


@bp.get("/postmortems/<int:postmortem_id>/export.md")
def export_markdown(postmortem_id: int) -> Response:
    """The post-mortem as Markdown with front matter."""
    postmortem = queries.get_postmortem(get_session(), viewer=api_actor(), postmortem_id=postmortem_id)
    # A token has no browser: times are in the caller's profile zone, else UTC.
    zone = api_actor().timezone or "UTC"
    response = Response(postmortem_markdown(postmortem, zone), mimetype="text/markdown")
    response.headers["Content-Disposition"] = f"attachment; filename=postmortem-{postmortem.id}.md"
    return response
