"""One log line per request: JSON with REC_LOG_FORMAT=json, text by default,
each with the request id that X-Request-ID carried in (or a new one), echoed back."""

from __future__ import annotations

import json
import re

from app import create_app


async def serve_requests(db_url, tmp_path, log_format, *requests):
    application = create_app(
        {"database_url": db_url, "data_dir": tmp_path, "log_format": log_format}
    )
    answers = []
    async with application.test_app() as test_app:
        client = test_app.test_client()
        for path, headers in requests:
            answers.append(await client.get(path, headers=headers))
    return answers


def lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


async def test_json_lines_parse_and_carry_the_request_id(db_url, tmp_path, capsys):
    given = {"X-Request-ID": "trace-42.a"}
    ok, missing = await serve_requests(
        db_url, tmp_path, "json", ("/health", given), ("/items/nope", {})
    )
    assert ok.headers["X-Request-ID"] == "trace-42.a"
    made_up = missing.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_up)
    records = [json.loads(line) for line in lines(capsys.readouterr().err)]
    access = [r for r in records if r["logger"] == "recsys.access"]
    assert [(r["path"], r["status"], r["request_id"]) for r in access] == [
        ("/health", 200, "trace-42.a"),
        ("/items/nope", 404, made_up),
    ]
    first = access[0]
    assert first["method"] == "GET" and first["route"] == "/health"
    assert first["duration_ms"] >= 0 and first["level"] == "info" and first["ts"]


async def test_text_is_the_default_and_odd_ids_are_replaced(db_url, tmp_path, capsys):
    (answer,) = await serve_requests(
        db_url, tmp_path, "text", ("/health", {"X-Request-ID": "bad id\twith spaces"})
    )
    rid = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    (line,) = [x for x in lines(capsys.readouterr().err) if "/health" in x]
    assert line.endswith(f"GET /health 200 {line.split()[-2]} request_id={rid}")
    assert not line.lstrip().startswith("{")


async def test_off_writes_no_line_but_still_echoes_the_id(db_url, tmp_path, capsys):
    (answer,) = await serve_requests(db_url, tmp_path, "off", ("/health", {"X-Request-ID": "r1"}))
    assert answer.headers["X-Request-ID"] == "r1"
    assert "/health" not in capsys.readouterr().err


async def test_error_answers_carry_the_id_too(client):
    response = await client.get("/recommend?k=0", headers={"X-Request-ID": "r-400"})
    assert response.status_code == 400
    assert response.headers["X-Request-ID"] == "r-400"
