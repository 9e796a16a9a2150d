"""The shapes the post-mortem API accepts. Unknown fields and wrong types are refused, never guessed."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from ..schemas import Email, Timestamp, _Body
from .models import ActionPriority, ActionStatus, ActionType


class StartPostmortem(_Body):
    template: str | None = None


class SaveSection(_Body):
    body: str
    version: int


class UpdateReview(_Body):
    facilitator: Email | None = None
    meeting_at: Timestamp | None = None
    agreed_severity: str | None = None
    agreed_downtime_seconds: int | None = None
    agreed_time_to_detect_seconds: int | None = None
    agreed_time_to_resolve_seconds: int | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent (null clears)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class AgreedTimeline(_Body):
    entry_ids: list[int] = Field(max_length=10_000)


class Acknowledgement(_Body):
    where: str
    rule: str
    phrase: str
    reason: str = Field(max_length=2_000)


class Publish(_Body):
    acknowledge: list[Acknowledgement] = Field(default_factory=list, max_length=1_000)


class AddFactor(_Body):
    text: str
    category: str
    parent_id: int | None = None


class UpdateFactor(_Body):
    text: str | None = None
    category: str | None = None


class AddActionItem(_Body):
    title: str
    owner: Email | None = None
    owner_team: str | None = None
    due_on: date | None = None
    priority: ActionPriority = ActionPriority.COUNTERMEASURE
    type: ActionType = ActionType.PREVENT
    ticket_url: str | None = None


class UpdateActionItem(_Body):
    title: str | None = None
    owner: Email | None = None
    owner_team: str | None = None
    due_on: date | None = None
    priority: ActionPriority | None = None
    type: ActionType | None = None
    status: ActionStatus | None = None
    wont_do_reason: str | None = None
    ticket_url: str | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ActionItemQuery(BaseModel):
    owner: str | None = None  # an email, or "me"
    team: str | None = None
    service: str | None = None
    status: list[ActionStatus] = Field(default_factory=list)
    priority: ActionPriority | None = None
    overdue: bool = False
    limit: int = Field(default=200, ge=1, le=500)
