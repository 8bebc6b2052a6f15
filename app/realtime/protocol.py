"""The socket protocol shared by /ws and Socket.IO: validate a register_user request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.auth import tokens
from app.auth.keys import Scope
from app.config import MAX_ID


class ProtocolError(ValueError):
    """A message the server cannot act on; the socket stays open."""


@dataclass(frozen=True)
class Access:
    """What a socket proved at its handshake. A read key (the browser's public
    key) must show a token for each user it registers; a write or admin key can
    mint tokens anyway, so it needs none; with authentication off nobody does."""

    need_token: bool
    secret: bytes


def access_for(auth_enabled: bool, scope: Scope, secret: bytes) -> Access:
    return Access(need_token=auth_enabled and scope < Scope.WRITE, secret=secret)


def user_id_of(data: Any) -> str:
    """The user id in `{"user_id": ...}`; numbers are accepted and normalised."""
    if not isinstance(data, dict) or "user_id" not in data:
        raise ProtocolError('register_user needs data {"user_id": ...}')
    raw = data["user_id"]
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ProtocolError("user_id must be a string or an integer")
    user_id = str(raw).strip()
    if not 1 <= len(user_id) <= MAX_ID:
        raise ProtocolError(f"user_id must be 1-{MAX_ID} characters")
    return user_id


def registered_user(data: Any, access: Access) -> str:
    """The user a register_user request may subscribe to, token checked if needed."""
    user_id = user_id_of(data)
    if access.need_token:
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise ProtocolError(
                "register_user needs a token for this user: POST /users/{id}/token with a write key"
            )
        try:
            tokens.verify(access.secret, token, user_id, time.time())
        except tokens.TokenError as error:
            raise ProtocolError(str(error)) from None
    return user_id
