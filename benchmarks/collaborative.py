"""Offline models on MovieLens 100K through the project's own path (file ->
import -> tables -> `recsys train` -> tables -> recsys.predict / recsys.collaborative).

    python -m benchmarks.collaborative [--folds 5] [--models svd,svdpp]
        [--json PATH]

Rating accuracy: k-fold RMSE/MAE of recsys.predict next to scikit-surprise's
published table. Top-N: each user's latest 20% of ratings held out; NDCG,
precision and recall at 10 of case=collaborative next to popular and to EASE
computed directly with numpy. Training wall time and peak memory per model
(each in its own process), and the time to serve one list.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psycopg

from app.evaluation import metrics, split
from app.importing.events import import_events
from app.importing.formats import event_format
from app.training import data, runner
from app.training.neighbors import ease_weights
from benchmarks import harness

# scikit-surprise's README, ml-100k, 5-fold (RMSE, MAE).
PUBLISHED = {"svd": (0.934, 0.737), "svdpp": (0.919, 0.721), "knnbaseline": (0.931, 0.733)}

PREDICT_ALL = """
select p.rating from unnest(%(users)s::text[], %(items)s::text[]) with ordinality as x(u, i, n)
 cross join lateral recsys.predict(x.u, x.i) p order by x.n
"""

# In its own process: wall time of `recsys train --model X` (with validation),
# the process's peak RSS, and, in a second run under tracemalloc (numpy and
# surprise allocations included), the peak of memory allocated by training
# itself, which the RSS high-water mark of imports and data reading can hide.
MEASURE_TRAINING = """
import json, resource, sys, time, tracemalloc
from app.training import runner
url, model = sys.argv[1], sys.argv[2]
runner.read_frame(url, model)
t = time.perf_counter()
runner.train(url, [model], runner.Options(progress=False))
seconds = time.perf_counter() - t
tracemalloc.start()
runner.train(url, [model], runner.Options(progress=False))
_, traced = tracemalloc.get_traced_memory()
print(json.dumps({"seconds": seconds, "traced_peak_mib": traced / 2**20,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MF_TOP_N = """
select product_id
  from recsys.factor_scores((select id from recsys.users where external_id = %(user_id)s),
                            recsys.active_run('explicit'), 10, '{}', null, false)
"""
COLLABORATIVE = "select product_id from recsys.collaborative(%(user_id)s, 10)"


def ratings_file(data_dir: Path) -> pd.DataFrame:
    path = harness.ml100k_file(data_dir, "u.data")
    return pd.read_csv(path, sep="\t", names=["user_id", "item_id", "value", "ts"])


def load(server: str, name: str, frame: pd.DataFrame) -> str:
    """A fresh database holding `frame`, imported with `recsys import`'s code."""
    url = harness.fresh_database(server, name)
    with tempfile.NamedTemporaryFile("w", suffix=".data") as tmp:
        frame[["user_id", "item_id", "value", "ts"]].to_csv(
            tmp, sep="\t", header=False, index=False
        )
        tmp.flush()
        import_events(url, Path(tmp.name), event_format("movielens-100k"), progress=False)
    return url


def predict(url: str, test: pd.DataFrame) -> np.ndarray:
    params = {
        "users": test["user_id"].astype(str).tolist(),
        "items": test["item_id"].astype(str).tolist(),
    }
    with psycopg.connect(url) as conn:
        return np.array([r[0] for r in conn.execute(PREDICT_ALL, params).fetchall()])


def rating_accuracy(
    server: str, frame: pd.DataFrame, folds: int, models: list[str]
) -> dict[str, Any]:
    scores: dict[str, list[tuple[float, float]]] = {m: [] for m in models}
    for n, (train, test) in enumerate(split.kfold(frame, folds, seed=0)):
        url = load(server, "bench_collab_fold", train)
        for model in models:
            runner.train(url, [model], runner.Options(progress=False, validate=False))
            predicted, truth = predict(url, test), test["value"].to_numpy(dtype=float)
            scores[model].append((metrics.rmse(truth, predicted), metrics.mae(truth, predicted)))
            print(f"  fold {n + 1}/{folds} {model}: rmse {scores[model][-1][0]:.4f}", flush=True)
        harness.drop_database(server, "bench_collab_fold")
    return {
        m: {
            "rmse": float(np.mean([s[0] for s in v])),
            "mae": float(np.mean([s[1] for s in v])),
            "folds": v,
        }
        for m, v in scores.items()
    }


def knn_baseline(frame: pd.DataFrame, folds: int) -> dict[str, float]:
    """Evaluation-only (not table-served): surprise's KNNBaseline on the same folds."""
    from surprise import Dataset, KNNBaseline, Reader, accuracy

    out = []
    reader = Reader(rating_scale=(1, 5))
    for train, test in split.kfold(frame, folds, seed=0):
        algo = KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False
        )
        algo.fit(
            Dataset.load_from_df(
                train[["user_id", "item_id", "value"]], reader
            ).build_full_trainset()
        )
        preds = algo.test(
            list(test[["user_id", "item_id", "value"]].itertuples(index=False, name=None))
        )
        out.append((accuracy.rmse(preds, verbose=False), accuracy.mae(preds, verbose=False)))
    return {"rmse": float(np.mean([o[0] for o in out])), "mae": float(np.mean([o[1] for o in out]))}


def sql_lists(
    url: str, users: list[str], query: str
) -> tuple[dict[object, list[object]], list[float]]:
    lists: dict[object, list[object]] = {}
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        for user in users:
            started = time.perf_counter()
            rows = conn.execute(query, {"user_id": user}).fetchall()
            times.append((time.perf_counter() - started) * 1000)
            lists[int(user)] = [int(r[0]) for r in rows]
    return lists, times


def direct_ease(train: pd.DataFrame, lam: float, weighting: str) -> dict[object, list[object]]:
    """EASE with the full B (no pruning), scored with numpy."""
    index = data.Index.of(train)
    x = data.matrix(train, index, weighting)
    scores = np.asarray(x @ ease_weights(x, lam))
    scores[x.toarray() > 0] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :10]
    return {int(u): list(index.item_ids[top[i]]) for i, u in enumerate(index.user_ids)}


def http_latency(url: str, users: list[str]) -> dict[str, float]:
    """GET /recommend?case=collaborative for each user in turn, against `recsys serve`."""
    times = []
    with harness.served_app(url) as base, httpx.Client(base_url=base) as client:
        for user in users:
            started = time.perf_counter()
            response = client.get("/recommend", params={"case": "collaborative", "user_id": user})
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return harness.summary(times)


def top_n(server: str, frame: pd.DataFrame) -> dict[str, Any]:
    train, test = split.temporal(frame, 0.2)
    relevant = metrics.relevant_sets(test)
    url = load(server, "bench_collab_topn", train)
    outcomes = runner.train(url, ["svd", "ease"], runner.Options(progress=False))
    users = [str(u) for u in sorted(int(str(u)) for u in relevant)]
    collab, latency = sql_lists(url, users, COLLABORATIVE)
    popular, _ = sql_lists(
        url, users, "select product_id from recsys.popular(10, for_user => %(user_id)s)"
    )
    factors, factor_latency = sql_lists(url, users, MF_TOP_N)
    http = http_latency(url, users)
    ease = runner.default_params("ease", runner.Options())
    wide = runner.Options(progress=False, validate=False, params={"ease": {"n_neighbors": 200}})
    runner.train(url, ["ease"], wide)
    collab_200, latency_200 = sql_lists(url, users, COLLABORATIVE)
    rows = {
        "popular (recsys.popular)": metrics.ranking(popular, relevant, 10),
        "MF top-N, svd via pgvector (recsys.factor_scores)": metrics.ranking(factors, relevant, 10),
        "collaborative (recsys.collaborative), 100 neighbours": metrics.ranking(
            collab, relevant, 10
        ),
        "collaborative, 200 neighbours": metrics.ranking(collab_200, relevant, 10),
        "EASE direct (numpy, full B, same lambda/weighting)": metrics.ranking(
            direct_ease(train, ease["lam"], ease["weighting"]), relevant, 10
        ),
        "EASE direct, binary X, lambda 250 (best binary of a 50-1000 sweep)": metrics.ranking(
            direct_ease(train, 250.0, "binary"), relevant, 10
        ),
    }
    harness.drop_database(server, "bench_collab_topn")
    return {
        "rows": rows,
        "latency_ms": {
            "recsys.collaborative, 100 neighbours (SQL)": harness.summary(latency),
            "recsys.collaborative, 200 neighbours (SQL)": harness.summary(latency_200),
            "recsys.factor_scores (SQL, HNSW)": harness.summary(factor_latency),
            "GET /recommend?case=collaborative (HTTP)": http,
        },
        "validation": {o.kind: o.metrics for o in outcomes},
    }


def training_cost(server: str, frame: pd.DataFrame, models: list[str]) -> dict[str, Any]:
    url = load(server, "bench_collab_train", frame)
    out = {}
    for model in models:
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE_TRAINING, url, model],
            capture_output=True,
            text=True,
            check=True,
        )
        out[model] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  train {model}: {out[model]}", flush=True)
    harness.drop_database(server, "bench_collab_train")
    return out


def report(result: dict[str, Any]) -> None:
    if "accuracy" in result:
        report_accuracy(result["accuracy"], result["folds"])
    if "top_n" in result:
        report_top_n(result["top_n"])
    if "training" in result:
        harness.print_table(
            "training on all of ml-100k (recsys train, with validation; own process)",
            ["model", "wall s", "training peak MiB (tracemalloc)", "process peak RSS MiB"],
            [
                [m, v["seconds"], v["traced_peak_mib"], v["peak_rss_mib"]]
                for m, v in result["training"].items()
            ],
        )


def report_accuracy(accuracy: dict[str, Any], folds: int) -> None:
    rows = [
        [
            m,
            v["rmse"],
            v["mae"],
            *PUBLISHED.get(m, ("-", "-")),
            "yes" if m != "knnbaseline" else "no (surprise)",
        ]
        for m, v in accuracy.items()
    ]
    harness.print_table(
        f"ml-100k rating accuracy, {folds}-fold (goal RMSE <= 0.92)",
        ["model", "RMSE", "MAE", "published RMSE", "published MAE", "via recsys.predict"],
        rows,
    )


def report_top_n(top: dict[str, Any]) -> None:
    rows = top["rows"]
    ease = rows["EASE direct (numpy, full B, same lambda/weighting)"]["ndcg_at_10"]
    harness.print_ranking(
        "ml-100k top-10, latest 20% of each user held out (goal >= 0.95 x direct EASE)",
        rows,
        ease,
    )
    harness.print_latencies(
        "serving one list, k=10, every test user in turn (ms)", "path", top["latency_ms"]
    )


def main(argv: list[str] | None = None) -> None:
    p = harness.parser(__doc__.splitlines()[0] if __doc__ else "collaborative")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--models", default="svd,svdpp", help="explicit models for the k-fold")
    p.add_argument("--no-knn", action="store_true", help="skip surprise's KNNBaseline reference")
    p.add_argument("--parts", default="topn,training,accuracy", help="what to measure")
    args = p.parse_args(argv)
    frame = ratings_file(args.data)
    models = args.models.split(",")
    with harness.postgres() as server:
        settings = harness.banner(server)
        result: dict[str, Any] = {
            "benchmark": "collaborative",
            "machine": harness.machine(),
            "postgres": settings,
            "folds": args.folds,
        }
        parts = args.parts.split(",")
        if "topn" in parts:
            result["top_n"] = top_n(server, frame)
        if "training" in parts:
            result["training"] = training_cost(server, frame, [*models, "ease"])
        if "accuracy" in parts:
            result["accuracy"] = rating_accuracy(server, frame, args.folds, models)
            if not args.no_knn:
                result["accuracy"]["knnbaseline"] = knn_baseline(frame, args.folds)
    report(result)
    harness.write_json(args.json, result)


if __name__ == "__main__":
    main()
