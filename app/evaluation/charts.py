"""PNG charts of an evaluation. Figures are drawn on matplotlib's Agg canvas
directly (no pyplot), so no display and no global backend state is involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

SERVED, BASELINE, REFERENCE = "#2b6cb0", "#a0aec0", "#1a202c"
SIZE, DPI = (8.0, 4.5), 100


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def ndcg(result: dict[str, Any], path: Path) -> Path:
    """NDCG@k of every served strategy and baseline, best at the top."""
    k = result["protocol"]["k"]
    rows = [(n, v["ndcg"], SERVED) for n, v in result["strategies"].items()]
    rows += [(f"{n} (baseline)", v["ndcg"], BASELINE) for n, v in result["baselines"].items()]
    rows.sort(key=lambda row: row[1])
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    bars = ax.barh([r[0] for r in rows], [r[1] for r in rows], color=[r[2] for r in rows])
    ax.bar_label(bars, fmt="%.3f", padding=3, fontsize=8)
    if "ease" in result["baselines"]:
        ax.axvline(result["baselines"]["ease"]["ndcg"], color=REFERENCE, ls="--", lw=1)
    ax.set_xlabel(f"NDCG@{k}")
    ax.set_title(f"NDCG@{k}, {describe(result['protocol'])}: served (blue) vs baselines (grey)")
    ax.set_xlim(0, max(r[1] for r in rows) * 1.15 or 1)
    return _save(fig, path)


def by_history(result: dict[str, Any], path: Path) -> Path:
    """Mean NDCG per training-history bucket (cold users left, warm right)."""
    buckets = result["by_history"]
    labels = [f"{b}\n({row['users']} users)" for b, row in buckets.items()]
    names = [*result["strategies"], *result["baselines"]]
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    for name in names:
        values = [row.get(name) for row in buckets.values()]
        served = name in result["strategies"]
        ax.plot(
            labels,
            values,
            marker="o",
            lw=2 if served else 1,
            ls="-" if served else "--",
            label=name,
        )
    ax.set_xlabel("training history (items per user)")
    ax.set_ylabel(f"NDCG@{result['protocol']['k']}")
    ax.set_title("NDCG by history length (dashed: baselines)")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def popularity(result: dict[str, Any], path: Path) -> Path:
    """Share of recommendations per popularity tenth of the catalogue, against
    the catalogue's own share of training interactions."""
    tenths = [str(i) for i in range(1, 11)]
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    for name, figures in {**result["strategies"], **result["baselines"]}.items():
        served = name in result["strategies"]
        shares = [max(s, 1e-4) for s in figures["popularity_deciles"]]
        ax.plot(
            tenths,
            shares,
            marker=".",
            lw=1.5 if served else 1,
            ls="-" if served else ":",
            label=name,
        )
    reference = [max(s, 1e-4) for s in result["catalogue_deciles"]]
    ax.plot(
        tenths, reference, color=REFERENCE, lw=3, ls="--", label="catalogue (training interactions)"
    )
    ax.set_yscale("log")
    ax.set_xlabel("catalogue tenth by training popularity (1 = most popular)")
    ax.set_ylabel("share of recommendations (none drawn at 1e-4)")
    ax.set_title("Where recommendations fall in popularity")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def describe(protocol: dict[str, Any]) -> str:
    if protocol["split"] == "leave-last-out":
        return "leave-last-out"
    return (
        f"{protocol['split']} {1 - protocol['test_fraction']:.0%}/{protocol['test_fraction']:.0%}"
    )


def draw_all(result: dict[str, Any], out: Path) -> list[Path]:
    return [
        ndcg(result, out / "ndcg.png"),
        by_history(result, out / "ndcg_by_history.png"),
        popularity(result, out / "popularity.png"),
    ]
