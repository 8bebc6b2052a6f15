import pytest

from app.importing import formats
from app.importing.formats import FormatError


def test_movielens_preset_maps_ratings():
    fmt = formats.event_format("movielens-100k")
    assert fmt.columns == ("user", "item", "value", "time")
    assert fmt.sep == "\t" and fmt.event_type == "rating" and not fmt.header


def test_options_override_preset():
    fmt = formats.event_format("movielens-csv", sep=";", header=False)
    assert fmt.sep == ";" and fmt.header is False and fmt.event_type == "rating"


def test_generic_format_defaults_to_views_without_type_column():
    assert formats.event_format(None, columns=("user", "item")).event_type == "view"
    assert formats.event_format(None, columns=("user", "item", "type")).event_type is None


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (("user", "thing"), "unknown column role"),
        (("user", "time"), "must name item"),
        (("user", "item", "user"), "appears twice"),
    ],
)
def test_bad_columns_are_named(columns, message):
    with pytest.raises(FormatError, match=message):
        formats.event_format(None, columns=columns)


def test_unknown_preset():
    with pytest.raises(FormatError, match="unknown preset"):
        formats.item_format("netflix")
