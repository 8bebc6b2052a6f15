"""`recsys demo --no-serve`: a shop loaded, every model trained, visitors
simulated, an experiment with a report, and no case falls back to popular."""

import psycopg
import pytest

from app import recommenders

# A case answering popular items says why in the reason (sql/03_popular.sql,
# sql/06_content_hybrid.sql): none may, once the demo has trained.
FALLBACKS = ("not enough history", "new user", "no content")


def test_demo_trains_every_model_and_runs_an_experiment(run, db_url):
    result = run(
        "demo", "--users", 80, "--items", 40, "--events-per-user", 8,
        "--visitors", 40, "--per-strategy", 4, "--no-serve",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trained ease" in result.output and "hybrid" in result.output
    assert "experiment demo-home:" in result.output
    with psycopg.connect(db_url) as conn:
        roles = {r[0] for r in conn.execute("select role from recsys.model_runs where active")}
        assert roles == {"implicit", "content", "hybrid"}
        status = conn.execute(
            "select status from recsys.experiments where name = 'demo-home'"
        ).fetchone()
        assert status == ("running",)
        cases = {r[0] for r in conn.execute("select distinct case_name from recsys.exposures")}
        assert set(recommenders.NAMES) <= cases
        scenarios = [r[0] for r in conn.execute("select name from recsys.scenarios order by 1")]
        assert scenarios == ["home", "under-50"]
        cheap = conn.execute(
            "select count(*) filter (where (i.attributes ->> 'price')::numeric >= 50), count(*)"
            "  from recsys.recommend_scenario('under-50', 'user-3') r"
            "  join recsys.items i on i.external_id = r.product_id"
        ).fetchone()
        [available] = conn.execute(
            "select count(*) from recsys.items i where (i.attributes ->> 'price')::numeric < 50"
            " and not exists (select 1 from recsys.interactions x join recsys.users u"
            " on u.id = x.user_id where u.external_id = 'user-3' and x.item_id = i.id)"
        ).fetchone()
        assert cheap == (0, min(10, available)) and available > 0
        for case in (*recommenders.BLENDED, recommenders.HYBRID):
            reasons = [
                r[0]
                for r in conn.execute(
                    "select reason from recsys.recommend('user-3', 10, %s)", [case]
                )
            ]
            assert len(reasons) == 10
            if case != recommenders.FALLBACK:
                assert not any(f in r for r in reasons for f in FALLBACKS), (case, reasons)


@pytest.mark.parametrize("flag", ["--no-train"])
def test_demo_without_training_still_loads(run, flag):
    result = run("demo", "--users", 20, "--items", 10, "--visitors", 0, "--per-strategy", 0,
                 flag, "--no-serve")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trained" not in result.output
