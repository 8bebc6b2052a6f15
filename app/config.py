"""Settings from REC_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from app.auth import keys, tokens
from app.db import tenants

# Limits on what a request may carry, declared once: the API's models, the socket
# protocol and the importers read them from here; docs/security.md lists them.
# The schema enforces MAX_ID too (the length checks on external_id and event_key)
# and recsys.check_k bounds k for psql callers; tests/integration/sql/test_limits.py
# checks that the SQL agrees.
MAX_ID = 256  # characters of a user, product or event id and of a category
MAX_EVENT_TYPE = 64  # characters of an event type's name
MAX_K = 100  # items per recommendation list
DEFAULT_K = 10
MAX_BATCH = 10_000  # events per POST /events unless REC_MAX_BATCH says otherwise
MAX_ITEMS = 10_000  # items per POST /items
MAX_EXCLUDE = 10_000  # characters of `exclude`: room for about 40 of the longest ids
MAX_PAGE = 1_000  # `limit` of GET /items and of a user's history


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    """'3600', '90s', '30m', '6h', '1d'; empty, 0 or 'off' disables."""
    raw = env.get(name, "").strip().lower()
    if raw in {"", "0", "off", "false", "no"}:
        return None
    number, unit = (raw[:-1], raw[-1]) if raw[-1] in UNITS else (raw, "s")
    try:
        seconds = float(number) * UNITS[unit]
    except ValueError:
        raise ValueError(f"{name} must be seconds or like 30m, 6h, 1d; got {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return seconds


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _optional_count(env: Mapping[str, str], name: str) -> int | None:
    """A count of 0 or more; None when unset."""
    if not env.get(name):
        return None
    value = _int(env, name, 0)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def _optional_positive(env: Mapping[str, str], name: str) -> int | None:
    """A count of 1 or more; None when unset."""
    return _positive(env, name, 1) if env.get(name) else None


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


LOG_FORMATS = ("text", "json", "off")


def _log_format(env: Mapping[str, str]) -> str:
    raw = env.get("REC_LOG_FORMAT", "").strip().lower() or LOG_FORMATS[0]
    if raw not in LOG_FORMATS:
        raise ValueError(f"REC_LOG_FORMAT must be text, json or off, got {raw!r}")
    return raw


SERVERS = ("uvicorn", "hypercorn", "granian")  # app/servers/NAMES, fastest first


def _server(env: Mapping[str, str]) -> str:
    raw = env.get("REC_SERVER", "").strip().lower() or SERVERS[0]
    if raw not in SERVERS:
        raise ValueError(f"REC_SERVER must be one of {', '.join(SERVERS)}, got {raw!r}")
    return raw


def _urls(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(url.strip() for url in env.get(name, "").split(",") if url.strip())


def _api_keys(env: Mapping[str, str]) -> tuple[keys.ApiKey, ...]:
    found = keys.parse(env.get("REC_API_KEYS", ""))
    path = env.get("REC_API_KEYS_FILE", "").strip()
    if path:
        found += keys.read_file(Path(path).expanduser())
    return found


def _tenant(env: Mapping[str, str]) -> str:
    try:
        return tenants.check(env.get("REC_TENANT", "").strip() or tenants.DEFAULT)
    except tenants.TenantError as error:
        raise ValueError(f"REC_TENANT: {error}") from None


def _secret(env: Mapping[str, str]) -> bytes | None:
    raw = env.get("REC_TOKEN_SECRET", "")
    return raw.encode() if raw else None


@dataclass(frozen=True)
class Settings:
    """Everything configurable; README.md's Configuration table lists the variables."""

    database_url: str | None = None
    data_dir: Path = Path(platformdirs.user_data_dir("recsys"))
    host: str = "127.0.0.1"
    port: int = 5000
    pool_min: int = 2
    pool_max: int = 10
    # Copied into recsys.settings on start (app/db/tunables.py); None keeps the stored value.
    pair_window: int | None = None
    page_ttl_minutes: int | None = None
    attribution_hours: int | None = None
    # Log every served list in recsys.exposures (off: no recomm_id paging or
    # attribution; for measuring the ledger's cost).
    exposures: bool = True
    max_batch: int = MAX_BATCH
    migrate_on_start: bool = True
    listen_probe_seconds: float = 5.0
    # Retrain every model this often inside `recsys serve` (None: off).
    train_every: float | None = None
    # Delete events older than this many days inside `recsys serve` (None: keep all).
    retention_days: int | None = None
    # Refresh the neighbour lists behavior_based reads this often (None: off,
    # behavior_based then scores every source live from item_pairs).
    neighbor_refresh: float | None = 10.0
    # Authentication is on when any key is configured (REC_API_KEYS, REC_API_KEYS_FILE).
    api_keys: tuple[keys.ApiKey, ...] = ()
    # Signs per-user socket tokens; required when authentication is on.
    token_secret: bytes | None = field(default=None, repr=False)
    token_ttl: float = 3600.0
    # Limits: larger request bodies get 413, larger socket messages close 1009,
    # sockets sending faster than ws_rate/s (bursts of ws_burst) close 1008.
    max_body_bytes: int = 32 * 1024 * 1024
    ws_max_message: int = 64 * 1024
    ws_rate: float = 5.0
    ws_burst: int = 20
    # Seconds in-flight requests get to finish on SIGTERM/SIGINT.
    graceful_timeout: float = 10.0
    # GET /metrics and the per-request counters behind it (off: neither; for
    # measuring their cost, docs/operations.md).
    metrics: bool = True
    # GET /health, /recommend and /items/<id>/similar answered ahead of Quart
    # (app/api/fastpath.py; off: every request through Quart, for measuring it).
    fast_path: bool = True
    # One line per request: "text" (readable) or "json" (one object, for log shippers).
    log_format: str = "text"
    # Streaming replicas recommendation reads go to (app/db/replicas.py), and how
    # long a read that must see a write waits for one to replay it.
    replica_urls: tuple[str, ...] = ()
    replica_wait: float = 0.25
    # The ASGI server of `recsys serve` (app/servers/): uvicorn, hypercorn or granian.
    server: str = "uvicorn"
    # The tenant the CLI works on (REC_TENANT or `recsys --tenant`); the server
    # serves every tenant, each request the one of its key (app/db/tenants.py).
    tenant: str = "default"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    def check_auth(self) -> None:
        """Keys without a token secret would leave every user's pushes open to any
        read key: refuse to start rather than derive a guessable secret."""
        if not self.auth_enabled:
            return
        if self.token_secret is None:
            raise ValueError(
                "REC_API_KEYS is set but REC_TOKEN_SECRET is not: set it to a random string of"
                f" at least {tokens.MIN_SECRET_BYTES} bytes, e.g. the output of"
                " `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if len(self.token_secret) < tokens.MIN_SECRET_BYTES:
            raise ValueError(f"REC_TOKEN_SECRET must be at least {tokens.MIN_SECRET_BYTES} bytes")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("REC_DATABASE_URL") or None,
            data_dir=Path(env.get("REC_DATA_DIR") or cls.data_dir).expanduser(),
            host=env.get("REC_HOST", cls.host),
            port=_int(env, "REC_PORT", cls.port),
            pool_min=_int(env, "REC_POOL_MIN", cls.pool_min),
            pool_max=_int(env, "REC_POOL_MAX", cls.pool_max),
            pair_window=_optional_count(env, "REC_PAIR_WINDOW"),
            page_ttl_minutes=_optional_positive(env, "REC_PAGE_TTL_MINUTES"),
            attribution_hours=_optional_positive(env, "REC_ATTRIBUTION_HOURS"),
            exposures=_bool(env, "REC_EXPOSURES", cls.exposures),
            max_batch=_positive(env, "REC_MAX_BATCH", cls.max_batch),
            migrate_on_start=_bool(env, "REC_MIGRATE", cls.migrate_on_start),
            train_every=_seconds(env, "REC_TRAIN_EVERY"),
            retention_days=(
                _positive(env, "REC_RETENTION_DAYS", 1) if env.get("REC_RETENTION_DAYS") else None
            ),
            neighbor_refresh=(
                _seconds(env, "REC_NEIGHBOR_REFRESH")
                if env.get("REC_NEIGHBOR_REFRESH")
                else cls.neighbor_refresh
            ),
            api_keys=_api_keys(env),
            token_secret=_secret(env),
            token_ttl=_seconds(env, "REC_TOKEN_TTL") or cls.token_ttl,
            max_body_bytes=_positive(env, "REC_MAX_BODY_BYTES", cls.max_body_bytes),
            ws_max_message=_positive(env, "REC_WS_MAX_MESSAGE", cls.ws_max_message),
            ws_rate=_rate(env, "REC_WS_RATE", cls.ws_rate),
            ws_burst=_positive(env, "REC_WS_BURST", cls.ws_burst),
            graceful_timeout=_seconds(env, "REC_GRACEFUL_TIMEOUT") or cls.graceful_timeout,
            metrics=_bool(env, "REC_METRICS", cls.metrics),
            fast_path=_bool(env, "REC_FAST_PATH", cls.fast_path),
            log_format=_log_format(env),
            server=_server(env),
            replica_urls=_urls(env, "REC_REPLICA_URLS"),
            replica_wait=_seconds(env, "REC_REPLICA_WAIT") or cls.replica_wait,
            tenant=_tenant(env),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        return replace(self, **overrides)
