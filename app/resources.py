"""Where the files the package reads at run time are: SQL, migrations, static.

The repository keeps them at its top level (sql/, migrations/, static/); the
build maps them into the package as app.sql, app.migrations and app.static
(pyproject.toml), so importlib.resources finds them in a wheel, a plain
`pip install .` and an editable install alike, from any working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SQL = "app.sql"
MIGRATIONS = "app.migrations"
STATIC = "app.static"


def directory(package: str) -> Path:
    """The package's folder on disk: alembic and the static file server need a path.

    pip installs wheels unpacked, so this holds for every supported install; a
    zipped import (zipapp, zipimport) is refused with the reason.
    """
    found = resources.files(package)
    if not isinstance(found, Path):
        raise RuntimeError(
            f"{package} is not a folder on disk ({found!r}); install recsys unpacked"
        )
    return found
