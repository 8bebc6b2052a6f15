"""Content embeddings: trained into items.embedding, served by recsys.content_based."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

from app.training import encoders, runner
from app.training.content import ItemText, TfidfEncoder
from tests.support.catalogue import FOOD, SPACE, load

QUIET = runner.Options(progress=False)


def rows(conn: psycopg.Connection[Any], query: str, *args: Any) -> list[tuple[Any, ...]]:
    conn.rollback()
    found = conn.execute(query, args).fetchall()
    conn.rollback()
    return found


def test_training_embeds_every_item_with_text_and_indexes_them(conn, db_url):
    load(conn)
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb([{"product_id": "bare"}]),))
    conn.commit()
    [outcome] = runner.train(db_url, ["content"], QUIET)
    assert outcome.role == "content"
    assert outcome.data["items"] == 25 and outcome.data["embedded"] == 24
    dims = outcome.data["dims"]
    stored = rows(
        conn,
        "select external_id, vector_dims(embedding), vector_norm(embedding)"
        " from recsys.items order by 1",
    )
    assert ("bare", None, None) in stored  # no text, no embedding: said to be missing
    assert all(d == dims and n == pytest.approx(1, abs=1e-5) for _, d, n in stored if d)
    [index] = rows(
        conn, "select indexdef from pg_indexes where starts_with(indexname, 'items_embedding')"
    )
    assert f"vector({dims})" in index[0] and "hnsw" in index[0]


def test_nearest_items_to_a_product_share_its_topic(conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    recs = rows(conn, "select * from recsys.content_based(null, 5, product => 's1')")
    assert len(recs) == 5
    assert {p for p, _, _ in recs} <= set(SPACE) - {"s1"}
    assert all(r.startswith("similar to Galaxy") for _, _, r in recs)
    scores = [s for _, s, _ in recs]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("category", "attributes", "expected"),
    [
        ("food", None, set(FOOD)),
        ("sale", None, {"s0", "s3", "s6", "s9", "f0", "f3", "f6", "f9"}),
        (None, {"color": "red"}, {p for p in SPACE + FOOD if int(p[1:]) % 2}),
        ("food", {"color": "blue"}, {p for p in FOOD if int(p[1:]) % 2 == 0}),
    ],
)
def test_filters_run_inside_the_vector_query(conn, db_url, category, attributes, expected):
    # The nearest items of s1 are space items; filtering for food must still give a
    # full list of food items (iterative index scan), never a short post-filtered one.
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    conn.execute("set enable_seqscan = off")  # make the planner take the HNSW index
    args = (len(expected - {"s1"}), category, None if attributes is None else Jsonb(attributes))
    recs = conn.execute(
        "select * from recsys.content_based(null, %s, product => 's1', category => %s,"
        " attributes => %s)",
        args,
    ).fetchall()
    assert {p for p, _, _ in recs} == expected - {"s1"}
    assert all(r.startswith("similar to") for _, _, r in recs)
    # The one dispatch the service calls passes the filters through.
    dispatched = conn.execute(
        "select * from recsys.recommend(null, %s, 'content_based', product => 's1',"
        " category => %s, attributes => %s)",
        args,
    ).fetchall()
    assert dispatched == recs


def test_user_centroid_follows_recent_items_and_names_them(conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    conn.execute(
        "select * from recsys.ingest_events(array['me','me'], array['f1','s2'],"
        " array['view','view'], null, array[now() - interval '1 day', now()]::timestamptz[])"
    )
    conn.commit()
    recs = rows(conn, "select * from recsys.recommend('me', 4, 'content_based')")
    assert len(recs) == 4 and not {"f1", "s2"} & {p for p, _, _ in recs}
    assert recs[0][0] in SPACE  # the latest item weighs most
    assert recs[0][2].startswith("similar to Rocket")  # s2's title
    assert all(r.startswith("similar to") for _, _, r in recs)


def test_missing_embeddings_and_unknown_products_fall_back_to_popular(conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb([{"product_id": "bare"}]),))
    conn.commit()
    bare = rows(conn, "select * from recsys.content_based(null, 10, product => 'bare')")
    assert len(bare) == 10 and all(r.endswith("(no content for bare)") for _, _, r in bare)
    unknown = rows(conn, "select * from recsys.content_based('u0', 3, product => 'nope')")
    assert len(unknown) == 3 and all("unknown product" in r for _, _, r in unknown)
    with pytest.raises(psycopg.errors.NoDataFound):
        conn.execute("select * from recsys.content_based(null, 3, product => 'nope')")


def test_changed_text_drops_the_stale_embedding(conn, db_url):
    load(conn)
    runner.train(db_url, ["content"], QUIET)
    same = {"product_id": "s1", **{k: v for k, v in load_item("s1").items() if k != "product_id"}}
    conn.execute("select * from recsys.upsert_items(%s)", (Jsonb([same]),))
    conn.execute(
        "select * from recsys.upsert_items(%s)",
        (Jsonb([{**same, "product_id": "s2", "title": "New"}]),),
    )
    conn.commit()
    stored = dict(rows(conn, "select external_id, embedding is not null from recsys.items"))
    assert stored["s1"] is True and stored["s2"] is False


def load_item(product: str) -> dict[str, Any]:
    from tests.support.catalogue import item

    return item(product)


def test_stored_encoder_reproduces_training_vectors(conn, db_url):
    load(conn, with_events=False)
    runner.train(db_url, ["content"], QUIET)
    conn.rollback()
    stored = conn.execute(
        "select config, terms, idf, components from recsys.content_encoders"
    ).fetchone()
    assert stored is not None
    encoder = encoders.build(*stored)
    texts = conn.execute(
        "select id, title, description, categories, attributes, embedding::real[]"
        " from recsys.items order by id"
    ).fetchall()
    again = encoder.transform([encoders.item_text(r[:5]) for r in texts])
    assert np.allclose(again, np.array([r[5] for r in texts]), atol=1e-5)


def test_tfidf_encoder_gives_unit_rows_and_zero_for_no_known_term():
    items = [
        ItemText("Star rocket", categories=("scifi",)),
        ItemText("Bread soup", None, ("food",)),
    ]
    encoder = TfidfEncoder(dims=8).fit(items * 3)
    vectors = encoder.transform([*items, ItemText("zzz qqq")])
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1)
    assert not vectors[2].any()
    assert encoders.vector_text(vectors[2]) is None


def test_semantic_encoder_when_the_extra_is_installed(conn, db_url):
    from app.training import semantic

    missing = semantic.available()
    if missing:
        pytest.skip(f"semantic extra not installed: {missing}")
    load(conn, with_events=False)
    [outcome] = runner.train(db_url, ["semantic"], QUIET)
    assert outcome.data["dims"] == 384
    recs = rows(conn, "select * from recsys.content_based(null, 5, product => 's1')")
    assert {p for p, _, _ in recs} <= set(SPACE)


def test_imported_items_are_embedded_once_a_content_run_is_active(conn, db_url, tmp_path):
    from app.importing.formats import item_format
    from app.importing.items import import_items

    load(conn, with_events=False)
    runner.train(db_url, ["content"], QUIET)
    path = tmp_path / "items.csv"
    path.write_text("id,title,categories\nnew,Rocket galaxy 2,scifi\nodd,,\n")
    assert import_items(db_url, path, item_format("movielens-csv"), progress=False) == 2
    stored = dict(rows(conn, "select external_id, embedding is not null from recsys.items"))
    assert stored["new"] is True and stored["odd"] is False
    near = rows(conn, "select * from recsys.content_based(null, 3, product => 'new')")
    assert {p for p, _, _ in near} <= set(SPACE)
