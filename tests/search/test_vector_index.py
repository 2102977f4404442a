from __future__ import annotations

import numpy as np
import pytest

from photoid.errors import PhotoidError
from photoid.search import VectorIndex, rank_identities_by_images
from photoid.search.aggregate import centroids


def _unit(rows: list[list[float]]) -> np.ndarray:
    array = np.asarray(rows, np.float32)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_exact_search_returns_cosine_similarities_and_ids() -> None:
    index = VectorIndex(2, kind="exact")
    index.add(_unit([[1, 0], [0, 1], [1, 1]]), np.array([10, 20, 30]))
    scores, ids = index.search(_unit([[1, 0.0]]), 3)
    # cos to [1,0] = 1; to [1,1]/sqrt2 = 0.7071; to [0,1] = 0.
    np.testing.assert_array_equal(ids, [[10, 30, 20]])
    np.testing.assert_allclose(scores, [[1.0, 2**-0.5, 0.0]], atol=1e-6)


def test_fewer_vectors_than_k_pads_with_minus_one() -> None:
    index = VectorIndex(2)
    index.add(_unit([[1, 0]]))
    scores, ids = index.search(_unit([[0, 1]]), 3)
    assert ids.tolist() == [[0, -1, -1]]
    assert np.isneginf(scores[0, 1:]).all()
    empty = VectorIndex(2)
    assert empty.search(_unit([[0, 1]]), 2)[1].tolist() == [[-1, -1]]


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_find_planted_neighbours(kind: str) -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2000, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = VectorIndex(16, kind=kind)  # type: ignore[arg-type]
    index.add(data)
    queries = data[:50] + 0.01 * rng.normal(size=(50, 16)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    _, ids = index.search(queries, 1)
    assert index.approximate
    assert (ids[:, 0] == np.arange(50)).mean() >= 0.9


def test_auto_switches_at_threshold_and_keeps_adding() -> None:
    index = VectorIndex(2, approximate_above=3)
    index.add(_unit([[1, 0], [0, 1]]))
    index.search(_unit([[1, 0]]), 1)
    assert not index.approximate
    index.add(_unit([[1, 1]]))
    index.search(_unit([[1, 0]]), 1)
    assert index.approximate
    index.add(_unit([[-1, 0]]))
    _, ids = index.search(_unit([[-1, 0.01]]), 1)
    assert ids.tolist() == [[3]]


def test_bad_embeddings_are_refused() -> None:
    index = VectorIndex(3)
    with pytest.raises(PhotoidError, match=r"shape \(n, 3\)"):
        index.add(np.zeros((2, 4), np.float32))
    with pytest.raises(PhotoidError, match="NaN"):
        index.add(np.full((1, 3), np.nan, np.float32))
    with pytest.raises(PhotoidError, match=r"ids must have shape \(1,\)"):
        index.add(np.ones((1, 3), np.float32), np.array([1, 2]))


def test_identity_ranking_keeps_best_image_per_identity() -> None:
    sims = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]], np.float32)
    labels = np.array([[4, 4, 2, -1, 7]])
    ranking = rank_identities_by_images(sims, labels, 3)
    # identity 4 at its best image 0.9, then 2 at 0.7; the missing neighbour is skipped; 7 at 0.5.
    assert ranking.labels.tolist() == [[4, 2, 7]]
    np.testing.assert_allclose(ranking.scores, [[0.9, 0.7, 0.5]])
    short = rank_identities_by_images(sims[:, :2], labels[:, :2], 3)
    assert short.labels.tolist() == [[4, -1, -1]]


def test_centroids_are_normalised_means() -> None:
    embeddings = _unit([[1, 0], [0, 1], [1, 0]])
    means, labels = centroids(embeddings, np.array([5, 5, 9]))
    assert labels.tolist() == [5, 9]
    # identity 5: mean of [1,0] and [0,1] = [0.5,0.5] -> unit [0.7071, 0.7071].
    np.testing.assert_allclose(means, [[2**-0.5, 2**-0.5], [1, 0]], atol=1e-6)
