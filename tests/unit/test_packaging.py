"""The wheel carries every package and the files read at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app import resources

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def on_disk() -> set[str]:
    """Every Python package in the repository that the wheel should carry."""
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("app", "benchmarks")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    for package, folder in PYPROJECT["package-dir"].items():
        found |= {
            ".".join([package, *init.parent.relative_to(ROOT / folder).parts])
            for init in (ROOT / folder).rglob("__init__.py")
        }
    return found


def test_every_package_on_disk_is_listed_for_the_wheel() -> None:
    assert set(PYPROJECT["packages"]) == on_disk()


def test_mapped_folders_are_the_top_level_ones() -> None:
    assert PYPROJECT["package-dir"] == {
        resources.SQL: "sql",
        resources.STATIC: "static",
        resources.MIGRATIONS: "migrations",
    }


def test_run_time_files_are_found_through_the_package() -> None:
    assert (resources.directory(resources.SQL) / "queries.sql").is_file()
    assert (resources.directory(resources.STATIC) / "demo.html").is_file()
    versions = resources.directory(resources.MIGRATIONS) / "versions"
    assert any(p.suffix == ".py" and p.name[0].isdigit() for p in versions.iterdir())


def test_every_static_file_ships_in_the_wheel() -> None:
    """The dashboard's vendored library and its licence too (static/vendor/)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ][resources.STATIC]
    static = ROOT / "static"
    shipped = {p for pattern in patterns for p in static.glob(pattern)}
    wanted = {
        p
        for p in static.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc", ".md"} and "__pycache__" not in p.parts
    }
    assert (static / "vendor" / "uplot" / "LICENSE") in wanted
    assert wanted - shipped == set()
