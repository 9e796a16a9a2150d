"""Which files an import reads, and their text: binary, empty, oversized or undecodable files are refused
with a reason rather than read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".md", ".markdown")
# A post-mortem is a few pages; a file this large is something else, and would not fit a section anyway.
SIZE_MAX = 2 * 1024 * 1024
# A folder's read-me describes the folder; it is no post-mortem (name it to import it all the same).
SKIPPED = ("readme",)


@dataclass(frozen=True)
class FileText:
    """A file's text, or why it has none."""

    path: Path
    text: str | None
    refused: str = ""


def files_to_read(paths: Iterable[Path]) -> list[Path]:
    """Files named are read whatever their extension; a folder gives its *.md and *.markdown files, recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and (p.suffix.lower() in SUFFIXES or (not p.suffix and _looks_like_markdown(p)))
                    and p.stem.lower() not in SKIPPED
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path, None)
    return list(unique)


def _looks_like_markdown(path: Path) -> bool:
    """A file without an extension that starts like a post-mortem: front matter or a heading."""
    try:
        with path.open("rb") as handle:
            start = handle.read(256).lstrip()
    except OSError:
        return False
    return start.startswith((b"---", b"# "))


def read_text(path: Path) -> FileText:
    """The file's text as UTF-8 (a BOM is dropped; UTF-16 with a BOM is read too), or the reason it is refused."""
    try:
        size = path.stat().st_size
        if size > SIZE_MAX:
            return FileText(path, None, f"{size:,} bytes is larger than the {SIZE_MAX:,} a post-mortem can be")
        data = path.read_bytes()
    except OSError as exc:
        return FileText(path, None, f"cannot be read: {exc.strerror or exc}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _checked(path, data.decode("utf-16"))
        except UnicodeDecodeError:
            return FileText(path, None, "starts like UTF-16 text but is not")
    if b"\x00" in data[:8192]:
        return FileText(path, None, "a binary file, not Markdown text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return FileText(
            path,
            None,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8 and import again",
        )
    return _checked(path, text)


def _checked(path: Path, text: str) -> FileText:
    if not text.strip():
        return FileText(path, None, "the file is empty")
    return FileText(path, text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
