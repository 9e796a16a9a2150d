"""The structure of a Markdown document, read line by line: headings, tables, list items and paragraphs.

A careful line reader rather than a full parser: post-mortems use few constructs, and the reader
must keep every line it does not understand (a renderer would drop what it cannot place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}=+[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
DELIMITER = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
ITEM = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d{1,3}[.)])(?:\s+|$)(?P<text>.*)$")
CHECKBOX = re.compile(r"^\[(?P<mark>[ xX✓✔-])\]\s*")


@dataclass
class Section:
    """A heading and the lines under it, up to the next heading (level 0: text before any heading)."""

    heading: str
    level: int
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


@dataclass(frozen=True)
class Table:
    """A pipe table: its header cells and its rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Item:
    """A list item with its checkbox (None without one) and the items nested under it."""

    text: str
    checked: bool | None = None
    children: list[Item] = field(default_factory=list)


def sections_of(body: str) -> list[Section]:
    """The document cut at its headings; code blocks are kept whole, their # lines are no headings."""
    sections = [Section("", 0)]
    fenced = False
    lines = body.split("\n")
    for number, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else HEADING.match(line)
        if heading:
            sections.append(Section(_plain(heading.group(2)), len(heading.group(1))))
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if not fenced and line.strip() and SETEXT.match(following) and sections[-1].lines[-1:] != [""]:
            sections.append(Section(_plain(line), 1))
            continue
        if not fenced and SETEXT.match(line) and sections[-1].level == 1 and not sections[-1].lines:
            continue
        sections[-1].lines.append(line)
    return sections


def _plain(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip()


def split_cells(line: str) -> tuple[str, ...]:
    """A table row's cells: split at pipes that are not escaped, the outer pipes dropped."""
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return tuple(cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", stripped))


def tables_and_rest(lines: list[str]) -> tuple[list[Table], list[str]]:
    """The pipe tables among the lines, and the other lines (tables removed)."""
    tables: list[Table] = []
    rest: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if "|" in line and DELIMITER.match(following) and "-" in following:
            header = split_cells(line)
            rows: list[tuple[str, ...]] = []
            number += 2
            while number < len(lines) and "|" in lines[number] and lines[number].strip():
                row = split_cells(lines[number])
                number += 1
                # A header typed again, or its delimiter, is no row.
                if DELIMITER.match(lines[number - 1]) or [c.lower() for c in row] == [c.lower() for c in header]:
                    continue
                rows.append(row)
            tables.append(Table(header, tuple(rows)))
            continue
        rest.append(line)
        number += 1
    return tables, rest


def items_and_rest(lines: list[str]) -> tuple[list[Item], list[str]]:
    """The list items among the lines (nested by indent, continuation lines joined), and the other lines."""
    items: list[Item] = []
    rest: list[str] = []
    stack: list[tuple[int, Item]] = []
    previous = ""
    for line in lines:
        match = ITEM.match(line)
        if match and not DELIMITER.match(line):
            indent = len(match.group("indent").replace("\t", "    "))
            text = match.group("text").strip()
            box = CHECKBOX.match(text)
            checked = None
            if box:
                checked, text = box.group("mark") not in (" ", "-"), text[box.end() :]
            item = Item(text, checked)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            (stack[-1][1].children if stack else items).append(item)
            stack.append((indent, item))
        elif not line.strip():
            # A blank line ends nothing yet: an indented line after it may still continue the item.
            rest.append(line)
        elif stack and (line.startswith((" ", "\t")) or (previous.strip() and _continues(line))):
            stack[-1][1].text = f"{stack[-1][1].text} {line.strip()}".strip()
        else:
            stack.clear()
            rest.append(line)
        previous = line
    return items, rest


def _continues(line: str) -> bool:
    """A lazy continuation line: not a heading, table, quote or rule."""
    return not re.match(r"^\s*(#|\||>|---|\*\*\*)", line)


def paragraphs(lines: list[str]) -> list[str]:
    """The lines' paragraphs, each joined into one line of text."""
    found: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            found.append(" ".join(current))
            current = []
    return found


def flatten(items: list[Item], depth: int = 0) -> list[tuple[int, Item]]:
    """Every item with its depth, parents before their children."""
    found: list[tuple[int, Item]] = []
    for item in items:
        found.append((depth, item))
        found.extend(flatten(item.children, depth + 1))
    return found
