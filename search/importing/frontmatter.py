"""YAML front matter: split from the Markdown, read safely, and when broken, its id still found."""

from __future__ import annotations

import re
from typing import Any

import yaml

FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
ID_LINE = re.compile(r"^(?:uuid|id)\s*:\s*[\"']?([^\"'\n#]+?)[\"']?\s*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str, str]:
    """(fields, body, problem): fields is None when there is no front matter or it cannot be read.

    Broken front matter leaves the body to read, and the problem says why; its uuid or id line is
    still looked for, so that a later fixed import updates the same incident.
    """
    match = FENCE.match(text)
    if match is None:
        return None, text, ""
    raw, body = match.group(1) or "", text[match.end() :]
    try:
        loaded = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        found = ID_LINE.search(raw)
        salvage = {"uuid": found.group(1).strip()} if found else None
        return salvage, body, f"not valid YAML{where}: {reason}; its fields were not read"
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        return None, body, "not a set of fields (key: value); it was not read"
    return {str(key).strip().lower(): value for key, value in loaded.items()}, body, ""
