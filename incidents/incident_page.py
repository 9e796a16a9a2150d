"""What the incident page shows beyond the record itself: the roles form and which durations still count."""

from __future__ import annotations

from wtforms import SelectChoice

from . import queries
from .database import get_session
from .forms import RolesForm
from .models import SINGLE_HOLDER_ROLES, Incident, IncidentRole, Status


def running_durations(incident: Incident) -> dict[str, str]:
    """Durations still counting: each to the instant it counts from (ISO), while its end can still come.

    Acknowledging and mitigating count only while the incident is investigated; resolving counts
    until it is resolved. A resolved incident's missing times are missing, not running.
    """
    counting = {
        Status.INVESTIGATING: ("time_to_acknowledge", "time_to_mitigate", "time_to_resolve", "impact_duration"),
        Status.MITIGATED: ("time_to_resolve",),
    }.get(incident.status, ())
    spans = {
        "time_to_acknowledge": ("detected_at", "acknowledged_at"),
        "time_to_mitigate": ("detected_at", "mitigated_at"),
        "time_to_resolve": ("detected_at", "resolved_at"),
        "impact_duration": ("started_at", "mitigated_at"),
    }
    return {
        name: getattr(incident, spans[name][0]).isoformat()
        for name in counting
        if getattr(incident, spans[name][0]) is not None and getattr(incident, spans[name][1]) is None
    }


def roles_form(incident: Incident | None = None) -> RolesForm:
    """The roles form: bound to what was posted, or (given the incident) showing who holds each role."""
    form = RolesForm() if incident is None else RolesForm(formdata=None)
    people = [SelectChoice("", "— nobody —")] + [SelectChoice(u.email, u.name) for u in queries.active_users(get_session())]
    for role in SINGLE_HOLDER_ROLES:
        getattr(form, role.value).choices = people
    form.participants.choices = people[1:]
    if incident is not None:
        for role in SINGLE_HOLDER_ROLES:
            getattr(form, role.value).data = next((u.email for u in incident.holders(role)), "")
        form.participants.data = [u.email for u in incident.holders(IncidentRole.PARTICIPANT)]
    return form
