"""The web forms of the incident record (each with a CSRF token), and the one way a page runs a form's action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import Select, html_params

from .database import get_session
from .errors import DomainError
from .models import KEY_TIMES, TEXT_MAX, TITLE_MAX, URL_MAX, EntryKind, Status, Visibility

KEY_TIME_LABELS = {
    "started_at": "Impact started",
    "detected_at": "Detected",
    "acknowledged_at": "Acknowledged",
    "mitigated_at": "Mitigated (impact ended)",
    "resolved_at": "Resolved",
}
# Seconds are kept when a form shows a stored time, so saving it unchanged changes nothing.
WALL_CLOCK_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]


@dataclass(frozen=True)
class Refusal:
    """A form's action that did not happen: the status to answer with, and what the page may show beside the form."""

    status: int
    details: dict[str, Any] | None = None


def run_form(form: FlaskForm, action: Callable[[], object]) -> Refusal | None:
    """Check a submitted form and run its action; None when done, else the refusal, flashed.

    A refused change leaves nothing behind: the session is rolled back, so the page drawn next
    shows what is stored, not the half-applied change (a refused key-times change used to show
    its new reference zone).
    """
    if not form.validate_on_submit():
        errors = "; ".join(f"{getattr(form, name).label.text}: {', '.join(e)}" for name, e in form.errors.items())
        flash(errors or "The form could not be read. Reload the page and try again.", "error")
        return Refusal(400)
    try:
        action()
    except DomainError as exc:
        get_session().rollback()
        flash(exc.message, "error")
        return Refusal(exc.status, exc.details)
    return None


def _when(label: str) -> DateTimeLocalField:
    # step=1: any second is valid. Without it a browser accepts only whole minutes counted from the
    # default value, and a default with seconds ("now") makes every typed minute invalid.
    return DateTimeLocalField(label, validators=[Optional()], format=WALL_CLOCK_FORMATS, render_kw={"step": "1"})


class DeclareForm(FlaskForm):
    title = StringField("What is happening?", validators=[DataRequired(), Length(max=TITLE_MAX)])
    severity = SelectField("Severity", validators=[DataRequired()])
    services = StringField("Services (comma-separated)", validators=[Length(max=2000)])
    commander = SelectField("Incident commander", validators=[Optional()])
    summary = TextAreaField("Summary (Markdown, optional)", validators=[Length(max=TEXT_MAX)])
    started_at = _when("Impact started (empty: now)")
    visibility = SelectField("Visibility", choices=[SelectChoice(v.value) for v in Visibility], default="open")


class EntryForm(FlaskForm):
    text = TextAreaField("What happened (Markdown)", validators=[DataRequired(), Length(max=TEXT_MAX)])
    occurred_at = _when("Occurred at")
    kind = SelectField(
        "Kind", choices=[SelectChoice(k.value, k.value.replace("_", " ")) for k in EntryKind], default="note"
    )
    evidence_url = URLField("Evidence link (dashboard, chat permalink)", validators=[Optional(), Length(max=URL_MAX)])
    is_key_moment = BooleanField("Key moment")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value) for s in Status])


class SeverityForm(FlaskForm):
    severity = SelectField("Severity", validators=[DataRequired()])


class PeopleSelect(Select):
    """WTForms' select with its options written in one pass: a list of everyone is long, and the
    generic widget spends tens of milliseconds on a few hundred people on every incident page."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        options = "".join(
            f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'
            for value, label, selected, *_ in field.iter_choices()
        )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class RolesForm(FlaskForm):
    commander = SelectField("Incident commander", validators=[Optional()], widget=PeopleSelect())
    scribe = SelectField("Scribe", validators=[Optional()], widget=PeopleSelect())
    communications_lead = SelectField("Communications lead", validators=[Optional()], widget=PeopleSelect())
    participants = SelectMultipleField("Participants", validators=[Optional()], widget=PeopleSelect(multiple=True))


class KeyTimesForm(FlaskForm):
    started_at = _when(KEY_TIME_LABELS["started_at"])
    detected_at = _when(KEY_TIME_LABELS["detected_at"])
    acknowledged_at = _when(KEY_TIME_LABELS["acknowledged_at"])
    mitigated_at = _when(KEY_TIME_LABELS["mitigated_at"])
    resolved_at = _when(KEY_TIME_LABELS["resolved_at"])
    reference_timezone = StringField("Reference zone (IANA name, optional)", validators=[Length(max=64)])


class MarkEntryForm(FlaskForm):
    key_time = SelectField(
        "Mark as", choices=[SelectChoice(name, KEY_TIME_LABELS[name].split(" (")[0].lower()) for name in KEY_TIMES]
    )


class CorrectEntryForm(FlaskForm):
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=TEXT_MAX)])
    occurred_at = _when("Occurred at")
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.value.replace("_", " ")) for k in EntryKind])
    evidence_url = URLField("Evidence link", validators=[Optional(), Length(max=URL_MAX)])
    is_key_moment = BooleanField("Key moment")


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (delete, revoke)."""
