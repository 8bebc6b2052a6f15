"""The chaos soak: mixed load on `recsys serve --workers 2` while PostgreSQL
crashes, workers are SIGKILLed and the listeners' backends are terminated; then
every acknowledged event is checked stored exactly once and every count against
a recompute. `python -m benchmarks.chaos --minutes 10`; the acceptance test
tests/acceptance/test_chaos.py runs the same code for a minute or so."""
