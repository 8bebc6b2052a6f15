"""The benchmarks live outside the serving package, and their dependencies in
the `bench` extra: without it, one line names the install command."""

import subprocess
import sys

from click.testing import CliRunner

from app.cli import main

INSTALL = "pip install 'recsys[bench]'"
# None in sys.modules makes `import aiohttp` fail as if it were not installed.
WITHOUT_AIOHTTP = "import runpy, sys; sys.modules['aiohttp'] = None; sys.argv[0] = 'x'; "


def forget_benchmarks(monkeypatch):
    """Make the next `import benchmarks...` run the package's check again."""
    for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
        monkeypatch.delitem(sys.modules, name)


def test_recsys_bench_without_the_extra_names_the_install_command(monkeypatch):
    forget_benchmarks(monkeypatch)
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    result = CliRunner().invoke(main, ["bench", "--users", "10"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: the benchmarks need aiohttp, which is not installed: {INSTALL}"
    ]


def test_a_benchmark_script_without_the_extra_exits_with_one_line():
    code = WITHOUT_AIOHTTP + "runpy.run_module('benchmarks.ingest', run_name='__main__')"
    done = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"the benchmarks need aiohttp, which is not installed: {INSTALL}"
    ]


def test_with_the_extra_a_benchmark_script_starts():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--repeat" in done.stdout


def test_the_serving_package_does_not_import_the_benchmarks():
    code = (
        "import sys; import app, app.cli, app.server, app.api; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'benchmarks'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_train_time_sums_a_grids_points_into_one_stage() -> None:
    from benchmarks.train_time import Stages

    stages = Stages()
    for message in (
        "implicit: validating rp3beta {'alpha': 0.5}",
        "implicit: validating rp3beta {'alpha': 1.0}",
        "rp3beta: fitting 80,768 rows",
        "rp3beta: writing run 1",
    ):
        stages.step(message)
    seconds = stages.seconds()
    assert list(seconds) == [
        "implicit: validating rp3beta",
        "rp3beta: fitting",
        "rp3beta: writing run 1",
    ]
    assert all(v["wall"] >= 0 and v["cpu"] >= 0 for v in seconds.values())
