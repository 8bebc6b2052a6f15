"""`recsys bench` end to end at toy size: every phase runs against a served app
and reports requests and no errors. Throughput and latency are measured, never
asserted (a benchmark, not a test)."""

import dataclasses
import json

import psycopg
import pytest
from click.testing import CliRunner

from app.cli import main
from benchmarks import harness, phases, run
from benchmarks.workload import Spec

TINY = ["--users", "60", "--items", "40", "--events", "400", "--seed", "3"]
FAST = ["--seconds", "0.5", "--warmup", "0.1", "--concurrency", "4", "--batch", "50"]
FAST += ["--sockets", "5", "--posters", "2", "--workers", "1"]


def databases(server_url):
    with psycopg.connect(server_url) as conn:
        rows = conn.execute("select datname from pg_database where datname like 'recsys_bench%'")
        return {r[0] for r in rows}


def test_every_phase_against_a_throwaway_server(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    before = databases(server_url)
    out, png = tmp_path / "bench.json", tmp_path / "bench.png"
    args = ["bench", *TINY, *FAST, "--soak", "1", "--json", out, "--png", png]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    by_name = {p["name"]: p for p in report["phases"]}
    assert list(by_name) == [*phases.PHASES, "soak"]
    for phase in report["phases"]:
        assert phase["errors"] == 0, phase
        assert phase["requests"] > 0, phase
        assert phase["latency_ms"]["p99"] > 0
    assert by_name["events"]["unit"] == "events"
    assert by_name["push"]["extra"]["sockets"] == 5
    assert by_name["popular"]["vs_health"] > 0
    assert report["load"]["events"] == 400
    assert set(report["load"]["trained"]) == {"ease", "content"}
    assert {g["goal"] for g in report["goals"]} >= {"POST /events: >= 20 000 events/s"}
    assert png.stat().st_size > 0
    assert "goals" in result.output
    assert databases(server_url) == before  # the throwaway database is dropped


def test_drives_a_running_server_after_loading_it(db_url, tmp_path):
    options = run.Options(
        spec=Spec(users=60, items=40, events=400, seed=3),
        settings=phases.Settings(
            seconds=0.5, warmup=0.1, concurrency=4, sockets=3, phases=("health", "popular", "push")
        ),
        train=False,
        load=True,
        database_url=db_url,
    )
    with harness.served_process(db_url, workers=1) as (base, pid):
        report = run.bench(dataclasses.replace(options, url=base, pid=pid))
    assert [p["name"] for p in report["phases"]] == ["health", "popular", "push"]
    assert all(p["errors"] == 0 and p["requests"] > 0 for p in report["phases"])
    assert report["phases"][0]["rss_mib"]["max"] > 0  # sampled through --pid
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("select count(*) from recsys.events").fetchone()[0]
    assert stored > 400  # the load, then the events the push phase posted


def test_unknown_phase_is_refused():
    result = CliRunner().invoke(main, ["bench", "--phases", "health,nope"])
    assert result.exit_code == 2
    assert "unknown nope" in result.output


def test_load_against_a_url_needs_the_database(monkeypatch):
    result = CliRunner().invoke(main, ["bench", "--url", "http://127.0.0.1:9", "--load", *TINY])
    assert result.exit_code == 1
    assert "--load needs --database-url" in result.output


@pytest.mark.parametrize("option", ["--users", "--events"])
def test_sizes_must_be_positive(option):
    result = CliRunner().invoke(main, ["bench", option, "0"])
    assert result.exit_code == 1
    assert f"{option} must be at least 1" in result.output
