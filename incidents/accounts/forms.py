"""The forms of signing in, the reader's profile and tokens, and the admin's accounts page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..models import Role
from .service import PASSWORD_MIN


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)], render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=1000)], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    timezone = SelectField("Time zone", validators=[Optional()])


class PasswordForm(FlaskForm):
    # The shortest length is the service's rule; minlength only lets the browser say so before sending.
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=1000)],
        render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN},
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN},
    )


class TokenForm(FlaskForm):
    name = StringField("What is the token for?", validators=[DataRequired(), Length(max=200)])


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role], default="responder")


class AccountForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value) for r in Role])
    is_active = BooleanField("Active")
