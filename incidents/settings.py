"""Domain settings read from the running app's configuration."""

from __future__ import annotations

from flask import current_app


def severity_scale() -> list[str]:
    """The configured severities, most severe first (default SEV1 to SEV5)."""
    raw = current_app.config["SEVERITIES"]
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    return [value.strip() for value in values if value.strip()]
