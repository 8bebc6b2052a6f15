"""The bench's output: a table on stdout, the performance goals (docs/performance.md),
JSON, a PNG."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.phases import Result
from benchmarks.traffic import READS

HEADERS = [
    "phase",
    "n",
    "per s",
    "unit",
    "x health",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "errors",
    "gen CPU",
    "app CPU",
    "app RSS MiB",
    "busy cores",
]


def row(r: Result) -> list[Any]:
    lat = r.latency_ms
    return [
        r.name,
        r.requests,
        r.throughput,
        r.unit,
        r.vs_health if r.vs_health is not None else math.nan,
        lat["p50"],
        lat["p95"],
        lat["p99"],
        lat["max"],
        r.errors,
        f"{r.client_cpu_s / r.seconds:.0%}",
        "-" if math.isnan(r.app_cpu_s) else f"{r.app_cpu_s / r.seconds:.0%}",
        r.rss_mib.get("end", math.nan),
        r.machine_busy,
    ]


def print_results(results: list[Result], title: str) -> None:
    harness.print_table(title, HEADERS, [row(r) for r in results])
    print(
        "gen CPU / app CPU: CPU seconds of this generator / of the app's processes per"
        " wall second (100% = one core); x health: requests/s over GET /health's;"
        f" busy cores: the whole machine's, whoever used them (of {os.cpu_count()})"
    )
    for r in results:
        if r.first_error:
            print(f"  {r.name}: first error: {r.first_error}")


def goals(results: list[Result]) -> list[dict[str, Any]]:
    """The performance goals, each with the measured figure and whether it is met."""
    by = {r.name: r for r in results}
    out = []

    def check(goal: str, value: float | None, met: bool | None) -> None:
        out.append({"goal": goal, "measured": value, "met": met})

    for name in READS:
        if name in by:
            r = by[name]
            check(f"{name}: p99 <= 20 ms", r.latency_ms["p99"], r.latency_ms["p99"] <= 20)
            if r.vs_health is not None:
                check(f"{name}: >= 0.5 x health req/s", r.vs_health, r.vs_health >= 0.5)
    if "event" in by:
        r = by["event"]
        if r.vs_health is not None:
            check("POST /event: >= 0.4 x health req/s", r.vs_health, r.vs_health >= 0.4)
        check("POST /event: p99 <= 30 ms", r.latency_ms["p99"], r.latency_ms["p99"] <= 30)
    if "events" in by:
        rate = by["events"].throughput
        check("POST /events: >= 20 000 events/s", rate, rate >= 20_000)
    if "push" in by:
        r = by["push"]
        n = r.extra.get("sockets")
        check(f"push p99 <= 50 ms ({n} sockets)", r.latency_ms["p99"], r.latency_ms["p99"] <= 50)
    if "soak" in by and "rss_growth" in by["soak"].extra:
        growth = by["soak"].extra["rss_growth"]
        check("app RSS within 10% over the soak", growth, abs(growth) <= 0.10)
    return out


def print_goals(checks: list[dict[str, Any]]) -> None:
    if not checks:
        return
    harness.print_table(
        "performance goals (docs/performance.md; a benchmark, not a test)",
        ["goal", "measured", "met"],
        [[c["goal"], c["measured"], "yes" if c["met"] else "NO"] for c in checks],
    )


def payload(results: list[Result], context: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmark": "recsys bench",
        **context,
        "phases": [r.public() for r in results],
        "goals": goals(results),
    }


def png(results: list[Result], path: Path) -> None:
    """Latency distributions: one empirical CDF per phase, log-scaled milliseconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    colours = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]
    for n, r in enumerate(r for r in results if r.latencies_ms):
        xs = sorted(r.latencies_ms)
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        label = f"{r.name} (p99 {r.latency_ms['p99']:.1f} ms)"
        # 20 colours, and a dash on every other line so neighbours stay apart.
        style = "-" if n % 2 == 0 else "--"
        ax.plot(xs, ys, style, color=colours[n % len(colours)], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of requests")
    ax.axhline(0.99, color="grey", linewidth=0.5, linestyle="--")
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title("recsys bench: latency distributions")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")
