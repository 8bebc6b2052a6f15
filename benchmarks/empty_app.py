"""The yardstick of benchmarks.servers: a Quart app that answers GET /health with
a constant and nothing else (no database, no middleware), served by hypercorn:
`hypercorn benchmarks.empty_app:app`."""

from __future__ import annotations

from quart import Quart

app = Quart(__name__)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
