"""Who may see and change an incident. A restricted incident exists only for its participants and admins."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select, true

from .errors import NotFound, PermissionDenied
from .models import Incident, RoleAssignment, User, Visibility


def visible_to(viewer: User) -> ColumnElement[bool]:
    """A filter on incidents keeping those the viewer may see."""
    if viewer.is_admin:
        return true()
    participates = exists(
        select(RoleAssignment.id).where(RoleAssignment.incident_id == Incident.id, RoleAssignment.user_id == viewer.id)
    )
    return or_(Incident.visibility == Visibility.OPEN, participates)


def can_see(incident: Incident, viewer: User) -> bool:
    """Whether the viewer may see the incident at all."""
    return viewer.is_admin or incident.visibility is Visibility.OPEN or incident.is_participant(viewer)


def ensure_can_see(incident: Incident | None, viewer: User, incident_id: int) -> Incident:
    """The incident, or NotFound when it is missing or hidden from the viewer (no leak either way)."""
    if incident is None or not can_see(incident, viewer):
        raise NotFound(f"incident {incident_id} not found")
    return incident


def ensure_can_write(viewer: User) -> None:
    """Refuse viewers (read-only accounts) and deactivated accounts."""
    if not viewer.is_active or not viewer.can_write:
        raise PermissionDenied("your account may read incidents but not change them")


def ensure_admin(viewer: User) -> None:
    """Refuse anyone but an active admin."""
    if not viewer.is_active or not viewer.is_admin:
        raise PermissionDenied("only an admin may do this")
