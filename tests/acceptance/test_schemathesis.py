"""Schemathesis fuzzes every operation of the app's own /openapi.json against a
served app with authentication on: no 5xx, and every response conforms to the
schema (status documented, body valid, content type right, auth enforced)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from app import create_app
from app.server import serve
from app.servers import Options
from tests.support.auth import ADMIN_KEY, SECURE, bearer
from tests.support.events import seed
from tests.support.served import free_port, wait_until_up

# Examples per operation: bounded so the whole run stays well under a minute.
EXAMPLES = 25
COUNTS = {"cases": 0, "requests": 0}
# Every default check runs but this one: a schema-valid request may still be
# refused for what only the database knows (an event type not in
# recsys.event_types, an unknown user), and that 400/404 is right.
EXCLUDED = [checks.positive_data_acceptance]


class Server(threading.Thread):
    """The app under the default server (uvicorn) on its own event loop, so schemathesis's
    synchronous client can call it from the test's thread."""

    def __init__(self, app: Any, port: int) -> None:
        super().__init__(daemon=True)
        self.app, self.port = app, port

    def run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        options = Options.of("127.0.0.1", self.port, self.app.extensions["recsys.settings"])
        await serve(self.app, options, stop=self.stop.wait)

    def shutdown(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.join(30)


def counting(asgi_app: Any) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            COUNTS["requests"] += 1
        await asgi_app(scope, receive, send)

    return app


@pytest.fixture
def api_schema(db_url: str, tmp_path: Any) -> Iterator[Any]:
    seed(db_url)  # a few users and items, so the recommenders have something to rank
    app = create_app({"database_url": db_url, "data_dir": tmp_path, **SECURE})
    app.asgi_app = counting(app.asgi_app)
    server = Server(app, free_port())
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    wait_until_up(url)
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    schema.config.update(base_url=url)
    # The server refuses an oversized request head with 431 before the app runs:
    # a rejection of invalid input like any 4xx (documented in /openapi.json).
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413", "431"]
    yield schema
    server.shutdown()


def fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        COUNTS["cases"] += 1
        if mode is GenerationMode.NEGATIVE:
            # Negative checks judge the case's own headers: one whose only
            # invalid part was a generated Authorization (replaced below by the
            # admin's) was sent valid, and its 200 is right, not accepted bad data.
            case.headers = {**(case.headers or {}), **bearer(ADMIN_KEY)}
        case.call_and_validate(headers=bearer(ADMIN_KEY), excluded_checks=EXCLUDED)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    COUNTS.update(cases=0, requests=0)
    for operation in operations:
        try:
            fuzz(operation, mode)
        except Unsatisfiable:
            # Nothing to make invalid: an operation without parameters or body.
            assert mode is GenerationMode.NEGATIVE, operation.label
    # Run with -s to see the figures (docs/security.md quotes them).
    print(
        f"\nschemathesis {mode.value}: {len(operations)} operations,"
        f" {COUNTS['cases']} cases, {COUNTS['requests']} requests served"
    )
