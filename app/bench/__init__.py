"""`recsys bench`: a synthetic workload, a closed-loop load generator and its report.

workload (generate) -> seed (bulk load, train) -> phases (drive the served app
with aiohttp) -> report (table, JSON, PNG). See docs/bench.md.
"""
