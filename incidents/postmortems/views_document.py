"""Reading a post-mortem: the whole document as one printable page, its Markdown export, and its history."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, render_template
from flask_login import current_user
from markupsafe import Markup

from .. import reader, timefmt
from ..accounts.auth import signed_in
from ..database import get_session
from ..forms import ConfirmForm
from . import queries as queries_postmortem
from . import times
from .serialize import change_json, postmortem_markdown

bp = Blueprint("review_document", __name__, url_prefix="/postmortems/<int:postmortem_id>")


@bp.app_template_filter("seconds_duration")
def _seconds_duration(seconds: int | None) -> str:
    # The agreed metrics are stored as whole seconds; people read them as "1h 05m".
    return timefmt.duration(timedelta(seconds=seconds)) if seconds is not None else "—"


@bp.app_template_filter("reader_times")
def _reader_times(html: Markup) -> Markup:
    # A section's stored HTML names its times in UTC; each reader reads them in their own zone.
    return times.in_zone(html, reader.display_zone())


@bp.app_template_filter("reader_text")
def _reader_text(text: str) -> str:
    # A timeline entry's words as plain text, its times in the reader's zone.
    return times.text_in_zone(text, reader.display_zone())


@bp.app_template_filter("editor_text")
def _editor_text(text: str) -> str:
    return times.for_editor(text, reader.display_zone())


@bp.get("/document")
@signed_in
def document(postmortem_id: int) -> str:
    """The post-mortem as one readable, printable document."""
    postmortem = queries_postmortem.get_postmortem(get_session(), viewer=current_user, postmortem_id=postmortem_id)
    timeline = sorted((a.entry for a in postmortem.agreed_timeline), key=lambda e: (e.occurred_at, e.id))
    return render_template(
        "review/document.html",
        postmortem=postmortem,
        incident=postmortem.incident,
        timeline=timeline,
        zone=reader.display_zone(),
        confirm_form=ConfirmForm(formdata=None),
    )


@bp.get("/export.md")
@signed_in
def export_markdown(postmortem_id: int) -> Response:
    """The post-mortem as Markdown with front matter, for a signed-in reader (the API's needs a token)."""
    postmortem = queries_postmortem.get_postmortem(get_session(), viewer=current_user, postmortem_id=postmortem_id)
    response = Response(postmortem_markdown(postmortem, reader.display_zone()), mimetype="text/markdown")
    response.headers["Content-Disposition"] = f"attachment; filename=postmortem-{postmortem.id}.md"
    return response


@bp.get("/history")
@signed_in
def history(postmortem_id: int) -> str:
    """Every saved change: who, when, what, and a readable diff."""
    session = get_session()
    postmortem = queries_postmortem.get_postmortem(session, viewer=current_user, postmortem_id=postmortem_id)
    changes = queries_postmortem.postmortem_changes(session, viewer=current_user, postmortem_id=postmortem_id)
    return render_template(
        "review/history.html",
        postmortem=postmortem,
        changes=[(c, _diff_lines(change_json(c)["diff"])) for c in changes],
    )


def _diff_lines(diff: str | None) -> list[tuple[str, str]]:
    """The unified diff as (kind, text) lines: kind is add, remove, hunk or same; file headers dropped."""
    lines: list[tuple[str, str]] = []
    for line in (diff or "").splitlines():
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines
