"""Offline evaluation (`recsys evaluate`): splits, metrics, baselines, the run and
its report; also the offline-quality measurements (similarity measures,
neighbour-list sizes, content neighbours, rating models)."""
