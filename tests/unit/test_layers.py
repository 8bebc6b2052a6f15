"""Rooms keep to their job: app/db/ holds queries and connections, nothing above them."""

from __future__ import annotations

import ast
from pathlib import Path

import app

DB = Path(app.__file__).parent / "db"
ABOVE_DB = ("app.training", "app.jobs", "app.api", "app.recommenders")


def imported(tree: ast.AST, package: str = "app.db") -> set[str]:
    """Every module an import in `tree` names, nested and TYPE_CHECKING ones too;
    `from app import x` counts as app.x, relative imports are resolved in `package`."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, node.module] if node.module else parts)
            base = base if node.level else (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def reaches_above_db(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ABOVE_DB)


def test_imported_sees_every_form():
    tree = ast.parse(
        "import app.api.deps\nfrom app import jobs\nfrom ..recommenders import base\n"
        "def f():\n    from app.training.encoders import Encoder\n"
    )
    found = imported(tree)
    assert {"app.api.deps", "app.jobs", "app.recommenders", "app.training.encoders"} <= found
    assert not reaches_above_db("app.jobsworth") and reaches_above_db("app.jobs")


def test_db_imports_nothing_above_it():
    offenders = {
        f"{path.name}: {module}"
        for path in sorted(DB.glob("*.py"))
        for module in imported(ast.parse(path.read_text(), str(path)))
        if reaches_above_db(module)
    }
    assert DB.is_dir() and not offenders
