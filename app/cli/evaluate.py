"""`recsys evaluate`: offline evaluation of every served strategy, in a scratch database."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from app import recommenders
from app.cli.common import Failure, settings
from app.cli.imports import file_options, options
from app.importing import formats
from app.importing.reader import RowError

if TYPE_CHECKING:
    from app.evaluation.run import Protocol

STRATEGIES = ",".join(recommenders.VARIANTS)


@click.command()
@click.option(
    "--split",
    "split_name",
    type=click.Choice(["temporal", "random", "leave-last-out"]),
    default="temporal",
    show_default=True,
    help="temporal: each user's latest items held out; random: per-user stratified"
    " (seeded); leave-last-out: each user's latest item.",
)
@click.option(
    "--test-fraction", default=0.2, show_default=True, help="Share of each user's items held out."
)
@click.option("--k", default=10, show_default=True, help="List length scored.")
@click.option(
    "--seed", default=42, show_default=True, help="Random split, random baseline, model seeds."
)
@click.option(
    "--strategies", default=STRATEGIES, show_default=True, help="Comma-separated strategies to ask."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("evaluation"),
    show_default=True,
    help="Directory for report.md, metrics.json and the charts.",
)
@click.option(
    "--events",
    "events_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Evaluate a file instead of the database's events (read with the import options).",
)
@click.option(
    "--items",
    "items_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Items file for --events (read with --preset).",
)
@click.option(
    "--similarity",
    default="",
    help="Also score behavior_based under each co-occurrence measure (cosine,jaccard,llr).",
)
@click.option(
    "--neighbor-lists",
    default="",
    help="Also score behavior_based live and from neighbour lists of these sizes (25,100).",
)
@click.option(
    "--content-queries",
    default=0,
    show_default=True,
    help="Random items whose content neighbours are judged by category (0: skip).",
)
@click.option(
    "--rating-models",
    default="",
    help="Explicit models scored on the held-out ratings (svd,svdpp,knnbaseline).",
)
@file_options
@click.option("--event-type", help="Type of every row when the file has no 'type' column.")
@click.option("--time-unit", type=click.Choice(["auto", "s", "ms", "iso"]), default=None)
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def evaluate(**kw: Any) -> None:
    """Split the events, train every model on the training part in a scratch
    database (the live tables and models are never touched), ask each strategy
    through the code behind /recommend, and score the held-out part next to
    random, most-popular and EASE baselines."""
    from app.db import url as db_url
    from app.evaluation import report, run, scratch
    from app.evaluation.source import SourceError

    try:
        protocol = protocol_of(kw)
        protocol.check()
        server = db_url.resolve(settings())
        source = read_source(server, kw)
        with terminate_as_interrupt():
            result = run.evaluate(server, source, protocol, progress=not kw["no_progress"])
    except (ValueError, SourceError, scratch.ScratchError) as error:
        raise Failure(str(error)) from None
    report.write(result, kw["out"], command(kw))
    click.echo(summary(result, kw["out"]))


def names(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def protocol_of(kw: dict[str, Any]) -> Protocol:
    from app.evaluation import run

    try:
        sizes = tuple(int(size) for size in names(kw["neighbor_lists"]))
    except ValueError:
        raise ValueError("--neighbor-lists takes whole numbers, e.g. 25,50,100") from None
    return run.Protocol(
        split=kw["split_name"],
        test_fraction=kw["test_fraction"],
        k=kw["k"],
        seed=kw["seed"],
        strategies=names(kw["strategies"]),
        similarity=names(kw["similarity"]),
        neighbor_lists=sizes,
        content_queries=kw["content_queries"],
        rating_models=names(kw["rating_models"]),
    )


def read_source(server: str, kw: dict[str, Any]) -> Any:
    from app.evaluation import source

    if kw["events_file"] is None:
        return source.from_database(server, "the database's events")
    file_kw = options(kw["sep"], kw["header"], kw["columns"], kw["encoding"])
    try:
        fmt = formats.event_format(
            kw["preset"], event_type=kw["event_type"], time_unit=kw["time_unit"], **file_kw
        )
        items = (kw["items_file"], formats.item_format(kw["preset"])) if kw["items_file"] else None
        return source.from_file(kw["events_file"], fmt, items)
    except (formats.FormatError, RowError) as error:
        raise Failure(f"{kw['events_file']}: {error}") from None


class terminate_as_interrupt:  # lower case: it reads as a statement in `with`
    """SIGTERM raises KeyboardInterrupt, so the scratch database is dropped as on Ctrl-C."""

    def __enter__(self) -> None:
        self.previous = signal.signal(signal.SIGTERM, self.interrupt)

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, self.previous)

    @staticmethod
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt


def command(kw: dict[str, Any]) -> str:
    """The command line that reproduces this run (non-default file options included)."""
    parts = [
        "recsys",
        "evaluate",
        "--split",
        kw["split_name"],
        "--test-fraction",
        str(kw["test_fraction"]),
    ]
    parts += ["--k", str(kw["k"]), "--seed", str(kw["seed"])]
    if kw["strategies"] != STRATEGIES:
        parts += ["--strategies", kw["strategies"]]
    for flag in ("similarity", "neighbor_lists", "rating_models"):
        if kw.get(flag):
            parts += [f"--{flag.replace('_', '-')}", kw[flag]]
    if kw.get("content_queries"):
        parts += ["--content-queries", str(kw["content_queries"])]
    named = {"events": "events_file", "items": "items_file", "preset": "preset", "sep": "sep"}
    named |= {"columns": "columns", "encoding": "encoding", "event-type": "event_type"}
    named |= {"time-unit": "time_unit"}
    for flag, key in named.items():
        if kw.get(key) is not None:
            parts += [f"--{flag}", str(kw[key])]
    if kw.get("header") is not None:
        parts.append("--header" if kw["header"] else "--no-header")
    return shlex.join(parts)


def summary(result: dict[str, Any], out: Path) -> str:
    served = result["strategies"]
    best = max(served, key=lambda n: served[n]["ndcg"])
    k = result["protocol"]["k"]
    line = f"best served: {best} NDCG@{k} {served[best]['ndcg']:.4f}"
    ease = result["baselines"].get("ease")
    if ease:
        line += f" (direct EASE {ease['ndcg']:.4f})"
    for model, figures in result["rating"].items():
        line += f"; {model} RMSE {figures['rmse']:.4f}"
    return f"{line}; {result['timings']['total']:.0f}s; report in {out / 'report.md'}"
