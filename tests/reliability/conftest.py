import pytest

from tests.served import served as serve_app


@pytest.fixture
async def served(db_url, tmp_path):
    async with serve_app(db_url, tmp_path, listen_probe_seconds=0.5) as s:
        yield s
