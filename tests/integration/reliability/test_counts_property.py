"""Property: after any interleaving of single inserts, batches, duplicate deliveries,
erasures and prunes, every trigger-maintained aggregate equals its recompute from
recsys.events (tests/support/recompute.py), and the events table matches a model.

Each hypothesis example runs inside one transaction of the test's database and is
rolled back, so examples start from an empty schema without recreating it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.support.events import at
from tests.support.recompute import assert_exact

USERS = [f"u{i}" for i in range(3)]
ITEMS = [f"p{i}" for i in range(5)]
KEYS = [f"k{i}" for i in range(12)]
TYPES = ["view", "add_to_cart", "purchase", "rating"]

Event = tuple[str, str, str, float | None, datetime, str | None]


@st.composite
def events(draw: Any) -> Event:
    kind = draw(st.sampled_from(TYPES))
    # 0 is a legal rating with weight 0: it adds counts but no popularity.
    value = draw(st.sampled_from([0.0, 0.5, 1.0, 3.5, 5.0])) if kind == "rating" else None
    return (
        draw(st.sampled_from(USERS)),
        draw(st.sampled_from(ITEMS)),
        kind,
        value,
        at(draw(st.integers(0, 48))),
        draw(st.none() | st.sampled_from(KEYS)),
    )


def ingest(conn: psycopg.Connection[Any], batch: list[Event]) -> tuple[int, int]:
    columns = [list(c) for c in zip(*batch, strict=True)]
    row = conn.execute(
        "select * from recsys.ingest_events(%s::text[], %s::text[], %s::text[],"
        " %s::real[], %s::timestamptz[], %s::text[])",
        columns,
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class Aggregates(RuleBasedStateMachine):
    conn: psycopg.Connection[Any]

    examples = 0
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        Aggregates.examples += 1
        # The model: every stored event as (user, ts, key).
        self.stored: list[tuple[str, datetime, str | None]] = []

    @initialize(window=st.sampled_from([0, 1, 2, 3]))
    def pair_window(self, window: int) -> None:
        self.conn.execute("update recsys.settings set pair_window = %s", (window,))

    def _expect(self, batch: list[Event]) -> int:
        """Adds the batch to the model; returns how many are new."""
        keys = {k for _, _, k in self.stored if k is not None}
        new = 0
        for user, _, _, _, ts, key in batch:
            if key is None or key not in keys:
                self.stored.append((user, ts, key))
                keys.add(key or "")
                new += 1
        return new

    @rule(event=events())
    def single(self, event: Event) -> None:
        new = self._expect([event])
        assert ingest(self.conn, [event]) == (new, 1 - new)

    @rule(batch=st.lists(events(), min_size=1, max_size=12))
    def batch(self, batch: list[Event]) -> None:
        new = self._expect(batch)
        assert ingest(self.conn, batch) == (new, len(batch) - new)

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """A retried delivery of stored keyed events is stored once."""
        keys = sorted({k for _, _, k in self.stored if k is not None})
        if not keys:
            return
        chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4))
        batch = [("u0", "p0", "view", None, at(0), k) for k in chosen]
        assert ingest(self.conn, batch) == (0, len(batch))

    @rule(user=st.sampled_from([*USERS, "nobody"]))
    def erase(self, user: str) -> None:
        row = self.conn.execute("select * from recsys.forget_user(%s)", (user,)).fetchone()
        mine = [e for e in self.stored if e[0] == user]
        known = self.conn.execute(
            "select 1 from recsys.users where external_id = %s", (user,)
        ).fetchone()
        assert known is None
        if row is None:
            assert not mine
            return
        assert row[0] == len(mine)
        self.stored = [e for e in self.stored if e[0] != user]

    @rule(cutoff=st.integers(0, 50), per_call=st.integers(1, 3))
    def prune(self, cutoff: int, per_call: int) -> None:
        pruned = 0
        while True:
            users, n = self.conn.execute(
                "select * from recsys.prune_events(%s, %s)", (at(cutoff), per_call)
            ).fetchone()  # type: ignore[misc]
            assert users <= per_call
            pruned += n
            if users == 0:
                break
        old = [e for e in self.stored if e[1] < at(cutoff)]
        assert pruned == len(old)
        self.stored = [e for e in self.stored if e[1] >= at(cutoff)]

    @invariant()
    def aggregates_equal_recompute(self) -> None:
        Aggregates.steps += 1
        assert_exact(self.conn)

    @invariant()
    def events_match_the_model(self) -> None:
        rows = self.conn.execute(
            "select u.external_id, e.ts, e.event_key from recsys.events e"
            " join recsys.users u on u.id = e.user_id"
        ).fetchall()
        assert sorted(rows, key=repr) == sorted(self.stored, key=repr)


def test_aggregates_stay_exact_under_any_interleaving(conn):
    Aggregates.conn = conn
    Aggregates.examples = Aggregates.steps = 0

    class RolledBack(Aggregates):
        def teardown(self) -> None:
            conn.rollback()

    run_state_machine_as_test(
        RolledBack,
        settings=settings(
            max_examples=80,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # Reported by `pytest -s`: how much the property was exercised.
    print(f"hypothesis: {Aggregates.examples} examples, {Aggregates.steps} checked states")
    assert Aggregates.examples >= 80
