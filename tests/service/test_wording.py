"""A calibrated probability in the words a reviewer reads, at each boundary."""

from __future__ import annotations

import pytest

from photoid.service.schemas import chance_in_words


@pytest.mark.parametrize(
    ("probability", "shown"),
    [
        (1.0, "100% · almost certainly"),
        (0.95, "95% · almost certainly"),
        (0.949, "95% · very likely"),  # the percent rounds; the words keep the true side
        (0.75, "75% · very likely"),
        (0.5, "50% · likely"),
        (0.3, "30% · possibly"),
        (0.05, "5% · unlikely"),
        (0.01, "1% · very unlikely"),
        (0.0, "0% · very unlikely"),
    ],
)
def test_probability_in_words(probability: float, shown: str) -> None:
    assert chance_in_words(probability) == shown
