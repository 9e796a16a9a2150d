"""The web forms; Flask-WTF adds a CSRF token to each."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import Select, html_params

from .models import KEY_TIMES, TEXT_MAX, TITLE_MAX, URL_MAX, EntryKind, Role, Status, Visibility
from .models_postmortem import TEAM_MAX, ActionPriority, ActionStatus, ActionType

KEY_TIME_LABELS = {
    "started_at": "Impact started",
    "detected_at": "Detected",
    "acknowledged_at": "Acknowledged",
    "mitigated_at": "Mitigated (impact ended)",
    "resolved_at": "Resolved",
}
# Seconds are kept when a form shows a stored time, so saving it unchanged changes nothing.
WALL_CLOCK_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]


def _when(label: str) -> DateTimeLocalField:
    # step=1: any second is valid. Without it a browser accepts only whole minutes counted from the
    # default value, and a default with seconds ("now") makes every typed minute invalid.
    return DateTimeLocalField(label, validators=[Optional()], format=WALL_CLOCK_FORMATS, render_kw={"step": "1"})


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)], render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=1000)], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()


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
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.value.replace("_", " ")) for k in EntryKind], default="note")
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


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    timezone = SelectField("Time zone", validators=[Optional()])


class TokenForm(FlaskForm):
    name = StringField("What is the token for?", validators=[DataRequired(), Length(max=200)])


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role], default="responder")


class AccountForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role])
    is_active = BooleanField("Active")


# The blameless review's forms. A page holds many of them (one per section, per factor, per
# action item), so templates write the fields by hand; these forms read and check what comes back.
DURATION_HINT = "Like 1h 30m, 45m or 2d 4h; empty when unknown."
_DURATION = r"^\s*(\d+\s*[dhms]\s*)*$"


def _duration(label: str) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=40), Regexp(_DURATION, message=DURATION_HINT)])


class StartPostmortemForm(FlaskForm):
    template = SelectField("Template", validators=[DataRequired()])


class SectionForm(FlaskForm):
    body = TextAreaField("Text", validators=[Length(max=TEXT_MAX)])
    version = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])


class ReviewForm(FlaskForm):
    facilitator = SelectField("Facilitator", validators=[Optional()])
    meeting_at = _when("Review meeting")
    agreed_severity = SelectField("Agreed severity", validators=[Optional()])
    agreed_downtime = _duration("Downtime (impact)")
    agreed_time_to_detect = _duration("Time to detect")
    agreed_time_to_resolve = _duration("Time to resolve")


class AgreedTimelineForm(FlaskForm):
    entry_ids = SelectMultipleField("Agreed timeline", validators=[Optional()])


class MeetingEntryForm(FlaskForm):
    text = TextAreaField("What happened (found in the meeting)", validators=[DataRequired(), Length(max=TEXT_MAX)])
    occurred_at = _when("When it happened")


class FactorForm(FlaskForm):
    text = TextAreaField("Contributing factor", validators=[DataRequired(), Length(max=TEXT_MAX)])
    category = SelectField("Category", validators=[DataRequired()])
    parent_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])


class ActionItemForm(FlaskForm):
    title = StringField("Countermeasure", validators=[DataRequired(), Length(max=TITLE_MAX)])
    owner = SelectField("Owner (a person)", validators=[Optional()])
    owner_team = StringField("or owning team", validators=[Optional(), Length(max=TEAM_MAX)])
    due_on = DateField("Due", validators=[Optional()])
    priority = SelectField(
        "Priority",
        choices=[SelectChoice("countermeasure"), SelectChoice("idea", "lower-priority idea")],
        default=ActionPriority.COUNTERMEASURE.value,
    )
    type = SelectField("Type", choices=[SelectChoice(t.value) for t in ActionType], default=ActionType.PREVENT.value)
    ticket_url = URLField("Ticket link", validators=[Optional(), Length(max=URL_MAX)])


ACTION_STATUS_LABELS = {"open": "open", "in_progress": "in progress", "done": "done", "wont_do": "won't do"}


class ActionStatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value, ACTION_STATUS_LABELS[s.value]) for s in ActionStatus])
    wont_do_reason = StringField("Reason (for won't do)", validators=[Optional(), Length(max=TEXT_MAX)])
