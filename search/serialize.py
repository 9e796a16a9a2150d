"""Search results as the API answers them."""

from __future__ import annotations

from typing import Any

from flask import url_for

from .engine import Hit, SearchResults


def hit_url(hit: Hit) -> str:
    """Where a hit is read: a post-mortem's document, or the incident's page."""
    if hit.type == "postmortem" and hit.postmortem_id is not None:
        return url_for("review_document.document", postmortem_id=hit.postmortem_id)
    return url_for("incident.show", incident_id=hit.incident_id)


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit."""
    return {
        "type": hit.type,
        "id": hit.postmortem_id if hit.type == "postmortem" else hit.incident_id,
        "incident_id": hit.incident_id,
        "postmortem_id": hit.postmortem_id,
        "title": hit.title,
        "url": hit_url(hit),
        "score": round(hit.score, 4),
        "highlights": list(hit.highlights),
        "published_at": hit.published_at.isoformat() if hit.published_at else None,
        "services": list(hit.services),
        "severity": hit.severity,
        "source_id": hit.source_id,
    }


def results_json(results: SearchResults) -> dict[str, Any]:
    """A page of results with the total, facets and suggestion."""
    return {
        "total": results.total,
        "hits": [hit_json(hit) for hit in results.hits],
        "facets": {name: [{"value": v, "count": c} for v, c in counts] for name, counts in results.facets.items()},
        "suggestion": results.suggestion,
    }
