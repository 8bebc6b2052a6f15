"""Per-user socket tokens: base64url(user_id|expiry) . base64url(HMAC-SHA256).

A browser holding only a public read key cannot subscribe to another user's
pushes: registering a user on a socket needs a token that the server signed
for exactly that user, issued through a write-key endpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from app.db.tenants import DEFAULT

# Binds signatures to this use, so the secret can never sign anything else by accident.
CONTEXT = b"recsys socket token v1\n"
# A secret shorter than this is guessable offline from one issued token.
MIN_SECRET_BYTES = 32


class TokenError(ValueError):
    """A token the server does not accept; the message says why."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, CONTEXT + payload, hashlib.sha256).digest()


def tenant_secret(secret: bytes, tenant: str) -> bytes:
    """The secret of `tenant`'s tokens: the default tenant's is `secret` itself
    (tokens issued before tenants stay valid); another's is derived from it, so
    a token issued under one tenant fails every other's signature check."""
    if tenant == DEFAULT:
        return secret
    context = b"recsys tenant token secret\n" + tenant.encode()
    return hmac.new(secret, context, hashlib.sha256).digest()


def issue(secret: bytes, user_id: str, expires_at: int) -> str:
    """A token for `user_id`, valid until `expires_at` (Unix seconds)."""
    payload = f"{user_id}|{expires_at}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def verify(secret: bytes, token: str, user_id: str, now: float) -> None:
    """Raise TokenError unless `token` was signed with `secret` for `user_id`
    and has not expired at `now`."""
    encoded, _, signature = token.partition(".")
    try:
        payload, mac = _unb64(encoded), _unb64(signature)
    except (binascii.Error, ValueError):
        raise TokenError("malformed token") from None
    if not hmac.compare_digest(mac, _signature(secret, payload)):
        raise TokenError("invalid token signature")
    # The user id may contain "|"; the expiry never does.
    owner, _, expiry = payload.decode().rpartition("|")
    if owner != user_id:
        raise TokenError("the token was issued for another user")
    if int(expiry) <= now:
        raise TokenError("the token has expired; ask for a new one")
