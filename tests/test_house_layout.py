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


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module the file imports, relative imports resolved, `from pkg import module` counted as pkg.module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
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


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project's modules it imports, over every package and sub-package."""
    files = [p for package in PACKAGES for p in (root / package).rglob("*.py")]
    modules = {module_name(p, root): p for p in files}
    return {
        name: {m for m in imported_modules(path, root) if m in modules and m != name} for name, path in modules.items()
    }


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


def is_package_face(name: str) -> bool:
    """A package's __init__ wires its rooms together; it may import what imports it back (the package itself)."""
    return (ROOT / Path(*name.split(".")) / "__init__.py").exists()


def test_incidents_imports_neither_search_nor_integrations() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in ("search", "integrations")
        )
        for path in (ROOT / "incidents").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_circles() -> None:
    # Modules importing "incidents" (the package) only reach its __init__ through `from . import x`
    # of a sibling: edges into a package's face are left out, as Python resolves those to the module.
    graph = {name: {t for t in targets if not is_package_face(t)} for name, targets in import_graph().items()}
    assert circles(graph) == []


def test_the_circle_check_sees_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "incidents"
    (package / "rooms").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rooms" / "__init__.py").write_text("")
    (package / "models.py").write_text("from .rooms import models as room_models\n")
    (package / "rooms" / "models.py").write_text("from ..models import Base\n")
    (package / "apart.py").write_text("import json\n")
    graph = {
        name: {t for t in targets if not t.endswith(("incidents", "rooms"))}
        for name, targets in import_graph(tmp_path).items()
    }
    assert circles(graph) == [["incidents.models", "incidents.rooms.models"]]


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
