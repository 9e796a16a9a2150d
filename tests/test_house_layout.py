"""The house rules that can be checked by reading the code: dependency direction and import-time calm."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_incidents_imports_neither_search_nor_integrations() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] in ("search", "integrations"))
        for path in (ROOT / "incidents").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_itself_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from search.index import writer\nimport integrations.slack\n")
    assert imported_modules(module) == {"search.index", "integrations.slack"}


def test_models_do_not_import_flask() -> None:
    assert not any(m.split(".")[0] in ("flask", "flask_login", "flask_wtf") for m in imported_modules(ROOT / "incidents" / "models.py"))


def test_importing_the_app_opens_nothing() -> None:
    # Nothing runs at import time: no engine, no instance folder, no secret written.
    code = (
        "import sys, app, incidents, incidents.api, incidents.views, incidents.cli;"
        "assert 'psycopg' not in sys.modules, 'a database driver was loaded at import';"
        "import sqlalchemy.pool as p; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "tests", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_modules_stay_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in ROOT.glob("*/*.py")}
    is_view = lambda name: not name.startswith("tests/") and name.rsplit("/", 1)[-1].startswith(("views", "api"))  # noqa: E731
    too_big = {name: n for name, n in sizes.items() if n > 500 or (is_view(name) and n > 250)}
    assert too_big == {}
