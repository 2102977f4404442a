"""Score tables by hand: a 3-photo gallery of 2-D unit vectors, and local answers.

Gallery rows: 0 = "b" at (1, 0), 1 = "c" at (0, 1), 2 = "b" at (0.6, 0.8). The universe is
["a", "b", "c"] (not the gallery's order b, c; "a" has no photo, so it always gets the floor).
"""

from __future__ import annotations

import numpy as np
import pytest

from photoid.core import Candidate, Identification, Match
from photoid.fusion.scores import ScoreTable, answer_table, columns_of, global_table, ranks_of
from photoid.search.gallery import Gallery

UNIVERSE = ["a", "b", "c"]
_EMPTY = np.zeros((0, 2), np.float32)


@pytest.fixture
def gallery() -> Gallery:
    gallery = Gallery(2)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], np.float32)
    gallery.add(vectors, ["b", "c", "b"], ["b1.jpg", "c1.jpg", "b2.jpg"])
    return gallery


QUERIES = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], np.float32)
# Similarities to rows 0, 1, 2: q0 (1, 0, 0.6), q1 (0, 1, 0.8), q2 (0.8, 0.6, 0.96).


def test_columns_of_maps_names_to_universe_columns() -> None:
    assert columns_of(UNIVERSE, ["c", "a", "c", "b"]).tolist() == [2, 0, 2, 1]
    assert columns_of(UNIVERSE, []).dtype == np.int64


def test_ranks_of_descending_with_ties_to_the_lower_column() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0], [-1.0, 2.0, 3.0, 2.0]])
    ranks = ranks_of(scores)
    assert ranks.dtype == np.int64
    assert ranks.tolist() == [[1, 0, 2, 3], [0, 1, 2, 3], [3, 1, 0, 2]]


def test_global_table_best_photo_per_identity(gallery: Gallery) -> None:
    table = global_table(gallery, QUERIES, UNIVERSE)
    assert isinstance(table, ScoreTable)
    assert table.scores.dtype == np.float64 and table.scores.shape == (3, 3)
    np.testing.assert_allclose(
        table.scores,
        [[-1.0, 1.0, 0.0], [-1.0, 0.8, 1.0], [-1.0, 0.96, 0.6]],
        atol=1e-6,
    )
    assert table.ranks.tolist() == [[2, 0, 1], [2, 1, 0], [2, 0, 1]]


def test_global_table_floor_and_chunks(gallery: Gallery) -> None:
    whole = global_table(gallery, QUERIES, UNIVERSE, floor=-5.0)
    chunked = global_table(gallery, QUERIES, UNIVERSE, floor=-5.0, chunk=1)
    assert whole.scores[:, 0].tolist() == [-5.0, -5.0, -5.0]
    np.testing.assert_array_equal(whole.scores, chunked.scores)
    np.testing.assert_array_equal(whole.ranks, chunked.ranks)


def _rows(*rows: list[int]) -> list[np.ndarray]:
    return [np.asarray(r, np.int64) for r in rows]


def test_exclude_leaves_the_query_photo_out(gallery: Gallery) -> None:
    """q0 without row 0: b falls to row 2 (0.6). q1 without row 1: c has no photo left, so it
    gets the floor and ties with "a"; "a" (column 0) ranks first of the tie. q2: no exclusion."""
    table = global_table(gallery, QUERIES, UNIVERSE, exclude=_rows([0], [1], []))
    np.testing.assert_allclose(
        table.scores,
        [[-1.0, 0.6, 0.0], [-1.0, 0.8, -1.0], [-1.0, 0.96, 0.6]],
        atol=1e-6,
    )
    assert table.ranks.tolist() == [[2, 0, 1], [1, 0, 2], [2, 0, 1]]


def test_exclude_a_group_leaves_every_photo_of_it_out(gallery: Gallery) -> None:
    """q2 without rows 0 and 2 (both of b): b gets the floor, c keeps 0.6; q0 without 1 and 2
    keeps b's row 0 (1.0)."""
    table = global_table(gallery, QUERIES, UNIVERSE, exclude=_rows([1, 2], [], [0, 2]))
    np.testing.assert_allclose(table.scores[0], [-1.0, 1.0, -1.0], atol=1e-6)
    np.testing.assert_allclose(table.scores[2], [-1.0, -1.0, 0.6], atol=1e-6)
    assert table.ranks[2].tolist() == [1, 2, 0]


def test_exclude_in_chunks_matches_the_whole(gallery: Gallery) -> None:
    exclude = _rows([2], [], [2])
    whole = global_table(gallery, QUERIES, UNIVERSE, exclude=exclude)
    chunked = global_table(gallery, QUERIES, UNIVERSE, exclude=exclude, chunk=2)
    np.testing.assert_allclose(whole.scores, chunked.scores)
    # q2 is in the second chunk, at position 0 there: b falls from row 2 (0.96) to row 0.
    np.testing.assert_allclose(whole.scores[2], [-1.0, 0.8, 0.6], atol=1e-6)


def test_gallery_is_not_changed_by_exclusion(gallery: Gallery) -> None:
    before = gallery.embeddings.copy()
    global_table(gallery, QUERIES, UNIVERSE, exclude=_rows([0], [1], [0, 2]))
    np.testing.assert_array_equal(gallery.embeddings, before)


def test_empty_gallery_gives_the_floor_everywhere() -> None:
    table = global_table(Gallery(2), QUERIES, UNIVERSE, floor=0.0)
    assert table.scores.tolist() == [[0.0, 0.0, 0.0]] * 3
    assert table.ranks.tolist() == [[0, 1, 2]] * 3


def test_no_queries_gives_empty_tables(gallery: Gallery) -> None:
    table = global_table(gallery, np.zeros((0, 2), np.float32), UNIVERSE)
    assert table.scores.shape == (0, 3) and table.ranks.shape == (0, 3)


def _candidate(identity: str, score: float) -> Candidate:
    return Candidate(identity, score, Match(f"{identity}.jpg", score, 4, _EMPTY, _EMPTY))


def test_answer_table_lists_candidates_and_floors_the_rest() -> None:
    answers = [
        Identification("q0", [_candidate("c", 7.0), _candidate("a", 2.5)]),
        Identification("q1", [_candidate("b", 1.0)]),
        Identification("q2", warning="no keypoints found in the image"),
    ]
    table = answer_table(answers, UNIVERSE)
    assert table.scores.tolist() == [[2.5, 0.0, 7.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    # Unlisted identities rank after every listed one: at len(candidates).
    assert table.ranks.tolist() == [[1, 2, 0], [1, 0, 1], [0, 0, 0]]
    assert table.ranks.dtype == np.int64


def test_answer_table_floor() -> None:
    table = answer_table([Identification("q", [_candidate("b", 3.0)])], UNIVERSE, floor=-2.0)
    assert table.scores.tolist() == [[-2.0, 3.0, -2.0]]
