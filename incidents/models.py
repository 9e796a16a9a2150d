"""Typed SQLAlchemy models of the incident domain: data and invariants, no Flask."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from .rendering import shown, stored_html

TITLE_MAX = 200
TEXT_MAX = 50_000
URL_MAX = 2_000
LABEL_MAX = 100
NAME_MAX = 200
# The largest integer an INTEGER column holds on every backend (PostgreSQL's is 32 bits): ids,
# versions and seconds beyond it are refused where they come in, never sent to the database.
INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend; SQLite keeps it as naive UTC text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # One step to SQLite's stored text, the very text its DATETIME type writes (pinned by a
        # test), instead of a naive datetime that DATETIME then formats field by field: a storm
        # writes a few of these per row.
        def to_text(value: datetime | None) -> str | None:
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return to_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A column of an enum's values, stored as text and checked, so that a new member needs no ALTER TYPE."""
    return Enum(
        cls,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    """What an account may do: read, respond, or administer."""

    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"


class Status(enum.StrEnum):
    """Where an incident is in its life; the order is the forward direction."""

    INVESTIGATING = "investigating"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return list(Status).index(self)


class Visibility(enum.StrEnum):
    """Who may see an incident: everyone signed in, or only its participants and admins."""

    OPEN = "open"
    RESTRICTED = "restricted"


class LabelKind(enum.StrEnum):
    """The kinds of label an incident carries."""

    SERVICE = "service"
    TEAM = "team"
    TAG = "tag"


class IncidentRole(enum.StrEnum):
    """The roles people hold in an incident's response."""

    COMMANDER = "commander"
    SCRIBE = "scribe"
    COMMUNICATIONS_LEAD = "communications_lead"
    PARTICIPANT = "participant"


SINGLE_HOLDER_ROLES = (IncidentRole.COMMANDER, IncidentRole.SCRIBE, IncidentRole.COMMUNICATIONS_LEAD)
SINGLE_HOLDER_WHERE = "role IN ('commander', 'scribe', 'communications_lead')"


class Source(enum.StrEnum):
    """Where a timeline entry came from."""

    WEB = "web"
    API = "api"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    IMPORT = "import"


class EntryKind(enum.StrEnum):
    """What a timeline entry records."""

    ALERT = "alert"
    DETECTION = "detection"
    ACTION = "action"
    DECISION = "decision"
    COMMUNICATION = "communication"
    STATUS_CHANGE = "status_change"
    NOTE = "note"
    EVIDENCE = "evidence"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.RESPONDER)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # None: show times in the zone the reader's browser reports.
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every browser session carries the generation it began in; signing out, a new password and
    # deactivation advance it, so a cookie copied before then is refused.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Flask-Login asks these of whatever it keeps as the signed-in user.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """The id a login session remembers."""
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_write(self) -> bool:
        return self.role in (Role.RESPONDER, Role.ADMIN)


# The key times in the order an incident lives through them.
KEY_TIMES = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")

# Each pair (earlier, later) that must hold when both times are known.
KEY_TIME_ORDER = (
    ("started_at", "detected_at"),
    ("detected_at", "acknowledged_at"),
    ("started_at", "mitigated_at"),
    ("detected_at", "mitigated_at"),
    ("detected_at", "resolved_at"),
    ("acknowledged_at", "resolved_at"),
    ("mitigated_at", "resolved_at"),
)

# Each derived duration: (name, from, to).
DURATIONS = (
    ("time_to_detect", "started_at", "detected_at"),
    ("time_to_acknowledge", "detected_at", "acknowledged_at"),
    ("time_to_mitigate", "detected_at", "mitigated_at"),
    ("time_to_resolve", "detected_at", "resolved_at"),
    ("impact_duration", "started_at", "mitigated_at"),
)


def key_time_conflicts(times: dict[str, datetime | None]) -> list[tuple[str, str]]:
    """The (earlier, later) pairs of key times that are out of order."""
    return [
        (first, second)
        for first, second in KEY_TIME_ORDER
        if times.get(first) is not None and times.get(second) is not None and times[second] < times[first]  # type: ignore[operator]
    ]


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_started_at_id", "started_at", "id"),
        Index("ix_incidents_updated_at_id", "updated_at", "id"),
        # A list filtered by status or severity reads in the list's order straight from these
        # (newest first, and a next page seeks to its cursor) instead of sorting every match.
        Index("ix_incidents_status_started_at_id", "status", "started_at", "id"),
        Index("ix_incidents_severity_started_at_id", "severity", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(Text, default="")
    # The summary's sanitized HTML, rendered when the summary is set (as with every Markdown text).
    summary_html: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(32))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.INVESTIGATING)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.OPEN)
    # The zone a team writes this incident's post-mortem in; readers can switch to it.
    reference_timezone: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mitigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    labels: Mapped[list[IncidentLabel]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentLabel.value"
    )
    assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="RoleAssignment.id"
    )
    declared_by: Mapped[User | None] = relationship()

    @validates("summary")
    def _render_summary(self, _key: str, summary: str) -> str:
        self.summary_html = stored_html(summary)
        return summary

    @property
    def summary_markup(self) -> Markup:
        """The summary as HTML for a page."""
        return shown(self.summary_html, self.summary)

    def key_times(self) -> dict[str, datetime | None]:
        """The key times by field name."""
        return {name: getattr(self, name) for name in KEY_TIMES}

    def durations(self) -> dict[str, timedelta | None]:
        """The derived durations, None where a time they need is missing."""
        times = self.key_times()
        result: dict[str, timedelta | None] = {}
        for name, start, end in DURATIONS:
            first, last = times[start], times[end]
            result[name] = last - first if first is not None and last is not None else None
        return result

    def label_values(self, kind: LabelKind) -> list[str]:
        """The values of one kind of label, sorted."""
        return sorted(label.value for label in self.labels if label.kind is kind)

    def holders(self, role: IncidentRole) -> list[User]:
        """The users who hold a role."""
        return [a.user for a in self.assignments if a.role is role]

    def is_participant(self, user: User) -> bool:
        """Whether the user holds any role in this incident."""
        return any(a.user_id == user.id for a in self.assignments)


class IncidentLabel(Base):
    __tablename__ = "incident_labels"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "value", name="uq_incident_labels_kind_value"),
        Index("ix_incident_labels_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[LabelKind] = mapped_column(enum_column(LabelKind))
    value: Mapped[str] = mapped_column(String(LABEL_MAX))

    incident: Mapped[Incident] = relationship(back_populates="labels")


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("incident_id", "user_id", "role", name="uq_role_assignments_user_role"),
        Index("ix_role_assignments_user_id", "user_id"),
        # One commander, one scribe, one communications lead: two people taking command at once
        # cannot both get it.
        Index(
            "uq_role_assignments_single_holder",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text(SINGLE_HOLDER_WHERE),
            postgresql_where=text(SINGLE_HOLDER_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[IncidentRole] = mapped_column(enum_column(IncidentRole))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(lazy="joined")


class TimelineEntry(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_timeline_entries_source_external_id"),
        Index("ix_timeline_entries_incident_occurred", "incident_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[Source] = mapped_column(enum_column(Source))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    text: Mapped[str] = mapped_column(Text)
    # The text's sanitized HTML, rendered once when the text is set (in bulk: by the writer).
    text_html: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    is_key_moment: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(255))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    revisions: Mapped[list[TimelineEntryRevision]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="TimelineEntryRevision.id"
    )

    @validates("text")
    def _render_text(self, _key: str, text: str) -> str:
        self.text_html = stored_html(text)
        return text

    @property
    def text_markup(self) -> Markup:
        """The text as HTML for a page."""
        return shown(self.text_html, self.text)

    def snapshot(self) -> dict[str, Any]:
        """The editable fields as they stand, for a revision's record of what came before."""
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "kind": self.kind.value,
            "text": self.text,
            "evidence_url": self.evidence_url,
            "is_key_moment": self.is_key_moment,
        }


class RevisionChange(enum.StrEnum):
    """What a revision of a timeline entry did."""

    CORRECTION = "correction"
    DELETION = "deletion"


class TimelineEntryRevision(Base):
    __tablename__ = "timeline_entry_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("timeline_entries.id", ondelete="CASCADE"), index=True)
    change: Mapped[RevisionChange] = mapped_column(enum_column(RevisionChange))
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    before: Mapped[dict[str, Any]] = mapped_column(JSON)

    entry: Mapped[TimelineEntry] = relationship(back_populates="revisions")
    revised_by: Mapped[User | None] = relationship()
