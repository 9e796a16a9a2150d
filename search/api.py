"""The library's JSON API: search, and similar post-mortems."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from incidents import schemas as incident_schemas
from incidents.accounts.auth import api_actor
from incidents.database import get_session
from incidents.security import tolerates_nul

from . import schemas, service
from .serialize import hit_json, results_json

bp = Blueprint("search_api", __name__, url_prefix="/api")


@bp.before_request
def _authenticate() -> None:
    api_actor()


@bp.get("/search")
@tolerates_nul
def search() -> Response:
    """A page of published post-mortems and incidents matching q, with facets."""
    query = schemas.search_query(request.args)
    return jsonify(results_json(service.search(api_actor(), query.request())))


@bp.get("/incidents/<int:incident_id>/similar")
def similar_to_incident(incident_id: int) -> Response:
    """Published post-mortems most like this incident."""
    hits = service.similar_to_incident(get_session(), viewer=api_actor(), incident_id=incident_id)
    return jsonify(similar=[hit_json(hit) for hit in hits])


@bp.post("/similar")
def similar_to_text() -> Response:
    """Published post-mortems most like a description of what is happening."""
    body = incident_schemas.parse_json(schemas.SimilarText, request.get_data())
    hits = service.similar_to_text(api_actor(), text=body.text, services=body.services, limit=body.limit)
    return jsonify(similar=[hit_json(hit) for hit in hits])
