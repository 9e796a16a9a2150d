"""The house rules that can be checked by reading the code: dependency direction, no import circles,
small modules and import-time calm."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("incidents", "integrations", "search")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT, *, at_import_only: bool = False) -> set[str]:
    """Every module the file imports, relative imports resolved, `from pkg import module` counted as pkg.module.

    at_import_only: only what importing the file imports (its module-level statements), not what its
    functions import when they run (a room's init_app imports its pages then, on purpose).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    nodes = _module_level(tree.body) if at_import_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m}


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run when a module is imported, inside if/try blocks too, not inside functions."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, ast.If):
            found.extend(_module_level(node.body) + _module_level(node.orelse))
        elif isinstance(node, ast.Try):
            for part in (node.body, node.orelse, node.finalbody, *[handler.body for handler in node.handlers]):
                found.extend(_module_level(part))
    return found


def import_graph(root: Path = ROOT, *, at_import_only: bool = False) -> dict[str, set[str]]:
    """Module -> the project's modules it imports, over every package and sub-package."""
    files = [p for package in PACKAGES for p in (root / package).rglob("*.py")]
    modules = {module_name(p, root): p for p in files}
    return {
        name: {m for m in imported_modules(path, root, at_import_only=at_import_only) if m in modules and m != name}
        for name, path in modules.items()
    }


def runs_on_import(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project's modules that importing it runs: each module it imports at import time, and
    the __init__ of every package on the way there that is not already running (not one of its own)."""
    graph = import_graph(root, at_import_only=True)
    runs: dict[str, set[str]] = {}
    for name, targets in graph.items():
        own = {".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 1)}
        # `from . import x` names its own package, which is running already: only x is imported.
        reached = {t for t in targets if t not in own}
        for target in targets:
            parts = target.split(".")
            reached.update(".".join(parts[:n]) for n in range(1, len(parts)) if ".".join(parts[:n]) not in own)
        runs[name] = {m for m in reached if m in graph and m != name}
    return runs


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a loop (strongly connected components of two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_incidents_imports_neither_search_nor_integrations() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in ("search", "integrations")
        )
        for path in (ROOT / "incidents").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_circles() -> None:
    # What importing each module runs, package __init__s on the way included: a circle here is an
    # import that can fail half-way, whichever module is imported first.
    assert circles(runs_on_import()) == []


def test_the_circle_check_sees_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "incidents"
    (package / "rooms").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rooms" / "__init__.py").write_text("")
    (package / "models.py").write_text("from .rooms import models as room_models\n")
    (package / "rooms" / "models.py").write_text("from ..models import Base\n")
    # An import a function makes when it runs is no circle.
    (package / "apart.py").write_text("import json\n\n\ndef later():\n    from .rooms import views\n")
    (package / "rooms" / "views.py").write_text("from ..apart import later\n")
    assert circles(runs_on_import(tmp_path)) == [["incidents.models", "incidents.rooms.models"]]


def test_the_circle_check_sees_a_circle_through_a_rooms_init(tmp_path: Path) -> None:
    # The room's __init__ imports its pages at import time; a page imports the core, which imports
    # the room's models: importing those models runs the room's __init__ first.
    package = tmp_path / "incidents"
    (package / "rooms").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rooms" / "__init__.py").write_text("from . import views\n")
    (package / "rooms" / "views.py").write_text("from .. import queries\n")
    (package / "rooms" / "models.py").write_text("import json\n")
    (package / "queries.py").write_text("from .rooms.models import Base\n")
    assert circles(runs_on_import(tmp_path)) == [["incidents.queries", "incidents.rooms", "incidents.rooms.views"]]


def test_views_import_no_other_views() -> None:
    def is_view(name: str) -> bool:
        return name.rsplit(".", 1)[-1].startswith("views")

    offenders = {
        name: sorted(t for t in targets if is_view(t)) for name, targets in import_graph().items() if is_view(name)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_integrations_import_no_views_of_incidents() -> None:
    offenders = {
        name: sorted(
            t for t in targets if t.startswith("incidents.") and t.rsplit(".", 1)[-1].startswith(("views", "api"))
        )
        for name, targets in import_graph().items()
        if name.startswith("integrations")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_itself_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from search.index import writer\nimport integrations.slack\n")
    assert imported_modules(module, tmp_path) == {"search.index", "search.index.writer", "integrations.slack"}


def test_models_do_not_import_flask() -> None:
    for path in [ROOT / "incidents" / "models.py", *ROOT.glob("incidents/*/models.py")]:
        assert not any(m.split(".")[0] in ("flask", "flask_login", "flask_wtf") for m in imported_modules(path)), path


def test_importing_the_app_opens_nothing() -> None:
    # Nothing runs at import time: no engine, no instance folder, no secret written.
    code = (
        "import sys, app, incidents, incidents.api, incidents.views, incidents.cli, incidents.postmortems.api;"
        "assert 'psycopg' not in sys.modules, 'a database driver was loaded at import';"
        "import sqlalchemy.pool as p; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "tests", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_modules_stay_small() -> None:
    sources = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")] + list(ROOT.glob("*.py"))
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in sources}
    assert "incidents/postmortems/service.py" in sizes, "the check must see the rooms inside incidents/"

    def is_view(name: str) -> bool:
        return name.rsplit("/", 1)[-1].startswith(("views", "api"))

    too_big = {name: n for name, n in sizes.items() if n > 500 or (is_view(name) and n > 250)}
    assert too_big == {}
