"""Misses of a re-ranking engine traced to retrieval or verification, counted by hand."""

from __future__ import annotations

import math

import pytest

from photoid.metrics import NEW_INDIVIDUAL, shortlist_trace


def test_misses_split_into_retrieval_and_verification() -> None:
    truth = ["a", "b", "c", "d", NEW_INDIVIDUAL, "e"]
    shortlists = [("a", "x"), ("x", "b"), ("x", "y"), ("d",), ("a",), None]
    first = ["a", "x", "x", "d", "a", "q"]
    trace = shortlist_trace(truth, shortlists, first)
    assert trace is not None
    # Counted: a, b, c, d (the new individual and the query without a short list are not).
    assert trace.queries == 4
    assert math.isclose(trace.recall, 3 / 4)
    assert trace.missed_retrieval == 1  # c: absent from its short list
    assert trace.missed_verification == 1  # b: present, yet x came first
    assert trace.to_dict() == {
        "queries": 4,
        "recall": 0.75,
        "missed_retrieval": 1,
        "missed_verification": 1,
    }


def test_no_short_lists_gives_none() -> None:
    assert shortlist_trace(["a"], [None], ["a"]) is None
    assert shortlist_trace([NEW_INDIVIDUAL], [("a",)], ["a"]) is None


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        shortlist_trace(["a", "b"], [("a",)], ["a", "b"])
