"""`recsys train [--model ...]`, `recsys models`, `recsys models activate RUN`."""

from __future__ import annotations

from typing import Any

import click
import psycopg

from app.cli.common import Failure, database

CHOICES = [
    "all",
    "svd",
    "svdpp",
    "implicit",
    "ease",
    "rp3beta",
    "als",
    "bpr",
    "item_knn",
    "content",
    "semantic",
    "hybrid",
]


@click.command()
@click.option(
    "--model",
    "models",
    type=click.Choice(CHOICES),
    multiple=True,
    default=["all"],
    show_default=True,
    help="Model to train (repeatable). all: svd where ratings exist, implicit where events"
    " exist, content where items have text, then hybrid (blend weights), saying which it"
    " skipped and why. implicit: ease, rp3beta, als or item_knn, whichever ranks best on a"
    " validation split (ease only up to 4 000 items); each implicit model's tunables are"
    " chosen on that split too. semantic: sentence-transformers embeddings (the [semantic]"
    " extra).",
)
@click.option("--no-validate", is_flag=True, help="Skip the validation split (faster).")
@click.option("--keep", default=3, show_default=True, help="Inactive runs kept per role.")
@click.option("--seed", default=0, show_default=True, help="random_state of the models.")
def train(models: tuple[str, ...], no_validate: bool, keep: int, seed: int) -> None:
    """Fit models on the tables, write each as a run, and activate it."""
    from app.training import runner

    options = runner.Options(validate=not no_validate, keep=keep, random_state=seed)
    skipped: dict[str, str] = {}
    try:
        outcomes = runner.train(database(), models, options, skipped)
    except runner.NoData as error:
        raise Failure(str(error)) from None
    except Exception as error:
        raise Failure(f"training failed, the previous run stays active: {error}") from error
    for kind, why in skipped.items():
        click.echo(f"skipped {kind}: {why}")
    for o in outcomes:
        click.echo(
            f"run {o.run_id} ({o.kind}, {o.role}) active after {o.duration_s:.1f}s: "
            f"{summary(o.metrics)}"
        )
        chosen = choice(o.metrics, o.role)
        if chosen:
            click.echo(f"  {chosen}")


def summary(metrics: dict[str, Any]) -> str:
    keys = ("rmse", "mae", "ndcg_at_10", "precision_at_10", "recall_at_10")
    shown = [f"{k}={metrics[k]:.4f}" for k in keys if k in metrics]
    return ", ".join(shown) or "not validated"


@click.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List training runs (newest first); `activate RUN` rolls back or forward."""
    if ctx.invoked_subcommand is not None:
        return
    from app.training import store

    with psycopg.connect(database()) as conn:
        runs = store.list_runs(conn)
    if not runs:
        click.echo("no model runs yet; train with `recsys train`")
    for run in runs:
        click.echo(describe(run))
        chosen = choice(run["metrics"], run["role"], run["params"]) if run["active"] else ""
        if chosen:
            click.echo(f"        {chosen}")
    order = serving_order([r for r in runs if r["active"]])
    if order:
        click.echo(order)


def serving_order(active: list[dict[str, Any]]) -> str | None:
    """Which model recsys.collaborative tries first, and why (the rule in the SQL)."""
    by_role = {r["role"]: r for r in active if r["role"] in ("explicit", "implicit")}
    if len(by_role) < 2:
        return None
    ndcg = {role: r["metrics"].get("ndcg_at_10") for role, r in by_role.items()}
    validated = ndcg["explicit"] is not None and ndcg["implicit"] is not None
    first = "explicit" if validated and ndcg["explicit"] > ndcg["implicit"] else "implicit"
    second = "implicit" if first == "explicit" else "explicit"
    return (
        f"case=collaborative tries {by_role[first]['kind']} first: validation NDCG@10 "
        f"{fmt(ndcg[first])} vs {by_role[second]['kind']} {fmt(ndcg[second])}"
    )


def choice(metrics: dict[str, Any], role: str, params: dict[str, Any] | None = None) -> str:
    """What validation chose: the implicit grid's winner, the hybrid's weights."""
    if role == "implicit" and metrics.get("chosen_by") == "validation":
        grid = metrics.get("grid", [])
        best = max(grid, key=lambda row: row["ndcg_at_10"]) if grid else {}
        tried = sorted({row["model"] for row in grid})
        shown = ", ".join(f"{k}={v}" for k, v in sorted(best.get("params", {}).items()))
        return (
            f"chosen on validation ({metrics.get('split')}): {best.get('model')} {shown};"
            f" {len(grid)} configurations of {', '.join(tried)} tried"
        )
    if role == "hybrid" and params:
        weights = params.get("weights", {})
        parts = [
            f"{bucket}: " + " ".join(f"{s}={w:g}" for s, w in blend.items() if w)
            for bucket, blend in weights.items()
        ]
        extra = (
            f"; popularity half-life {params['half_life_days']:g} days"
            if "half_life_days" in params
            else ""
        )
        return "blend weights chosen on validation: " + "; ".join(parts) + extra
    return ""


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def describe(run: dict[str, Any]) -> str:
    mark = "*" if run["active"] else " "
    when = run["trained_at"] or run["started_at"]
    took = f"{run['duration_s']:.1f}s" if run["duration_s"] is not None else "-"
    detail = run["error"] if run["status"] == "failed" else summary(run["metrics"])
    return (
        f"{mark} {run['id']:>4}  {run['kind']:<8} {run['role']:<8} {run['status']:<8} "
        f"{when:%Y-%m-%d %H:%M:%S}  {took:>7}  {detail}"
    )


@models.command()
@click.argument("run", type=int)
def activate(run: int) -> None:
    """Make RUN (a ready run) the active model of its role."""
    from app.training import store

    with psycopg.connect(database()) as conn:
        try:
            run_id, kind, role = store.activate(conn, run)
        except (psycopg.errors.NoDataFound, psycopg.errors.ObjectNotInPrerequisiteState) as error:
            raise Failure(error.diag.message_primary or str(error)) from None
        conn.commit()
    click.echo(f"run {run_id} ({kind}) is the active {role} model")
