"""The synthetic workload: deterministic by seed, skewed like real traffic."""

from datetime import UTC, datetime

import numpy as np

from benchmarks import workload
from benchmarks.seed import staged_text

END = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = workload.Spec(users=5_000, items=2_000, events=50_000, seed=7)


def arrays(w):
    return [w.event_user, w.event_item, w.event_type, w.event_offset, w.item_category]


def test_same_seed_same_workload():
    a, b = workload.generate(SPEC, END), workload.generate(SPEC, END)
    for x, y in zip(arrays(a), arrays(b), strict=True):
        assert np.array_equal(x, y)
    assert workload.item_rows(a) == workload.item_rows(b)
    assert staged_text(a, 0, 500) == staged_text(b, 0, 500)


def test_another_seed_another_workload():
    other = workload.Spec(users=5_000, items=2_000, events=50_000, seed=8)
    a, b = workload.generate(SPEC, END), workload.generate(other, END)
    assert not np.array_equal(a.event_item, b.event_item)


def test_top_one_percent_of_items_get_a_large_share():
    w = workload.generate(SPEC, END)
    counts = np.sort(np.bincount(w.event_item, minlength=SPEC.items))[::-1]
    top = counts[: SPEC.items // 100].sum() / counts.sum()
    # Uniform popularity would give them 1%; Zipf(1) over 2 000 items about 44%.
    assert top > 0.35


def test_user_activity_is_skewed_and_every_user_exists():
    w = workload.generate(SPEC, END)
    per_user = np.bincount(w.event_user, minlength=SPEC.users)
    assert per_user.min() >= 1
    assert per_user.max() > 10 * np.median(per_user)
    assert len(w.active_users()) == SPEC.users


def test_events_are_in_time_order_over_ninety_days_with_every_type():
    w = workload.generate(SPEC, END)
    assert np.all(np.diff(w.event_offset) <= 0)  # offsets before END shrink: oldest first
    assert w.event_offset.max() <= workload.DAYS * 86_400
    shares = np.bincount(w.event_type, minlength=3) / SPEC.events
    assert shares[0] > shares[1] > shares[2] > 0
    first, last = (
        workload.timestamps(w, 0, 1)[0],
        workload.timestamps(w, SPEC.events - 1, SPEC.events)[0],
    )
    assert first < last <= END.isoformat()


def test_items_carry_text_for_the_content_model():
    rows = workload.item_rows(workload.generate(SPEC, END))
    assert len(rows) == SPEC.items
    assert all(r["title"] and r["description"] and r["categories"] for r in rows)
    assert len({r["categories"][0] for r in rows}) > 1
