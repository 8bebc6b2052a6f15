"""Bring a database to the newest schema with alembic."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from app import resources


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration, built here rather than read from alembic.ini:
    the installed package has no repository root, and env.py needs only the URL.
    (The repository's alembic.ini serves `alembic` run by hand from a checkout.)"""
    config = Config()
    config.set_main_option("script_location", str(resources.directory(resources.MIGRATIONS)))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def head() -> str:
    """The newest revision id."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


class UnknownRevision(RuntimeError):
    """The database records a schema revision that this build does not have."""


RECREATE = (
    "recreate it (embedded server: `recsys db stop`, then delete REC_DATA_DIR/pgdata;"
    " another server: `drop schema recsys cascade`)"
)


def upgrade(url: str, revision: str = "head") -> None:
    """Raises UnknownRevision, naming the fix, for a database from another build."""
    try:
        command.upgrade(alembic_config(url), revision)
    except CommandError as error:
        if "Can't locate revision" not in str(error):
            raise
        # Development builds before the first release had revisions 0002-0005,
        # since squashed into 0001_initial: such a database cannot be upgraded.
        raise UnknownRevision(
            f"the database's schema revision is unknown to this version of recsys"
            f" ({error}); a database made by a newer or pre-release build cannot be"
            f" upgraded: {RECREATE}"
        ) from None
