"""The chaos soak's own logic (benchmarks/chaos): which worker a kill takes, and
since when a socket must have received a list."""

import subprocess
import sys

from benchmarks.chaos.record import Fault, Record
from benchmarks.chaos.service import Service
from benchmarks.chaos.soak import stale_since
from benchmarks.chaos.sockets import Subscriber

# Two spawned workers, as `recsys serve --workers 2` has, the second started later.
SUPERVISOR = """
import multiprocessing, sys, time
context = multiprocessing.get_context("spawn")
first = context.Process(target=time.sleep, args=(60,))
first.start()
time.sleep(0.5)
second = context.Process(target=time.sleep, args=(60,))
second.start()
print(first.pid, second.pid, flush=True)
time.sleep(60)
"""


def test_a_kill_takes_the_worker_that_has_run_longest():
    # Found by the chaos soak: a random pick among the workers (listed newest
    # first) took the replacement kill after kill with the soak's seed, so the
    # worker the sockets were on was never killed.
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, text=True
    )
    try:
        assert supervisor.stdout is not None
        first, second = map(int, supervisor.stdout.readline().split())
        service = Service.__new__(Service)
        service.process = supervisor
        assert sorted(service.workers()) == sorted([first, second])
        assert service.oldest_worker() == first
    finally:
        supervisor.kill()
        supervisor.wait()


def test_a_socket_must_get_a_list_after_the_last_fault_that_can_have_cost_it_one():
    record = Record()
    socket = Subscriber("u", "ws", opened=[1.0])
    assert stale_since(record, socket, 0.0) == 1.0  # its registration
    record.faults.append(Fault("postgres", 10.0, 14.0, restarting=13.0))
    assert stale_since(record, socket, 0.0) == 13.0  # down until its start began
    record.faults.append(Fault("listener", 20.0, 20.5))
    assert stale_since(record, socket, 0.0) == 20.5
    # Another worker's kill costs this socket nothing...
    record.faults.append(Fault("worker", 30.0, 31.0))
    assert stale_since(record, socket, 0.0) == 20.5
    # ...its own worker's kill makes it connect and register again.
    socket.opened.append(32.0)
    assert stale_since(record, socket, 0.0) == 32.0
