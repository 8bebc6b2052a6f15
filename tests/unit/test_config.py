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


@pytest.mark.parametrize(("name", "value"), [("REC_PAIR_WINDOW", "-1"), ("REC_MAX_BATCH", "0")])
def test_bad_counts_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_bad_integer_names_the_variable():
    with pytest.raises(ValueError, match="REC_PORT"):
        Settings.from_env({"REC_PORT": "eighty"})


def test_limits_come_from_the_environment():
    env = {
        "REC_MAX_BODY_BYTES": "1024",
        "REC_WS_MAX_MESSAGE": "512",
        "REC_WS_RATE": "2.5",
        "REC_WS_BURST": "4",
        "REC_GRACEFUL_TIMEOUT": "30",
        "REC_TOKEN_TTL": "15m",
    }
    settings = Settings.from_env(env)
    assert (settings.max_body_bytes, settings.ws_max_message) == (1024, 512)
    assert (settings.ws_rate, settings.ws_burst, settings.graceful_timeout) == (2.5, 4, 30)
    assert settings.token_ttl == 900


@pytest.mark.parametrize(
    ("name", "value"), [("REC_MAX_BODY_BYTES", "0"), ("REC_WS_RATE", "-1"), ("REC_WS_RATE", "x")]
)
def test_bad_limits_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


KEY = "0123456789abcdef"


def test_authentication_is_off_without_keys():
    settings = Settings.from_env({})
    assert not settings.auth_enabled
    settings.check_auth()  # no secret needed


def test_keys_from_the_variable_and_the_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# ops\n{KEY}-admin:admin\n")
    env = {"REC_API_KEYS": f"{KEY}-read:read", "REC_API_KEYS_FILE": str(path)}
    settings = Settings.from_env(env)
    assert settings.auth_enabled
    assert [k.scope.label for k in settings.api_keys] == ["read", "admin"]
    assert KEY not in repr(settings)


def test_keys_without_a_token_secret_refuse_to_start():
    settings = Settings.from_env({"REC_API_KEYS": f"{KEY}:read"})
    with pytest.raises(ValueError, match="REC_TOKEN_SECRET"):
        settings.check_auth()
    short = Settings.from_env({"REC_API_KEYS": f"{KEY}:read", "REC_TOKEN_SECRET": "short"})
    with pytest.raises(ValueError, match="at least 32 bytes"):
        short.check_auth()
    secret = "s" * 32
    ok = Settings.from_env({"REC_API_KEYS": f"{KEY}:read", "REC_TOKEN_SECRET": secret})
    ok.check_auth()
    assert secret not in repr(ok)


def test_create_app_refuses_keys_without_a_secret():
    from app import create_app
    from app.auth import keys

    with pytest.raises(ValueError, match="REC_TOKEN_SECRET"):
        create_app({"database_url": "postgresql:///x", "api_keys": keys.parse(f"{KEY}:read")})


def test_metrics_and_log_format():
    default = Settings.from_env({})
    assert default.metrics is True and default.log_format == "text"
    changed = Settings.from_env({"REC_METRICS": "false", "REC_LOG_FORMAT": "JSON"})
    assert changed.metrics is False and changed.log_format == "json"
    with pytest.raises(ValueError, match="REC_LOG_FORMAT must be text, json or off"):
        Settings.from_env({"REC_LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="REC_METRICS"):
        Settings.from_env({"REC_METRICS": "sometimes"})


def test_a_metrics_key_parses():
    from app.auth import keys

    (key,) = keys.parse("prom-0123456789abcdef:metrics")
    assert key.scope is keys.Scope.METRICS and key.scope < keys.Scope.OPEN
