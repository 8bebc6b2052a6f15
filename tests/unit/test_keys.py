"""REC_API_KEYS parsing, constant-time lookup and where a key may be presented."""

import pytest

from app.auth import keys
from app.auth.keys import Scope

LONG = "k" * 16


def test_parse_keys_and_scopes():
    parsed = keys.parse(f" {LONG}a:read , {LONG}b:WRITE,{LONG}c:admin,")
    assert [(k.secret, k.scope) for k in parsed] == [
        (LONG + "a", Scope.READ),
        (LONG + "b", Scope.WRITE),
        (LONG + "c", Scope.ADMIN),
    ]
    assert keys.parse("") == ()


def test_a_key_may_contain_colons():
    [key] = keys.parse(f"{LONG}:with:colons:write")
    assert key.secret == f"{LONG}:with:colons" and key.scope is Scope.WRITE


@pytest.mark.parametrize(
    "raw", [LONG, f"{LONG}:owner", f"{LONG}:", ":read", "short:read", f"{LONG} x:read"]
)
def test_bad_entries_name_the_variable(raw):
    with pytest.raises(ValueError, match="REC_API_KEYS"):
        keys.parse(raw)


def test_keys_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# the browser's key\n{LONG}r:read\n\n{LONG}w:write\n")
    assert [k.scope for k in keys.read_file(path)] == [Scope.READ, Scope.WRITE]
    with pytest.raises(ValueError, match="cannot read"):
        keys.read_file(tmp_path / "missing")


def scope_of(parsed: tuple[keys.ApiKey, ...], presented: str) -> Scope | None:
    key = keys.key_of(parsed, presented)
    return key.scope if key is not None else None


def test_key_of_and_the_hierarchy():
    parsed = keys.parse(f"{LONG}r:read,{LONG}a:admin")
    assert scope_of(parsed, LONG + "a") is Scope.ADMIN
    assert scope_of(parsed, LONG + "r") is Scope.READ
    assert scope_of(parsed, LONG) is None
    assert scope_of(parsed, "é" + LONG) is None  # non-ASCII input is no crash
    assert Scope.ADMIN > Scope.WRITE > Scope.READ > Scope.OPEN


def test_a_key_names_its_tenant_after_its_scope():
    parsed = keys.parse(f"{LONG}a:read@acme,{LONG}d:write,{LONG}g:admin@globex_2")
    assert [(k.scope, k.tenant) for k in parsed] == [
        (Scope.READ, "acme"),
        (Scope.WRITE, "default"),
        (Scope.ADMIN, "globex_2"),
    ]
    assert "acme" in repr(parsed[0]) and LONG not in repr(parsed[0])
    for bad in (f"{LONG}:read@", f"{LONG}:read@Acme", f"{LONG}:read@a-b", f"{LONG}:@acme"):
        with pytest.raises(ValueError, match="REC_API_KEYS"):
            keys.parse(bad)


def test_repr_never_shows_the_secret():
    [key] = keys.parse(f"{LONG}:read")
    assert LONG not in repr(key)


def test_presented_key_sources_in_order():
    assert keys.presented_key("Bearer a", "b", "c") == "a"
    assert keys.presented_key("bearer  a ", "", None) == "a"
    assert keys.presented_key("Basic a", "b", "c") == "b"
    assert keys.presented_key("", "", "c") == "c"
    assert keys.presented_key("Bearer ", "", None) is None
