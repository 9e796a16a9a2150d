"""The incident page: the record with its forms, the roles form, which durations still count, and the URLs
of each timeline entry's actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template, render_template_string, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectChoice

from . import queries, reader, timefmt
from .alerts.queries import incident_alerts
from .chat.queries import chat_panel
from .database import get_session
from .forms import ConfirmForm, EntryForm, KeyTimesForm, RolesForm, SeverityForm, StatusForm
from .models import (
    KEY_TIMES,
    SINGLE_HOLDER_ROLES,
    EntryKind,
    Incident,
    IncidentRole,
    Source,
    Status,
    TimelineEntry,
    utcnow,
)
from .settings import severity_scale


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
    people = [SelectChoice("", "— nobody —")] + [
        SelectChoice(u.email, u.name) for u in queries.active_users(get_session())
    ]
    for role in SINGLE_HOLDER_ROLES:
        getattr(form, role.value).choices = people
    form.participants.choices = people[1:]
    if incident is not None:
        for role in SINGLE_HOLDER_ROLES:
            getattr(form, role.value).data = next((u.email for u in incident.holders(role)), "")
        form.participants.data = [u.email for u in incident.holders(IncidentRole.PARTICIPANT)]
    return form


class EntryActions:
    """The URL of an action on a timeline entry, routed once per page and endpoint rather than per entry.

    url_for costs tens of microseconds; an incident page with 2,000 entries asks for 6,000 of them.
    """

    # An entry id that cannot occur in a real URL; where url_for puts it, the real id goes.
    _SLOT = 9_181_726_354_453_627_181

    def __init__(self, incident_id: int, query: dict[str, Any]) -> None:
        self.incident_id = incident_id
        self.query = query
        self.parts: dict[str, tuple[str, str]] = {}

    def __call__(self, endpoint: str, entry_id: int) -> str:
        """The URL of endpoint for this entry, exactly as url_for gives it."""
        parts = self.parts.get(endpoint)
        if parts is None:
            url = url_for(endpoint, incident_id=self.incident_id, entry_id=self._SLOT, **self.query)
            before, slot, after = url.partition(str(self._SLOT))
            assert slot and str(self._SLOT) not in after, url
            parts = self.parts[endpoint] = (before, after)
        return f"{parts[0]}{entry_id}{parts[1]}"


KEY_BADGE = Markup('<span class="badge key-badge">key moment</span>')


def _meta(entry: TimelineEntry, at_iso: str, at_label: str, badges: dict[Source, Markup]) -> Markup:
    """An entry's line of facts: when, where from, what kind, key moment, who. Written here rather than
    in the template because a long timeline repeats it thousands of times (the same markup as before)."""
    key = KEY_BADGE if entry.is_key_moment else ""
    return Markup(
        f'<div class="meta"><time datetime="{at_iso}">{escape(at_label)}</time> {badges[entry.source]} '
        f'<span class="kind">{entry.kind.value.replace("_", " ")}</span> {key}'
        f'<span class="actor">{escape(entry.actor_name)}</span></div>'
    )


SOURCE_BADGE = '{% from "_macros.html" import source %}{{ source(value) }}'


@dataclass(frozen=True)
class EntryRow:
    """A timeline entry with what the page prints of its time and its link, worked out in Python once:
    a template call costs several times a Python one, and a long timeline makes thousands."""

    entry: TimelineEntry
    at_iso: str
    at_label: str
    edit_url: str
    meta: Markup


def timeline_days(
    entries: list[TimelineEntry], zone: str, actions: EntryActions, badges: dict[Source, Markup]
) -> list[tuple[str, list[EntryRow]]]:
    """The entries grouped by their day in the zone, each day's heading with its rows."""
    tz = ZoneInfo(zone)
    days: list[tuple[str, list[EntryRow]]] = []
    last_date = None
    for entry in entries:
        local = timefmt.in_zone(entry.occurred_at, tz)
        if local.date() != last_date:
            last_date = local.date()
            days.append((local.strftime("%A %Y-%m-%d"), []))
        at_iso, at_label = entry.occurred_at.isoformat(), local.strftime("%H:%M:%S %Z")
        row = EntryRow(entry, at_iso, at_label, actions("entry.edit", entry.id), _meta(entry, at_iso, at_label, badges))
        days[-1][1].append(row)
    return days


def apply_zone_choice(incident: Incident | None = None) -> str | None:
    """Honour ?zone=utc or ?zone=reference for this page; returns the choice in force."""
    choice = request.args.get("zone")
    if choice == "utc":
        g.display_zone = "UTC"
    elif choice == "reference" and incident is not None and incident.reference_timezone:
        g.display_zone = incident.reference_timezone
    else:
        return None
    return choice


def render(incident_id: int, status: int = 200, **forms: Any) -> str | tuple[str, int]:
    """The incident page; forms given are shown as submitted (with their errors), the others fresh."""
    session = get_session()
    incident = queries.get_incident(session, viewer=current_user, incident_id=incident_id)
    zone_choice = apply_zone_choice(incident)
    args = request.args
    timeline_filter = queries.TimelineFilter(
        sources=[Source(s) for s in args.getlist("source") if s in Source._value2member_map_],
        kinds=[EntryKind(k) for k in args.getlist("kind") if k in EntryKind._value2member_map_],
        key_moments_only=args.get("key") == "1",
    )
    entries = queries.list_timeline(session, viewer=current_user, incident_id=incident_id, filters=timeline_filter)
    zone = reader.display_zone()
    badges = {s: Markup(render_template_string(SOURCE_BADGE, value=s.value)) for s in Source}
    days = timeline_days(entries, zone, EntryActions(incident.id, {"zone": zone_choice} if zone_choice else {}), badges)
    entry_form = forms.get("entry_form") or EntryForm(formdata=None)
    if not entry_form.occurred_at.data:
        entry_form.occurred_at.data = timefmt.wall_clock_value(utcnow(), zone)
    key_times_form = forms.get("key_times_form")
    if key_times_form is None:
        key_times_form = KeyTimesForm(formdata=None)
        for name in KEY_TIMES:
            getattr(key_times_form, name).data = timefmt.wall_clock_value(getattr(incident, name), zone)
        key_times_form.reference_timezone.data = incident.reference_timezone or ""
    status_form = forms.get("status_form") or StatusForm(formdata=None, status=incident.status.value)
    severity_form = SeverityForm(formdata=None, severity=incident.severity)
    severity_form.severity.choices = [SelectChoice(s) for s in severity_scale()]
    page = render_template(
        "incidents/show.html",
        incident=incident,
        days=days,
        entry_count=len(entries),
        timeline_filter=timeline_filter,
        sources=list(Source),
        kinds=list(EntryKind),
        zone=zone,
        zone_choice=zone_choice,
        entry_form=entry_form,
        status_form=status_form,
        severity_form=severity_form,
        roles_form=forms.get("roles_form") or roles_form(incident),
        key_times_form=key_times_form,
        confirm_form=ConfirmForm(formdata=None),
        running=running_durations(incident),
        alerts=incident_alerts(session, viewer=current_user, incident_id=incident_id),
        chat=chat_panel(session, viewer=current_user, incident_id=incident_id),
    )
    return (page, status) if status != 200 else page
