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


def test_scope_of_and_the_hierarchy():
    parsed = keys.parse(f"{LONG}r:read,{LONG}a:admin")
    assert keys.scope_of(parsed, LONG + "a") is Scope.ADMIN
    assert keys.scope_of(parsed, LONG + "r") is Scope.READ
    assert keys.scope_of(parsed, LONG) is None
    assert keys.scope_of(parsed, "é" + LONG) is None  # non-ASCII input is no crash
    assert Scope.ADMIN > Scope.WRITE > Scope.READ > Scope.OPEN


def test_repr_never_shows_the_secret():
    [key] = keys.parse(f"{LONG}:read")
    assert LONG not in repr(key)


def test_presented_key_sources_in_order():
    assert keys.presented_key("Bearer a", "b", "c") == "a"
    assert keys.presented_key("bearer  a ", "", None) == "a"
    assert keys.presented_key("Basic a", "b", "c") == "b"
    assert keys.presented_key("", "", "c") == "c"
    assert keys.presented_key("Bearer ", "", None) is None
