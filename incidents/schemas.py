"""The shapes the JSON API accepts. Unknown fields and wrong types are refused, never guessed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .errors import BadRequest
from .models import INT_MAX, EntryKind, Source, Status, Visibility
from .validation import as_utc


def _iso_timestamp(value: Any) -> datetime:
    """Only an ISO 8601 string with an offset is a timestamp here."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 timestamp") from None
    else:
        raise ValueError("must be an ISO 8601 timestamp string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must carry a UTC offset, such as Z or +01:00")
    return as_utc(parsed)


Timestamp = Annotated[datetime, BeforeValidator(_iso_timestamp)]
Email = Annotated[str, Field(max_length=320)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DeclareIncident(_Body):
    title: str
    severity: str
    summary: str = ""
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None
    acknowledged_at: Timestamp | None = None
    services: list[str] = []
    teams: list[str] = []
    tags: list[str] = []
    visibility: Visibility = Visibility.OPEN
    reference_timezone: str | None = None
    commander: Email | None = None


class Roles(_Body):
    commander: Email | None = None
    scribe: Email | None = None
    communications_lead: Email | None = None
    participants: list[Email] = []


class UpdateIncident(_Body):
    title: str = ""
    summary: str = ""
    severity: str = ""
    status: Status = Status.INVESTIGATING
    visibility: Visibility = Visibility.OPEN
    services: list[str] = []
    teams: list[str] = []
    tags: list[str] = []
    roles: Roles = Roles()
    reference_timezone: str | None = None
    started_at: Timestamp | None = None
    detected_at: Timestamp | None = None
    acknowledged_at: Timestamp | None = None
    mitigated_at: Timestamp | None = None
    resolved_at: Timestamp | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent."""
        result = {name: getattr(self, name) for name in self.model_fields_set}
        if "roles" in result:
            result["roles"] = {name: getattr(self.roles, name) for name in self.roles.model_fields_set}
        return result


class RecordEntry(_Body):
    text: str
    occurred_at: Timestamp | None = None
    kind: EntryKind = EntryKind.NOTE
    source: Literal[Source.API, Source.IMPORT] = Source.API
    evidence_url: str | None = None
    is_key_moment: bool = False
    external_id: str | None = None
    actor_name: str | None = None


class LintText(_Body):
    # A whole post-mortem fits; the check is linear in the text's length.
    text: str = Field(max_length=200_000)


class CorrectEntry(_Body):
    text: str = ""
    occurred_at: Timestamp | None = None
    kind: EntryKind = EntryKind.NOTE
    evidence_url: str | None = None
    is_key_moment: bool = False

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class UpdateProfile(_Body):
    name: str = ""
    timezone: str | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class IncidentQuery(BaseModel):
    """The query string of GET /api/incidents."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] = []
    severity: list[str] = []
    service: str | None = None
    team: str | None = None
    tag: str | None = None
    q: str | None = Field(default=None, max_length=200)
    since: Timestamp | None = None
    until: Timestamp | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=200)
    sort: Literal["newest", "oldest", "updated", "severity"] = "newest"


class ChatLogQuery(BaseModel):
    """The query string of GET /api/incidents/<id>/chat: a page of messages, newest first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=200)
    before: Timestamp | None = None


Model = TypeVar("Model", bound=BaseModel)


def parse_json(model: type[Model], raw: bytes) -> Model:
    """Read a JSON body into the model, or raise BadRequest naming the field at fault."""
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        raise _bad_request(exc) from None
    _refuse_unstorable(parsed.model_dump(), "")
    return parsed


def parse_query(model: type[Model], args: dict[str, Any]) -> Model:
    """Read query parameters into the model, or raise BadRequest naming the parameter."""
    try:
        parsed = model.model_validate(args)
    except ValidationError as exc:
        raise _bad_request(exc) from None
    _refuse_unstorable(parsed.model_dump(), "")
    return parsed


def _refuse_unstorable(value: Any, where: str) -> None:
    """What no database column takes, anywhere in what a person sent, is a 400 naming the field: a NUL
    character (PostgreSQL refuses it) or a whole number beyond an INTEGER column (an id, a version, seconds)."""
    if isinstance(value, str) and "\x00" in value:
        raise BadRequest(f"{where or 'the body'} holds a NUL character", field=where or None)
    if isinstance(value, int) and not isinstance(value, bool) and not -INT_MAX - 1 <= value <= INT_MAX:
        raise BadRequest(
            f"{where} is out of range: a stored whole number lies between {-INT_MAX - 1} and {INT_MAX}", field=where
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_unstorable(item, where)


def _bad_request(exc: ValidationError) -> BadRequest:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "json_invalid":
        return BadRequest(f"the body is not valid JSON: {error['ctx'].get('error', '')}".strip())
    if error["type"] == "model_type" or not where:
        return BadRequest(f"the body must be a JSON object: {message}")
    if error["type"] == "extra_forbidden":
        return BadRequest(f"unknown field {where}", field=where)
    return BadRequest(f"{where}: {message}", field=where)
