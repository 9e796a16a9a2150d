"""The forms of the guided review; Flask-WTF adds a CSRF token to each."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeField,
    Field,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from ..models import INT_MAX, TEXT_MAX, TITLE_MAX, URL_MAX
from .models import TEAM_MAX, ActionPriority, ActionStatus, ActionType

# The blameless review's forms. A page holds many of them (one per section, per factor, per
# action item), so templates write the fields by hand; these forms read and check what comes back.
DURATION_HINT = "Like 1h 30m, 45m or 2d 4h; empty when unknown."


WALL_CLOCK_HINT = "24-hour time, year first: 2026-11-20 14:30."
# Typed as text, not a browser's date-time picker: a picker shows the browser locale's form
# ("11/20/2026, 02:30 PM"), and every time on these pages reads year first, in 24 hours.
_WALL_CLOCK_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
_WALL_CLOCK_PATTERN = r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?\s*"


class WallClockField(DateTimeField):
    """A wall-clock time typed as 2026-11-20 14:30 (seconds and an ISO "T" are taken too)."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        # Seconds are shown when there are some, so saving a stored time unchanged changes nothing.
        return str(self.data.strftime("%Y-%m-%d %H:%M:%S" if self.data.second else "%Y-%m-%d %H:%M"))

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata([value.strip() for value in valuelist])


def _when(label: str) -> WallClockField:
    return WallClockField(
        label,
        validators=[Optional()],
        format=_WALL_CLOCK_FORMATS,
        render_kw={"pattern": _WALL_CLOCK_PATTERN, "placeholder": "2026-11-20 14:30", "autocomplete": "off"},
    )


_DURATION = r"^\s*([0-9]+\s*[dhms]\s*)*$"
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def seconds_of(text: str | None) -> int | None:
    """A duration typed as '2d 3h 05m' or '45m' in seconds; None when the box is empty."""
    parts = re.findall(r"([0-9]+)\s*([dhms])", text or "")
    if not parts:
        return None
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def _storable(form: FlaskForm, field: Field) -> None:
    # 40 characters of digits say far more seconds than the database keeps (about 68 years).
    if (seconds_of(field.data) or 0) > INT_MAX:
        raise ValidationError(f"at most {INT_MAX:,} seconds (about 68 years)")


def _duration(label: str) -> StringField:
    return StringField(
        label, validators=[Optional(), Length(max=40), Regexp(_DURATION, message=DURATION_HINT), _storable]
    )


class StartPostmortemForm(FlaskForm):
    template = SelectField("Template", validators=[DataRequired()])


class SectionForm(FlaskForm):
    body = TextAreaField("Text", validators=[Length(max=TEXT_MAX)])
    version = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])


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
    parent_id = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,9}$")])


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
