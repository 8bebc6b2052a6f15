from pathlib import Path

import pytest

from app.config import Settings


def test_defaults_without_environment():
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)
    assert settings.pair_window is None


def test_environment_overrides():
    env = {
        "REC_DATABASE_URL": "postgresql:///x",
        "REC_PORT": "8000",
        "REC_DATA_DIR": "/tmp/r",
        "REC_PAIR_WINDOW": "0",
        "REC_MIGRATE": "off",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == "postgresql:///x"
    assert settings.port == 8000 and settings.data_dir == Path("/tmp/r")
    assert settings.pair_window == 0 and settings.migrate_on_start is False


def test_bad_integer_names_the_variable():
    with pytest.raises(ValueError, match="REC_PORT"):
        Settings.from_env({"REC_PORT": "eighty"})
