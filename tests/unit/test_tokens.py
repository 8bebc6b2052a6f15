"""Socket tokens: HMAC-signed user id and expiry."""

import pytest

from app.auth import tokens

SECRET = b"x" * 32


def test_a_token_verifies_for_its_user_until_it_expires():
    token = tokens.issue(SECRET, "42", expires_at=1000)
    tokens.verify(SECRET, token, "42", now=999)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify(SECRET, token, "42", now=1000)


def test_another_user_or_secret_is_refused():
    token = tokens.issue(SECRET, "42", expires_at=1000)
    with pytest.raises(tokens.TokenError, match="another user"):
        tokens.verify(SECRET, token, "43", now=0)
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify(b"y" * 32, token, "42", now=0)


def test_user_ids_with_the_separator_cannot_be_confused():
    token = tokens.issue(SECRET, "a|2000", expires_at=1000)
    tokens.verify(SECRET, token, "a|2000", now=0)
    with pytest.raises(tokens.TokenError):
        tokens.verify(SECRET, token, "a", now=1500)


def test_tampering_is_detected():
    token = tokens.issue(SECRET, "42", expires_at=1000)
    payload, signature = token.split(".")
    forged = tokens.issue(b"attacker" * 4, "42", expires_at=9999).split(".")[0]
    for bad in [f"{forged}.{signature}", f"{payload}.{signature[:-2]}", "", "no-dot", "é.é"]:
        with pytest.raises(tokens.TokenError):
            tokens.verify(SECRET, bad, "42", now=0)
