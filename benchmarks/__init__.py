"""Benchmarks of a served recsys, outside the serving package `app`.

`recsys bench` (the load generator: workload, seed, traffic, client, push,
phases, report, run) and one-off measurements run as `python -m benchmarks.NAME
--help` (see docs/bench.md and docs/benchmarks.md). They measure and print;
they never assert a timing. List quality is measured by `recsys evaluate`.

The benchmark-only dependencies are the `bench` extra; without them every
benchmark stops here with one line naming the install command.
"""

from __future__ import annotations

from importlib.util import find_spec

INSTALL = "pip install 'recsys[bench]'"
EXTRA = ("aiohttp",)  # the modules of pyproject.toml's `bench` extra


class MissingExtra(SystemExit):
    """A benchmark-only dependency is not installed.

    A SystemExit, so that `python -m benchmarks.NAME` prints this one line and
    exits 1 instead of a traceback; `recsys bench` turns it into its own failure."""

    def __init__(self, module: str) -> None:
        super().__init__(f"the benchmarks need {module}, which is not installed: {INSTALL}")


def missing() -> str | None:
    """The first module of the bench extra that cannot be imported, if any."""
    return next((name for name in EXTRA if find_spec(name) is None), None)


if (_absent := missing()) is not None:
    raise MissingExtra(_absent)
