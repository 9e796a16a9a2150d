"""A delivery's many alert entries on one incident become one entry, so a storm cannot bury a timeline.

One Alertmanager notification can carry 5,000 alerts of a group. Each is still recorded (its
occurrence, on the incident's alerts), but its timeline gets one entry that counts them and names
the first few: 5,000 entries made a 7.8 MB incident page, and a responder reads none of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ..models import EntryKind
from .commands import sender_name

# More entries than this from one delivery on one incident are grouped; a group names this many.
GROUP_OVER = 20
NAMED = 10
LINE_MAX = 200
_GROUPED_KINDS = (EntryKind.ALERT, EntryKind.EVIDENCE)


def grouped(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries, with each incident's alert and evidence entries past GROUP_OVER as one entry in their place."""
    by_incident: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        if entry["kind"] in _GROUPED_KINDS:
            by_incident.setdefault(entry["incident_id"], []).append(entry)
    crowded = {incident_id: group for incident_id, group in by_incident.items() if len(group) > GROUP_OVER}
    if not crowded:
        return list(entries)
    kept: list[dict[str, Any]] = []
    for entry in entries:
        group = crowded.get(entry["incident_id"])
        if group is None or entry["kind"] not in _GROUPED_KINDS:
            kept.append(entry)
        elif entry is group[0]:
            kept.append(_one_for(group))
    return kept


def _one_for(group: list[dict[str, Any]]) -> dict[str, Any]:
    first = group[0]
    alerts = [entry for entry in group if entry["kind"] is EntryKind.ALERT] or group
    lines = [f"- {_first_line(entry['text'])}" for entry in alerts[:NAMED]]
    if len(group) > len(lines):
        lines.append(f"- … and {len(group) - len(lines):,} more, counted in the incident's Alerts section")
    sender = sender_name(first["source"])
    keys = "\n".join(sorted(str(entry["external_id"]) for entry in group))
    return {
        **first,
        "kind": EntryKind.ALERT,
        "occurred_at": min(entry["occurred_at"] for entry in group),
        "text": f"**{len(group):,} alert events** from {sender} in one delivery:\n\n" + "\n".join(lines),
        "evidence_url": next((entry["evidence_url"] for entry in group if entry["evidence_url"]), None),
        "is_key_moment": any(entry["is_key_moment"] for entry in group),
        "external_id": f"group:{hashlib.sha256(keys.encode('utf-8')).hexdigest()}",
    }


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "alert"
    return line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…"
