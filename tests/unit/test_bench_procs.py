"""Reading a process tree's memory and CPU from /proc."""

import os
import subprocess
import sys

from benchmarks import procs


def test_descendants_rss_and_cpu_of_a_child():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tree = procs.descendants(os.getpid())
        assert tree[0] == os.getpid()
        assert child.pid in tree
        assert procs.rss_mib([child.pid]) > 1
        assert procs.rss_mib(tree) > procs.rss_mib([child.pid])
        assert procs.cpu_seconds([os.getpid()]) > 0
    finally:
        child.kill()
        child.wait()


def test_a_gone_process_counts_zero():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert procs.rss_mib([child.pid]) == 0
    assert procs.cpu_seconds([child.pid]) == 0
