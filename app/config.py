"""Settings from REC_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs


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


@dataclass(frozen=True)
class Settings:
    """Everything configurable; see docs/configuration.md."""

    database_url: str | None = None
    data_dir: Path = Path(platformdirs.user_data_dir("recsys"))
    host: str = "127.0.0.1"
    port: int = 5000
    pool_min: int = 2
    pool_max: int = 10
    pair_window: int | None = None
    max_batch: int = 10_000
    max_k: int = 100
    migrate_on_start: bool = True
    listen_probe_seconds: float = 5.0
    # Retrain every model this often inside `recsys serve` (None: off).
    train_every: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        window = env.get("REC_PAIR_WINDOW")
        return cls(
            database_url=env.get("REC_DATABASE_URL") or None,
            data_dir=Path(env.get("REC_DATA_DIR") or cls.data_dir).expanduser(),
            host=env.get("REC_HOST", cls.host),
            port=_int(env, "REC_PORT", cls.port),
            pool_min=_int(env, "REC_POOL_MIN", cls.pool_min),
            pool_max=_int(env, "REC_POOL_MAX", cls.pool_max),
            pair_window=_int(env, "REC_PAIR_WINDOW", 0) if window else None,
            max_batch=_int(env, "REC_MAX_BATCH", cls.max_batch),
            migrate_on_start=_bool(env, "REC_MIGRATE", cls.migrate_on_start),
            train_every=_seconds(env, "REC_TRAIN_EVERY"),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        return replace(self, **overrides)
