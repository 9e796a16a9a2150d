"""Typed models of the blameless review: the post-mortem, its sections, contributing factors,
countermeasures (action items), the agreed timeline and the history of every saved change."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..models import (
    NAME_MAX,
    TEXT_MAX,
    TITLE_MAX,
    URL_MAX,
    Base,
    Incident,
    TimelineEntry,
    User,
    UTCDateTime,
    enum_column,
    utcnow,
)
from ..rendering import shown, stored_html

SECTION_MAX = TEXT_MAX
CATEGORY_MAX = 64
TEAM_MAX = 100


class ReviewStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


class ActionPriority(enum.StrEnum):
    COUNTERMEASURE = "countermeasure"
    IDEA = "idea"  # the Handbook's second list: lower priority, still owned


class ActionType(enum.StrEnum):
    PREVENT = "prevent"
    DETECT = "detect"
    MITIGATE = "mitigate"
    PROCESS = "process"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class Postmortem(Base):
    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    template_key: Mapped[str] = mapped_column(String(100))
    template_name: Mapped[str] = mapped_column(String(NAME_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    status: Mapped[ReviewStatus] = mapped_column(enum_column(ReviewStatus), default=ReviewStatus.DRAFT, index=True)
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agreed metrics: prefilled from the incident, then what the review agreed.
    agreed_severity: Mapped[str | None] = mapped_column(String(32))
    agreed_downtime_seconds: Mapped[int | None] = mapped_column(Integer)
    agreed_time_to_detect_seconds: Mapped[int | None] = mapped_column(Integer)
    agreed_time_to_resolve_seconds: Mapped[int | None] = mapped_column(Integer)
    # Blameless findings the author acknowledged at publishing: [{"section", "rule", "phrase", "reason"}].
    acknowledged_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    incident: Mapped[Incident] = relationship()
    facilitator: Mapped[User | None] = relationship(foreign_keys=[facilitator_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    sections: Mapped[list[PostmortemSection]] = relationship(
        back_populates="postmortem", order_by="PostmortemSection.position", cascade="all, delete-orphan"
    )
    factors: Mapped[list[ContributingFactor]] = relationship(
        back_populates="postmortem", order_by="ContributingFactor.id", cascade="all, delete-orphan"
    )
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="postmortem", order_by="ActionItem.id", cascade="all, delete-orphan"
    )
    agreed_timeline: Mapped[list[AgreedTimelineEntry]] = relationship(
        back_populates="postmortem", cascade="all, delete-orphan"
    )

    def section(self, key: str) -> PostmortemSection | None:
        """The section with this key, if the template has it."""
        return next((s for s in self.sections if s.key == key), None)


class PostmortemSection(Base):
    __tablename__ = "postmortem_sections"
    __table_args__ = (UniqueConstraint("postmortem_id", "key", name="uq_postmortem_sections_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    prompt: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    # What the pre-fill wrote when the post-mortem started (None: started before this was kept), so
    # that publishing can tell a person's words from the machine's.
    prefill: Mapped[str | None] = mapped_column(Text)
    # The body's sanitized HTML, rendered once when the body is saved.
    body_html: Mapped[str | None] = mapped_column(Text)
    # Optimistic concurrency: a save names the version it edited; a stale one is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postmortem: Mapped[Postmortem] = relationship(back_populates="sections")
    updated_by: Mapped[User | None] = relationship()

    @validates("body")
    def _render_body(self, _key: str, body: str) -> str:
        self.body_html = stored_html(body)
        return body

    @property
    def body_markup(self) -> Markup:
        """The body as HTML for a page."""
        return shown(self.body_html, self.body)

    # The version check is part of the write itself (UPDATE ... WHERE version = the one read), so of
    # saves made at once on the same version exactly one wins, on either database.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy reads it from the class)


class ContributingFactor(Base):
    """A condition that contributed, human or technical, with nested "how" follow-ups (parent_id)."""

    __tablename__ = "contributing_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contributing_factors.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    postmortem: Mapped[Postmortem] = relationship(back_populates="factors")


class ActionItem(Base):
    """A countermeasure (or a lower-priority idea): owned by a person or a team, with a due date."""

    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_owner_status_due", "owner_id", "status", "due_on"),
        Index("ix_action_items_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_team: Mapped[str | None] = mapped_column(String(TEAM_MAX), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[ActionPriority] = mapped_column(enum_column(ActionPriority), default=ActionPriority.COUNTERMEASURE)
    type: Mapped[ActionType] = mapped_column(enum_column(ActionType), default=ActionType.PREVENT)
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus), default=ActionStatus.OPEN)
    wont_do_reason: Mapped[str | None] = mapped_column(Text)
    ticket_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    postmortem: Mapped[Postmortem] = relationship(back_populates="action_items")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    def is_overdue(self, today: date) -> bool:
        """Open (or in progress) past its due date."""
        return self.status in OPEN_ACTION_STATUSES and self.due_on is not None and self.due_on < today


class AgreedTimelineEntry(Base):
    """An incident timeline entry the review agreed belongs in the report's timeline."""

    __tablename__ = "agreed_timeline_entries"
    __table_args__ = (UniqueConstraint("postmortem_id", "entry_id", name="uq_agreed_timeline_entries_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("timeline_entries.id", ondelete="CASCADE"))

    postmortem: Mapped[Postmortem] = relationship(back_populates="agreed_timeline")
    entry: Mapped[TimelineEntry] = relationship()


class PostmortemChange(Base):
    """One saved change to a post-mortem: who, when, what, and the text before and after."""

    __tablename__ = "postmortem_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    postmortem_id: Mapped[int] = mapped_column(ForeignKey("postmortems.id", ondelete="CASCADE"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What changed: "section:<key>", "status", "metrics", "factor", "action_item", "timeline", "facilitation".
    subject: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped[User | None] = relationship()
