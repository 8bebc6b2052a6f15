"""REC_TRAIN_EVERY: off by default, seconds or a unit suffix."""

import pytest

from app.config import Settings


def test_training_is_off_by_default():
    assert Settings.from_env({}).train_every is None
    assert Settings.from_env({"REC_TRAIN_EVERY": "off"}).train_every is None


@pytest.mark.parametrize(
    ("raw", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400)]
)
def test_periods(raw, seconds):
    assert Settings.from_env({"REC_TRAIN_EVERY": raw}).train_every == seconds


@pytest.mark.parametrize("raw", ["soon", "-5m", "h"])
def test_bad_periods_name_the_variable(raw):
    with pytest.raises(ValueError, match="REC_TRAIN_EVERY"):
        Settings.from_env({"REC_TRAIN_EVERY": raw})
