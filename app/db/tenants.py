"""Tenants: one database per shop, on the default database's server.

The default tenant is the configured database itself (REC_DATABASE_URL or the
embedded one), so a single-shop deployment needs no configuration. Tenant
`acme` lives in the database `<default>_t_acme`, built by the same migrations,
marked by its comment `recsys tenant of <default>`, and reached only by the
service (a superuser) and the role of the same name: PUBLIC loses CONNECT on
it, and no tenant role has USAGE on another database's schema `recsys`.

Why a database rather than row-level security (docs/tenants.md): every table,
trigger, function and view stays as it is, no query can forget a tenant
filter, and the trigger's hot path pays no policy per row.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import conninfo, sql

from app.db import queries

DEFAULT = "default"
# Short enough that <default database>_t_<tenant> fits PostgreSQL's 63 bytes.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
MAX_IDENTIFIER = 63


class TenantError(ValueError):
    """A tenant name or operation the server refuses; the message says why."""


def check_name(tenant: str) -> str:
    if tenant == DEFAULT or not NAME.match(tenant):
        raise TenantError(
            f"tenant names are 1-30 characters of a-z, 0-9 and _, starting with a letter,"
            f" and not {DEFAULT!r}; got {tenant!r}"
        )
    return tenant


def check(tenant: str) -> str:
    """`tenant` if it can name a tenant, the default one included."""
    return tenant if tenant == DEFAULT else check_name(tenant)


def dbname(url: str) -> str:
    return str(conninfo.conninfo_to_dict(url).get("dbname") or "postgres")


def database_name(base_url: str, tenant: str) -> str:
    """The database of `tenant` next to the default database of `base_url`."""
    name = f"{dbname(base_url)}_t_{check_name(tenant)}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise TenantError(f"the database name {name!r} is longer than {MAX_IDENTIFIER} bytes")
    return name


def url_for(base_url: str, tenant: str) -> str:
    """The URL of `tenant`'s database (the default tenant's is `base_url`)."""
    if tenant == DEFAULT:
        return base_url
    params = conninfo.conninfo_to_dict(base_url)
    params["dbname"] = database_name(base_url, tenant)
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def comment(base_url: str) -> str:
    return f"recsys tenant of {dbname(base_url)}"


def tenant_of(base_url: str, database: str) -> str:
    """The tenant whose database is `database` (a row of `tenant_databases`)."""
    return database[len(dbname(base_url)) + len("_t_") :]


def names(conn: psycopg.Connection[tuple[object, ...]], base_url: str) -> list[str]:
    """Every tenant of the default database at `base_url`, by name."""
    rows = conn.execute(queries.get("tenant_databases"), {"base": dbname(base_url)}).fetchall()
    return [tenant_of(base_url, str(database)) for database, _ in rows]


def list_tenants(base_url: str) -> list[str]:
    with psycopg.connect(base_url) as conn:
        return names(conn, base_url)


def exists(base_url: str, tenant: str) -> bool:
    return tenant == DEFAULT or tenant in list_tenants(base_url)


def _ddl(name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(queries.get(name)).format(**parts)


def create(base_url: str, tenant: str, password: str | None = None) -> str:
    """Create `tenant`'s database and role and build its schema; returns its URL.
    `password` makes the role a login for analysts' psql (else NOLOGIN: grant
    it to people's own roles)."""
    database = database_name(base_url, tenant)
    if exists(base_url, tenant):
        raise TenantError(f"tenant {tenant!r} exists already (database {database})")
    db = role = sql.Identifier(database)  # the role is named like its database
    login = sql.SQL("login password {}").format(sql.Literal(password)) if password else None
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(_ddl("tenant_create_database", database=db))
        try:
            conn.execute(_ddl("tenant_create_role", role=role, login=login or sql.SQL("nologin")))
            conn.execute(_ddl("tenant_connect", database=db, role=role))
            url = url_for(base_url, tenant)
            _upgrade(url)
            with psycopg.connect(url, autocommit=True) as tenant_conn:
                tenant_conn.execute(_ddl("tenant_grants", role=role))
            # Marked last: a tenant half made by a failure is never listed.
            conn.execute(
                _ddl("tenant_mark_database", database=db, comment=sql.Literal(comment(base_url)))
            )
        except BaseException:
            _drop(conn, database)
            raise
    return url


def drop(base_url: str, tenant: str) -> None:
    """Erase `tenant`: its database (every row of the shop) and its role.
    Connections to it, the service's included, are ended."""
    database = database_name(base_url, tenant)
    if not exists(base_url, tenant):
        raise TenantError(f"no tenant {tenant!r} (no database {database} marked as one)")
    with psycopg.connect(base_url, autocommit=True) as conn:
        _drop(conn, database)


def _drop(conn: psycopg.Connection[tuple[object, ...]], database: str) -> None:
    name = sql.Identifier(database)  # the database's and its role's
    conn.execute(_ddl("tenant_drop_database", database=name))
    conn.execute(_ddl("tenant_drop_role", role=name))


def upgrade_all(base_url: str) -> list[str]:
    """Bring every tenant's database to the newest schema (the default's is
    the caller's); returns the tenants upgraded."""
    found = list_tenants(base_url)
    for tenant in found:
        _upgrade(url_for(base_url, tenant))
    return found


def _upgrade(url: str) -> None:
    # Imported here: API keys name tenants (app.auth.keys imports this module),
    # and a server process should not load alembic to parse them.
    from app.db import migrate

    migrate.upgrade(url)
