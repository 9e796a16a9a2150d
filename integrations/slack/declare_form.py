"""The declaration form: the modal `/incident declare` opens when nothing follows it, and how it is read back."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from incidents.models import TITLE_MAX
from incidents.settings import severity_scale

from .actions import DECLARE_VIEW
from .people import web_client
from .settings import SlackSettings
from .translate import text_at, value_at

log = logging.getLogger(__name__)
# The blocks of the form, and the one input each holds. Slack reports a submitted value under
# state.values[block_id][action_id], and shows an error under the block it is given for.
TITLE_BLOCK, TITLE_INPUT = "declare_title", "title"
SEVERITY_BLOCK, SEVERITY_INPUT = "declare_severity", "severity"
SERVICES_BLOCK, SERVICES_INPUT = "declare_services", "services"
SUMMARY_BLOCK, SUMMARY_INPUT = "declare_summary", "summary"
# Slack's longest plain text input; the domain's own limits are checked when it declares.
INPUT_MAX = 3000
SERVICE_SEPARATORS = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class DeclarationForm:
    """What was filled in: the title, the chosen severity (None: none chosen), services and a summary."""

    title: str
    severity: str | None
    services: tuple[str, ...]
    summary: str


def declare_form(command: str = "/incident") -> View:
    """The modal that asks for an incident's title, severity, services and summary (least severe preselected).

    It keeps the name of the command that opened it, which the message after it repeats.
    """
    scale = severity_scale()
    options = [Option(value=severity, label=severity[:75]) for severity in scale]
    return View(
        type="modal",
        callback_id=DECLARE_VIEW,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=command,
        blocks=[
            InputBlock(
                block_id=TITLE_BLOCK,
                label="Title",
                hint="What is happening, as responders see it.",
                element=PlainTextInputElement(
                    action_id=TITLE_INPUT,
                    placeholder="Checkout returns 500s",
                    max_length=TITLE_MAX,
                    focus_on_load=True,
                ),
            ),
            InputBlock(
                block_id=SEVERITY_BLOCK,
                label="Severity",
                hint=f"{scale[0]} is the most severe.",
                element=StaticSelectElement(action_id=SEVERITY_INPUT, options=options, initial_option=options[-1]),
            ),
            InputBlock(
                block_id=SERVICES_BLOCK,
                label="Services",
                hint="Separated by commas or spaces.",
                optional=True,
                element=PlainTextInputElement(action_id=SERVICES_INPUT, placeholder="checkout, payments"),
            ),
            InputBlock(
                block_id=SUMMARY_BLOCK,
                label="Summary",
                optional=True,
                element=PlainTextInputElement(action_id=SUMMARY_INPUT, multiline=True, max_length=INPUT_MAX),
            ),
        ],
    )


def open_declare_form(settings: SlackSettings, trigger_id: str, command: str) -> bool:
    """Open the form for whoever typed the command (views.open within the trigger's 3 seconds); False when
    Slack would not open it, so that the command answers with how to declare by text instead."""
    if not trigger_id:
        return False
    try:
        web_client(settings).views_open(trigger_id=trigger_id, view=declare_form(command))
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        log.warning("views.open refused the declaration form: %s", error)
        return False
    except (SlackClientError, OSError) as exc:
        log.warning("views.open could not reach Slack: %s", exc)
        return False
    return True


def read_form(view: object) -> DeclarationForm:
    """What the submitted view holds, each input as typed (a missing or odd input reads as empty)."""
    values = value_at(view, "state", "values")
    services = [
        name for name in SERVICE_SEPARATORS.split(text_at(values, SERVICES_BLOCK, SERVICES_INPUT, "value")) if name
    ]
    severity = text_at(values, SEVERITY_BLOCK, SEVERITY_INPUT, "selected_option", "value")
    return DeclarationForm(
        title=text_at(values, TITLE_BLOCK, TITLE_INPUT, "value").strip(),
        severity=severity or None,
        services=tuple(dict.fromkeys(services)),
        summary=text_at(values, SUMMARY_BLOCK, SUMMARY_INPUT, "value").strip(),
    )


def block_of(field: str | None) -> str:
    """The form's block that shows an error about a field of the incident (the title's, for any other)."""
    return {"severity": SEVERITY_BLOCK, "services": SERVICES_BLOCK, "summary": SUMMARY_BLOCK}.get(
        field or "", TITLE_BLOCK
    )
