"""API keys with scopes (read < write < admin), each bound to one tenant, parsed
from REC_API_KEYS / REC_API_KEYS_FILE: `key:scope` for the default tenant,
`key:scope@tenant` for another (app/db/tenants.py)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from app.db.tenants import DEFAULT, NAME

# A key shorter than this is guessable by brute force over HTTP.
MIN_KEY_LENGTH = 16


class Scope(IntEnum):
    """Ordered: a key's scope grants every scope below it. METRICS is outside
    the order: such a key reaches only GET /metrics (and what is open), so a
    Prometheus server holds no key that reads or writes data."""

    METRICS = -1
    OPEN = 0
    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


SCOPES = {scope.label: scope for scope in (Scope.READ, Scope.WRITE, Scope.ADMIN, Scope.METRICS)}


@dataclass(frozen=True)
class ApiKey:
    secret: str
    scope: Scope
    tenant: str = DEFAULT

    def __repr__(self) -> str:  # never print a key in a traceback or log
        return f"ApiKey(scope={self.scope.label}, tenant={self.tenant})"


def parse_entry(entry: str, source: str) -> ApiKey:
    """`key:scope` or `key:scope@tenant`; the key is everything before the last colon."""
    secret, sep, bound = entry.strip().rpartition(":")
    scope_name, at, tenant = bound.strip().partition("@")
    scope = SCOPES.get(scope_name.strip().lower())
    if not sep or scope is None:
        raise ValueError(
            f"{source}: each entry must be key:read, key:write, key:admin or key:metrics,"
            " optionally followed by @tenant"
        )
    tenant = tenant.strip() if at else DEFAULT
    if tenant != DEFAULT and not NAME.match(tenant):
        raise ValueError(
            f"{source}: {tenant!r} is not a tenant name (a-z, 0-9 and _, starting with a letter)"
        )
    secret = secret.strip()
    if len(secret) < MIN_KEY_LENGTH or any(c.isspace() or not c.isprintable() for c in secret):
        raise ValueError(
            f"{source}: keys must be at least {MIN_KEY_LENGTH} printable characters without spaces"
        )
    return ApiKey(secret, scope, tenant)


def parse(raw: str, source: str = "REC_API_KEYS") -> tuple[ApiKey, ...]:
    """`key1:read,key2:write`; empty means no keys (authentication off)."""
    return tuple(parse_entry(entry, source) for entry in raw.split(",") if entry.strip())


def read_file(path: Path, source: str = "REC_API_KEYS_FILE") -> tuple[ApiKey, ...]:
    """One `key:scope` per line; blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"{source}: cannot read {path}: {error.strerror}") from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(parse_entry(line, source) for line in lines if line and not line.startswith("#"))


def key_of(keys: tuple[ApiKey, ...], presented: str) -> ApiKey | None:
    """The configured key presented, or None. Every key is compared, each in
    constant time, so the answer's timing says nothing about which key matched."""
    found: ApiKey | None = None
    candidate = presented.encode()
    for key in keys:
        if hmac.compare_digest(key.secret.encode(), candidate):
            found = key
    return found


def presented_key(authorization: str, x_api_key: str, query_key: str | None = None) -> str | None:
    """The key from the Authorization or X-API-Key header, else from the query string."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return x_api_key.strip() or query_key or None
