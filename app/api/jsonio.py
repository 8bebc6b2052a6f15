"""orjson behind Quart's JSON provider: every request body and response goes through it."""

from __future__ import annotations

from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class OrjsonProvider(DefaultJSONProvider):
    """Several times faster than the standard library on our payloads; datetimes
    come out as ISO 8601 (what the OpenAPI schema promises), other types fall
    back to Quart's default conversions."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)
