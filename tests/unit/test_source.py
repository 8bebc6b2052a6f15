"""Events to (user, item) pairs: the trigger's score, first time, latest rating."""

import numpy as np
import pandas as pd
import pytest

from app.evaluation import source

TYPES = [
    {"id": 1, "name": "view", "weight": 1.0, "uses_value": False},
    {"id": 3, "name": "purchase", "weight": 5.0, "uses_value": False},
    {"id": 4, "name": "rating", "weight": 1.0, "uses_value": True},
]


def events(rows):
    frame = pd.DataFrame(rows, columns=["user_id", "product_id", "event_type", "value", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    frame["event_id"] = None
    return frame


def test_pairs_score_like_the_trigger_and_keep_first_time_and_latest_rating():
    frame = events(
        [
            ("u", "a", "view", None, 30),
            ("u", "a", "purchase", None, 10),
            ("u", "b", "rating", 4.0, 20),
            ("u", "b", "rating", 2.0, 40),
            ("v", "a", "view", None, 50),
        ]
    )
    pairs = source.pairs(frame, TYPES).set_index(["user_id", "item_id"])
    assert pairs.loc[("u", "a"), "value"] == 6.0 and pairs.loc[("u", "a"), "ts"] == 10.0
    assert np.isnan(pairs.loc[("u", "a"), "rating"])
    assert pairs.loc[("u", "b"), "value"] == 6.0 and pairs.loc[("u", "b"), "rating"] == 2.0
    assert len(pairs) == 3


def test_unknown_event_type_is_named():
    with pytest.raises(source.SourceError, match=r"unknown event type.*like"):
        source.pairs(events([("u", "a", "like", None, 1)]), TYPES)


def test_events_of_selects_every_event_of_chosen_pairs():
    frame = events(
        [("u", "a", "view", None, 1), ("u", "a", "view", None, 2), ("u", "b", "view", None, 3)]
    )
    chosen = pd.DataFrame({"user_id": ["u"], "item_id": ["a"]})
    assert len(source.events_of(frame, chosen)) == 2
