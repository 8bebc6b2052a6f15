"""POST /users/{id}/token: a signed token that lets a socket watch one user."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import validate_response

from app.api import auth, deps
from app.api.errors import APIError
from app.auth import tokens
from app.config import MAX_ID

bp = Blueprint("tokens", __name__)


class SocketToken(BaseModel):
    """Send `token` with register_user on /ws or Socket.IO."""

    user_id: str
    token: str
    expires_at: datetime = Field(description="REC_TOKEN_TTL (default 1 h) after issue")


@bp.post("/users/<path:user_id>/token")
@validate_response(SocketToken, 201)
async def issue_token(user_id: str) -> tuple[SocketToken, int]:
    """Issue a token for `user_id`'s pushes (needs a write or admin key).

    A browser that holds only a public read key can register on /ws or
    Socket.IO only the users its server issued tokens for, so nobody can
    subscribe to another user's recommendations. Issue it server-side, after
    your own login, and hand it to that user's page.
    """
    user_id = user_id.strip()
    if not 1 <= len(user_id) <= MAX_ID:
        message = f"user_id must be 1-{MAX_ID} characters"
        raise APIError(400, "invalid_request", message, {"user_id": "invalid"})
    expires_at = int(time.time() + deps.settings().token_ttl)
    token = tokens.issue(auth.token_secret(), user_id, expires_at)
    expires = datetime.fromtimestamp(expires_at, UTC)
    return SocketToken(user_id=user_id, token=token, expires_at=expires), 201
