"""Domain settings read from the running app's configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app


def severity_scale() -> list[str]:
    """The configured severities, most severe first (default SEV1 to SEV5)."""
    raw = current_app.config["SEVERITIES"]
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return [value.strip() for value in values if value.strip()]


def postmortem_required_for() -> set[str]:
    """Severities whose incidents may close only once their post-mortem is published (default none)."""
    return set(_listed(current_app.config.get("POSTMORTEM_REQUIRED_FOR", "")))


def factor_categories() -> list[str]:
    """The categories a contributing factor is sorted into."""
    configured = _listed(current_app.config.get("FACTOR_CATEGORIES", ""))
    return configured or list(DEFAULT_FACTOR_CATEGORIES)


def default_due_days() -> dict[str, int]:
    """Days from today to an action item's default due date, by priority ("countermeasure=30,idea=90")."""
    days = dict(DEFAULT_DUE_DAYS)
    for pair in _listed(current_app.config.get("ACTION_ITEM_DUE_DAYS", "")):
        name, _, value = pair.partition("=")
        days[name.strip()] = int(value)
    return days


DEFAULT_FACTOR_CATEGORIES = (
    "design decision",
    "detection",
    "remediation",
    "process",
    "dependency",
    "tooling",
    "communication",
)
DEFAULT_DUE_DAYS = {"countermeasure": 30, "idea": 90}


def whole_number(config: Mapping[str, Any], name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A setting that must be a whole number in a range; a clear ValueError naming KINTSUGI_<name> otherwise.

    KINTSUGI_* variables arrive parsed as JSON (from_prefixed_env): "2" is 2, but "2.5", "true" and
    "two" arrive as a float, a bool and a string, and each is refused rather than guessed at.
    """
    value = config[name]
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise ValueError(f"KINTSUGI_{name} must be a whole number {bound}, not {config[name]!r}")
    return value


def _listed(raw: Any) -> list[str]:
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return [str(v).strip() for v in values if str(v).strip()]
