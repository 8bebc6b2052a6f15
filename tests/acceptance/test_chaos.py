"""The chaos soak (benchmarks/chaos): keyed single events and batches retried
until acknowledged, recommendation reads and socket subscribers against
`recsys serve --workers 2`, while PostgreSQL crashes (immediate stop) and
restarts, workers are SIGKILLed and the listeners' backends are terminated, each
on its own random clock. `pytest tests/acceptance/test_chaos.py --chaos-minutes 10`
soaks longer; `python -m benchmarks.chaos --minutes 10` is the same run as a
benchmark (figures in docs/reliability.md)."""

from __future__ import annotations

import json

import pytest

from benchmarks.chaos import soak


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> dict:
    result = soak.run(soak.Plan(minutes=request.config.getoption("--chaos-minutes")))
    print(json.dumps(result, indent=2))
    return result


def test_every_fault_was_injected_and_the_load_drained(report):
    assert set(report["faults"]) == {"postgres", "worker", "listener"}, report["faults"]
    assert report["clients_stuck_after_drain"] == 0


def test_every_acknowledged_event_is_stored_exactly_once(report):
    events = report["events"]
    assert events["acknowledged"] > 0 and events["retried_deliveries"] > 0
    assert events["lost"] == 0
    assert events["duplicated"] == 0  # acknowledged or not: the unique key holds
    assert events["stored_never_sent"] == 0
    assert events["stored"] == events["acknowledged"] + events["unacknowledged_stored"]
    assert events["redelivered_not_duplicate"] == 0
    assert events["batch_miscounts"] == 0


def test_every_count_equals_the_recompute(report):
    assert report["count_differences"] == {}


def test_sockets_are_back_and_receive_pushes(report):
    sockets = report["sockets"]
    assert sockets["final_push_received"] == sockets["subscribers"]


def test_every_socket_gets_a_list_after_the_last_fault_without_a_new_event(report):
    # The last fault that can have cost it a notification: PostgreSQL's restart,
    # the listeners' termination, or its own worker's kill (benchmarks/chaos/soak.py).
    sockets = report["sockets"]
    assert sockets["pushed_after_last_fault"] == sockets["subscribers"], report["timeline"]
    assert sockets["connections"] > sockets["subscribers"]  # the kills closed some


def test_no_http_error_but_503_while_the_database_was_down(report):
    http = report["http"]
    assert "500" not in http["by_status"]
    assert http["errors_outside_outages"] == 0, http["error_samples"]
