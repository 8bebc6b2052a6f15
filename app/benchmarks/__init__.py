"""Benchmark scripts: `python -m app.benchmarks.NAME --help` (see docs/benchmarks.md).

They measure and print; they never assert timings.
"""
