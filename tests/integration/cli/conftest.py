"""The `recsys` command against the test's database."""

import pytest
from click.testing import CliRunner

from app.cli import main


@pytest.fixture
def run(db_url, monkeypatch):
    """run("import", "events", path, ...) -> click's Result, with REC_DATABASE_URL set."""
    monkeypatch.setenv("REC_DATABASE_URL", db_url)

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    return invoke
