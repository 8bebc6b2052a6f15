"""The socket protocol shared by /ws and Socket.IO: validate a register_user request."""

from __future__ import annotations

from typing import Any

MAX_ID = 256


class ProtocolError(ValueError):
    """A message the server cannot act on; the socket stays open."""


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
