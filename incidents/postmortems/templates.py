"""Post-mortem templates: TOML files of sections and prompts, read as data (never run as Jinja or code).

The built-in templates live in templates/postmortems/; an organisation adds its own folder with
KINTSUGI_POSTMORTEM_TEMPLATES (a file there with the same name as a built-in one replaces it).
Every file is read and checked when the app starts, and a mistake names the file and the line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from ..errors import InvalidInput, NotFound
from ..settings import default_due_days

EXTENSION = "kintsugi.postmortem_templates"
KEY = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
# What a section may be pre-filled with from the incident (see service_postmortem.prefill).
PREFILLS = ("summary", "ground_rules", "impact", "stakeholders", "alerts", "key_moments")
TEMPLATE_FIELDS = {"name", "description", "suggested_for", "default", "sections"}
SECTION_FIELDS = {"key", "title", "prompt", "required", "prefill"}


class TemplateError(Exception):
    """A template file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class SectionTemplate:
    """One section of a template: what to write, and the prompt that guides the writer."""

    key: str
    title: str
    prompt: str
    required: bool
    prefill: str | None


@dataclass(frozen=True)
class PostmortemTemplate:
    """A post-mortem template: its sections and the severities it suits."""

    key: str
    name: str
    description: str
    suggested_for: tuple[str, ...]
    is_default: bool
    sections: tuple[SectionTemplate, ...]
    path: str


def init_app(app: Flask) -> None:
    """Read and check every template now, so a broken file stops the start with a clear message."""
    folders = [Path(app.root_path) / "templates" / "postmortems"]
    extra = app.config.get("POSTMORTEM_TEMPLATES")
    if extra:
        folders.append(Path(extra))
    app.extensions[EXTENSION] = load_templates(folders)
    with app.app_context():
        try:
            days = default_due_days()
        except ValueError:
            raise TemplateError("KINTSUGI_ACTION_ITEM_DUE_DAYS must look like countermeasure=30,idea=90") from None
    if set(days) != {"countermeasure", "idea"} or min(days.values()) < 0:
        raise TemplateError("KINTSUGI_ACTION_ITEM_DUE_DAYS names countermeasure and idea, each 0 days or more")


def load_templates(folders: Iterable[Path]) -> dict[str, PostmortemTemplate]:
    """Every template in the folders by key (the file's stem); later folders replace earlier ones."""
    found: dict[str, PostmortemTemplate] = {}
    for folder in folders:
        if not folder.is_dir():
            raise TemplateError(f"{folder}: the post-mortem template folder does not exist")
        for path in sorted(folder.glob("*.toml")):
            template = parse_template(path.stem, path.read_text(encoding="utf-8"), str(path))
            found[template.key] = template
    if not found:
        raise TemplateError("no post-mortem templates found in " + ", ".join(str(f) for f in folders))
    defaults = [t.key for t in found.values() if t.is_default]
    if len(defaults) > 1:
        raise TemplateError(f"more than one template says default = true: {', '.join(sorted(defaults))}")
    return found


def parse_template(key: str, text: str, path: str) -> PostmortemTemplate:
    """One template from its TOML text; TemplateError names the file and line of any mistake."""
    if not KEY.match(key):
        raise TemplateError(f"{path}: the file name must be lowercase letters, digits, - or _")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: {exc}") from None

    def fail(message: str, needle: str | None = None) -> TemplateError:
        return TemplateError(f"{path}, line {_line_of(text, needle)}: {message}" if needle else f"{path}: {message}")

    unknown = set(data) - TEMPLATE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise fail(f"unknown field {field!r} (known: {', '.join(sorted(TEMPLATE_FIELDS))})", field)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail('a template needs a name = "..."')
    suggested = data.get("suggested_for", [])
    if not isinstance(suggested, list) or not all(isinstance(s, str) for s in suggested):
        raise fail("suggested_for must be a list of severities", "suggested_for")
    sections_data = data.get("sections")
    if not isinstance(sections_data, list) or not sections_data:
        raise fail("a template needs at least one [[sections]]")
    sections: list[SectionTemplate] = []
    for number, raw in enumerate(sections_data, start=1):
        sections.append(_section(raw, number, fail, {s.key for s in sections}))
    return PostmortemTemplate(
        key=key,
        name=name.strip(),
        description=str(data.get("description", "")).strip(),
        suggested_for=tuple(suggested),
        is_default=data.get("default") is True,
        sections=tuple(sections),
        path=path,
    )


def _section(raw: dict[str, Any], number: int, fail: Any, seen: set[str]) -> SectionTemplate:
    key = raw.get("key")
    where = f"section {number}"
    unknown = set(raw) - SECTION_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise fail(f"{where}: unknown field {name!r} (known: {', '.join(sorted(SECTION_FIELDS))})", name)
    if not isinstance(key, str) or not KEY.match(key):
        raise fail(f"{where}: key must be lowercase letters, digits, - or _", "key" if key is None else str(key))
    if key in seen:
        raise fail(f"{where}: key {key!r} is used twice", f'"{key}"')
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail(f"section {key!r} needs a title", f'"{key}"')
    prompt = raw.get("prompt", "")
    if not isinstance(prompt, str):
        raise fail(f"section {key!r}: prompt must be text", f'"{key}"')
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise fail(f"section {key!r}: required must be true or false", f'"{key}"')
    prefill = raw.get("prefill")
    if prefill is not None and prefill not in PREFILLS:
        raise fail(f"section {key!r}: prefill must be one of {', '.join(PREFILLS)}", f'"{prefill}"')
    return SectionTemplate(key=key, title=title.strip(), prompt=prompt.strip(), required=required, prefill=prefill)


def _line_of(text: str, needle: str | None) -> int:
    """The first line that holds the needle (1-based), to point the reader at the mistake."""
    if needle:
        for number, line in enumerate(text.splitlines(), start=1):
            if needle in line:
                return number
    return 1


def all_templates() -> list[PostmortemTemplate]:
    """Every template, the default first, then by name."""
    templates: dict[str, PostmortemTemplate] = current_app.extensions[EXTENSION]
    return sorted(templates.values(), key=lambda t: (not t.is_default, t.name))


def template(key: str | None, *, severity: str | None = None) -> PostmortemTemplate:
    """The template with this key; without one, the first suggested for the severity, else the default."""
    templates: dict[str, PostmortemTemplate] = current_app.extensions[EXTENSION]
    if key:
        if key not in templates:
            raise NotFound(f"no post-mortem template {key!r}")
        return templates[key]
    ordered = all_templates()
    if severity:
        for candidate in ordered:
            if severity in candidate.suggested_for:
                return candidate
    if not ordered:
        raise InvalidInput("no post-mortem templates are installed")
    return ordered[0]
