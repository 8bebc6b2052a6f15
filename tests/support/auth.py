"""Authentication on: one key of each scope and a token secret."""

from __future__ import annotations

from app.auth import keys

READ_KEY = "read-key-0123456789abcdef"
WRITE_KEY = "write-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"
METRICS_KEY = "metrics-key-0123456789abcdef"
SECRET = b"s" * 32
SECURE = {
    "api_keys": keys.parse(
        f"{READ_KEY}:read,{WRITE_KEY}:write,{ADMIN_KEY}:admin,{METRICS_KEY}:metrics"
    ),
    "token_secret": SECRET,
}
KEYS = {"none": None, "read": READ_KEY, "write": WRITE_KEY, "admin": ADMIN_KEY}


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}
