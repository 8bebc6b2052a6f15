"""store.validate: every bad definition is refused naming its field."""

from __future__ import annotations

import pytest

from app.experiments.errors import InvalidExperiment
from app.experiments.store import ArmSpec, Definition, validate

CONTROL = ArmSpec("control", "popular")
HYBRID = ArmSpec("treatment", "hybrid")


def refused(definition: Definition) -> str:
    with pytest.raises(InvalidExperiment) as caught:
        validate(definition)
    return caught.value.field


def test_a_good_definition_is_stored_with_the_hybrids_method_explicit():
    stored = validate(Definition("home-1", "ab", (CONTROL, HYBRID)))
    assert stored.arms[1].method == "adaptive" and stored.arms[0].method is None
    assert stored.arms[1].share == 1.0


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (Definition("bad name", "ab", (CONTROL, HYBRID)), "name"),
        (Definition("a/b", "ab", (CONTROL, HYBRID)), "name"),
        (Definition("x" * 65, "ab", (CONTROL, HYBRID)), "name"),
        (Definition("e", "abc", (CONTROL, HYBRID)), "mode"),
        (Definition("e", "ab", (CONTROL,)), "arms"),
        (Definition("e", "interleave", (CONTROL, HYBRID, ArmSpec("third", "popular"))), "arms"),
        (Definition("e", "ab", (CONTROL, ArmSpec("control", "hybrid"))), "arms.name"),
        (Definition("e", "ab", (CONTROL, ArmSpec("t", "magic"))), "arms.1.case"),
        (Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", "adaptive"))), "arms.1.method"),
        (Definition("e", "ab", (CONTROL, ArmSpec("t", "hybrid", "blend"))), "arms.1.method"),
        (Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", share=0))), "arms.1.share"),
        (Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", share=-1))), "arms.1.share"),
        (
            Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", share=float("nan")))),
            "arms.1.share",
        ),
        (
            Definition("e", "ab", (ArmSpec("c", "popular", params={"k": 5}), HYBRID)),
            "arms.0.params",
        ),
        (
            Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", params={"rotation": 1.5}))),
            "arms.1.params.rotation",
        ),
        (
            Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", params={"rotation": True}))),
            "arms.1.params.rotation",
        ),
        (
            Definition("e", "ab", (CONTROL, ArmSpec("t", "popular", params={"category": 7}))),
            "arms.1.params.category",
        ),
        (Definition("e", "ab", (CONTROL, HYBRID), "d" * 1001), "description"),
    ],
)
def test_bad_definitions_name_their_field(definition, field):
    assert refused(definition) == field


def test_known_params_pass():
    arm = ArmSpec("t", "popular", params={"category": "Comedy", "rotation": 0.25})
    assert validate(Definition("e", "ab", (CONTROL, arm))).arms[1].params == arm.params
