"""Talking to PostgreSQL: the pool, the embedded server, migrations, small typed queries.

No loops or schedulers live here (those are app/jobs/), and nothing here imports
training, jobs, api or recommenders (tests/unit/test_layers.py).
"""
