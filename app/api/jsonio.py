"""orjson behind Quart's JSON provider: every request body and response goes through it."""

from __future__ import annotations

from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider
from quart.wrappers import Response

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class OrjsonProvider(DefaultJSONProvider):
    """Several times faster than the standard library on our payloads; datetimes
    come out as ISO 8601 (what the OpenAPI schema promises), other types fall
    back to Quart's default conversions."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Flask's `jsonify` body (the JSON and a newline) as orjson's bytes: its
        own decodes them to a str that the response encodes again."""
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=OPTIONS | orjson.OPT_APPEND_NEWLINE)
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[return-value,arg-type]
