"""The web forms; Flask-WTF adds a CSRF token to each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional

from .models import TEXT_MAX, TITLE_MAX, URL_MAX, EntryKind, Status, Visibility


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


class DeclareForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    severity = SelectField("Severity", validators=[DataRequired()])
    services = StringField("Services (comma-separated)", validators=[Length(max=2000)])
    summary = TextAreaField("Summary (Markdown)", validators=[Length(max=TEXT_MAX)])
    started_at = DateTimeLocalField("Impact started (your zone)", validators=[Optional()])
    visibility = SelectField(
        "Visibility", choices=[SelectChoice(v.value) for v in Visibility], default=Visibility.OPEN.value
    )


class EntryForm(FlaskForm):
    text = TextAreaField("What happened (Markdown)", validators=[DataRequired(), Length(max=TEXT_MAX)])
    occurred_at = DateTimeLocalField("Occurred at (your zone; empty for now)", validators=[Optional()])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, k.value.replace("_", " ")) for k in EntryKind], default="note")
    evidence_url = URLField("Evidence link", validators=[Optional(), Length(max=URL_MAX)])
    is_key_moment = BooleanField("Key moment")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=[SelectChoice(s.value) for s in Status])
