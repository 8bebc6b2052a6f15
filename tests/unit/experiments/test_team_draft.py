"""Team-draft interleaving: a fair, reproducible merge that keeps each list's order."""

from __future__ import annotations

from collections import Counter

from app.experiments.serving import team_draft

A = ["a1", "a2", "a3", "a4", "a5", "a6"]
B = ["b1", "a2", "b3", "a1", "b5", "b6"]


def test_no_duplicates_and_k_long():
    merged = team_draft([A, B], 8, "seed")
    items = [item for item, _ in merged]
    assert len(items) == 8 and len(set(items)) == 8


def test_each_arm_keeps_its_order():
    for seed in map(str, range(50)):
        merged = team_draft([A, B], 10, seed)
        for team, source in enumerate((A, B)):
            placed = [item for item, by in merged if by == team]
            assert placed == sorted(placed, key=source.index)


def test_the_same_seed_gives_the_same_list_and_seeds_differ():
    assert team_draft([A, B], 6, "page-1") == team_draft([A, B], 6, "page-1")
    assert len({tuple(team_draft([A, B], 6, str(s))) for s in range(20)}) > 1


def test_teams_stay_level_and_each_round_starts_fairly():
    firsts = Counter(team_draft([A, B], 2, str(seed))[0][1] for seed in range(400))
    assert 150 < firsts[0] < 250
    for seed in map(str, range(50)):
        credit = Counter(by for _, by in team_draft([A, B], 6, seed))
        assert abs(credit[0] - credit[1]) <= 1


def test_fills_to_k_from_the_longer_list_when_one_runs_dry():
    merged = team_draft([["x"], ["y1", "y2", "y3"]], 4, "s")
    assert sorted(item for item, _ in merged) == ["x", "y1", "y2", "y3"]
    assert [item for item, by in merged if by == 1] == ["y1", "y2", "y3"]
    assert len(team_draft([["x"], ["x"]], 5, "s")) == 1
    assert team_draft([[], []], 5, "s") == []


def test_a_shared_item_is_placed_once_by_whoever_gets_to_it_first():
    for seed in map(str, range(30)):
        merged = team_draft([["same", "a"], ["same", "b"]], 3, seed)
        assert [item for item, _ in merged].count("same") == 1
        first_team = merged[0][1]
        assert merged[0] == ("same", first_team)
        assert merged[1] == (("b", 1) if first_team == 0 else ("a", 0))


def test_clicks_are_credited_to_the_arm_that_placed_the_item():
    merged = team_draft([A, B], 6, "credit")
    placed_by = dict(merged)
    clicked = [merged[0][0], merged[1][0], merged[2][0]]
    credit = Counter(placed_by[item] for item in clicked)
    expected = Counter(by for _, by in merged[:3])
    assert credit == expected and sum(credit.values()) == 3
