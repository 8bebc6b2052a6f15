"""python -m benchmarks.experiment_sim end to end on a tiny MovieLens-shaped set:
both designs run through the API, every check is reported, and the databases go.
What the simulation concludes is measured, never asserted."""

import json

import psycopg

from benchmarks import experiment_sim
from tests.support import synthetic


def test_both_designs_run_and_report(server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATABASE_URL", server_url)
    synthetic.write(tmp_path, users=20)
    out = tmp_path / "sim.json"
    experiment_sim.main(
        ["--data", str(tmp_path), "--no-train", "--check-every", "5", "--json", str(out)]
    )
    report = json.loads(out.read_text())
    assert report["users"] == 20 and set(report["truth"]) == {"popular", "hybrid"}
    assert [d["mode"] for d in report["designs"]] == ["ab", "interleave"]
    for design in report["designs"]:
        assert [c["users"] for c in design["checks"]] == [5, 10, 15, 20]
        assert design["final"] == design["checks"][-1]
        assert all(c["p"] is None or 0 <= c["p"] <= 1 for c in design["checks"])
    with psycopg.connect(server_url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname like 'bench_experiment%'"
        ).fetchone()
    assert left == (0,)


def test_the_split_holds_out_each_users_latest_fifth(tmp_path):
    synthetic.write(tmp_path, users=3, per_user=10)
    parts = experiment_sim.split(tmp_path)
    assert len(parts.train) == 3 * 8 and {len(f) for f in parts.future.values()} == {2}
    rows = [line.split("\t") for line in (tmp_path / "u.data").read_text().splitlines()]
    ones = sorted((int(ts), item) for user, item, _, ts in rows if user == "1")
    assert parts.future["1"] == {item for _, item in ones[-2:]}
