from __future__ import annotations

import pytest

from photoid.data.schema import format_bbox, is_split_column, parse_bbox


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10,20,30,40", (10.0, 20.0, 30.0, 40.0)),
        ("[1.5, 2, 3, 4]", (1.5, 2.0, 3.0, 4.0)),
        ("  ", None),
    ],
)
def test_parse_bbox(text: str, expected: tuple[float, ...] | None) -> None:
    assert parse_bbox(text) == expected


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "1,2,0,4", "1,2,nan,4", "1,2,-3,4"])
def test_parse_bbox_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bbox"):
        parse_bbox(text)


def test_format_bbox_round_trip() -> None:
    assert format_bbox((10.0, 20.0, 30.5, 40.0)) == "10,20,30.5,40"
    assert format_bbox(None) == ""
    assert parse_bbox(format_bbox((1.25, 2.0, 3.0, 4.0))) == (1.25, 2.0, 3.0, 4.0)


def test_split_column_names() -> None:
    assert is_split_column("split")
    assert is_split_column("wd_split")
    assert not is_split_column("splitter")
    assert not is_split_column("image")
