"""Two tenants beside the default one, each with keys of every scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import conninfo

from app.auth import keys
from app.db import tenants

TENANTS = ("acme", "globex")
SECRET = b"t" * 32
PASSWORD = "tenant-password-0123"
DEFAULT_ADMIN = "default-admin-0123456789"


def key(tenant: str, scope: str) -> str:
    return f"{tenant}-{scope}-0123456789abcdef"


KEYS = {tenant: {s: key(tenant, s) for s in ("read", "write", "admin")} for tenant in TENANTS}
SETTINGS = {
    "api_keys": keys.parse(
        ",".join(
            [f"{DEFAULT_ADMIN}:admin"]
            + [f"{k}:{scope}@{t}" for t, scoped in KEYS.items() for scope, k in scoped.items()]
        )
    ),
    "token_secret": SECRET,
}


def headers(tenant: str, scope: str = "admin") -> dict[str, str]:
    return {"X-API-Key": KEYS[tenant][scope]}


@contextmanager
def created(db_url: str) -> Iterator[dict[str, str]]:
    """TENANTS created next to `db_url`, their URLs by name; dropped after."""
    urls = {tenant: tenants.create(db_url, tenant, PASSWORD) for tenant in TENANTS}
    try:
        yield urls
    finally:
        for tenant in TENANTS:
            if tenants.exists(db_url, tenant):
                tenants.drop(db_url, tenant)


def as_role(url: str, role_of: str) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to `url` as the SQL role of the tenant whose database is `role_of`."""
    params = conninfo.conninfo_to_dict(url)
    params.update(user=tenants.dbname(role_of), password=PASSWORD)
    return psycopg.connect(conninfo.make_conninfo(**params), autocommit=True)  # type: ignore[arg-type]
