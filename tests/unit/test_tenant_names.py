"""Tenant names, their databases' names and the secrets of their socket tokens."""

import pytest

from app.auth import tokens
from app.config import Settings
from app.db import tenants

URL = "postgresql://app@db.example:5432/shop?sslmode=require"


def test_a_tenants_database_sits_beside_the_default_one():
    assert tenants.database_name(URL, "acme") == "shop_t_acme"
    assert tenants.url_for(URL, "default") == URL
    params = tenants.url_for(URL, "acme")
    assert "dbname=shop_t_acme" in params and "sslmode=require" in params and "db.example" in params
    assert tenants.tenant_of(URL, "shop_t_acme") == "acme"


@pytest.mark.parametrize("bad", ["default", "", "Acme", "1a", "a-b", "a" * 31, "é"])
def test_bad_names_are_refused_with_the_rule(bad):
    with pytest.raises(tenants.TenantError, match="tenant names are"):
        tenants.check_name(bad)


def test_a_name_too_long_for_postgres_is_refused():
    with pytest.raises(tenants.TenantError, match="63 bytes"):
        tenants.database_name(URL.replace("/shop", "/" + "s" * 40), "a" * 30)


def test_rec_tenant_is_checked():
    assert Settings.from_env({"REC_TENANT": "acme"}).tenant == "acme"
    assert Settings.from_env({}).tenant == "default"
    with pytest.raises(ValueError, match="REC_TENANT"):
        Settings.from_env({"REC_TENANT": "No"})


def test_each_tenant_signs_its_tokens_with_its_own_secret():
    secret = b"s" * 32
    assert tokens.tenant_secret(secret, "default") == secret
    acme, globex = tokens.tenant_secret(secret, "acme"), tokens.tenant_secret(secret, "globex")
    assert len({secret, acme, globex}) == 3
    token = tokens.issue(acme, "u1", 2**40)
    tokens.verify(acme, token, "u1", 0)
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify(globex, token, "u1", 0)
