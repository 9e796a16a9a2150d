"""Who acts on an incident: a person, or a sender (a pager or alerting tool) acting by itself.

The two are held to different rules for what they write. A person typing too much is told so and
changes nothing; a sender cannot be asked to try again, so its text is kept, cut to what fits with
a visible mark saying how much was left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import validation
from .access import ensure_can_write
from .models import LABEL_MAX, User


@dataclass(frozen=True)
class Sender:
    """A tool that acts on incidents by itself, named as people know it ("Alertmanager")."""

    name: str


Actor = User | Sender


def actor_id(actor: Actor) -> int | None:
    """The account of a person; None for a sender."""
    return actor.id if isinstance(actor, User) else None


def ensure_can_act(actor: Actor) -> None:
    """Refuse a person who may not change incidents; a sender acts by the rules of its own path."""
    if isinstance(actor, User):
        ensure_can_write(actor)


def storable(value: str) -> str:
    """Text as a database takes it: valid UTF-8, no NUL (PostgreSQL refuses it), stripped."""
    if value.isascii() and "\x00" not in value:
        return value.strip()  # nearly always: nothing to mend
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()


def cut(value: str, limit: int) -> str:
    """A sender's text as a database takes it (storable), cut to the limit with a visible mark of how
    much was left out."""
    value = storable(value)
    if len(value) <= limit:
        return value
    kept = limit
    while True:
        mark = f" … [{len(value) - kept:,} more characters not kept]"
        if kept + len(mark) <= limit:
            return value[: max(0, kept)] + mark
        # The mark takes room of its own, so more is left out, which may lengthen the mark.
        kept = limit - len(mark)


def text_of(actor: Actor, value: str, *, field: str, limit: int, required: bool = False) -> str:
    """A text an actor gives: a person's is refused when too long, a sender's is cut with a mark."""
    if isinstance(actor, Sender):
        value = cut(value, limit)
    return validation.text(value, field=field, limit=limit, required=required)


def labels_of(actor: Actor, values: list[str], *, field: str) -> list[str]:
    """Labels an actor gives, by the same rule as their text."""
    if isinstance(actor, Sender):
        values = [cut(value, LABEL_MAX) for value in values]
    return validation.labels(values, field=field)
