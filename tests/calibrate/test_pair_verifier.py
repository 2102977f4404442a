from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from photoid.calibrate.verifier import (
    PairVerifier,
    assign_hard_negatives,
    load_verifier,
    mine_pairs,
    save_verifier,
    score_candidates,
    score_pairs,
    train_verifier,
)
from photoid.errors import PhotoidError


def test_assignment_pairs_distinct_hard_negatives() -> None:
    labels = np.array([0, 0, 1, 1])
    similarity = np.array(
        [
            [1.0, 0.95, 0.9, 0.8],
            [0.95, 1.0, 0.7, 0.1],
            [0.9, 0.7, 1.0, 0.99],
            [0.8, 0.1, 0.99, 1.0],
        ]
    )
    # Row 0 and 1 both prefer column 2 (0.9, 0.7); the assignment gives them distinct columns
    # with the larger total: 0->3, 1->2 (0.8 + 0.7 = 1.5) beats 0->2, 1->3 (0.9 + 0.1 = 1.0).
    # Rows 2 and 3: 2->0, 3->1 (0.9 + 0.1 = 1.0) vs 2->1, 3->0 (0.7 + 0.8 = 1.5): the latter.
    # Same-identity entries (0.95, 0.99, the diagonal) are never chosen.
    partners = assign_hard_negatives(similarity, labels)
    np.testing.assert_array_equal(partners, [3, 2, 1, 0])


def test_assignment_marks_rows_left_without_another_identity() -> None:
    labels = np.array([0, 0, 0, 1])
    similarity = np.array(
        [
            [1.0, 0.0, 0.0, 0.2],
            [0.0, 1.0, 0.0, 0.9],
            [0.0, 0.0, 1.0, 0.5],
            [0.2, 0.9, 0.5, 1.0],
        ]
    )
    # Only column 3 is another identity for rows 0-2; row 1 takes it (0.9), and row 3 takes
    # column 1 (0.9); rows 0 and 2 would be left with their own identity: -1.
    np.testing.assert_array_equal(assign_hard_negatives(similarity, labels), [-1, 3, -1, 1])


def test_verifier_is_symmetric() -> None:
    torch.manual_seed(0)
    model = PairVerifier(8, hidden=16)
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    assert torch.equal(model(a, b), model(b, a))


def _clusters(identities: int, per: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(identities), per)
    x = centres[labels] + rng.normal(scale=0.12, size=(labels.size, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), labels


def test_mined_pairs_are_labelled_right() -> None:
    x, labels = _clusters(5, 3, 8, seed=0)
    pairs, same = mine_pairs(x, labels, np.random.default_rng(0))
    # 15 positives (each photo with another of its identity) and 15 negatives.
    assert same.sum() == 15 and same.size == 30
    np.testing.assert_array_equal(labels[pairs[:, 0]] == labels[pairs[:, 1]], same == 1.0)
    assert np.all(pairs[:, 0] != pairs[:, 1])


@pytest.fixture(scope="module")
def trained() -> PairVerifier:
    x, labels = _clusters(30, 5, 16, seed=1)
    return train_verifier(x, labels, epochs=12, seed=0, hidden=32, batch_size=64, lr=1e-2)


def test_training_generalises_to_held_out_identities(trained: PairVerifier) -> None:
    x, labels = _clusters(10, 5, 16, seed=2)
    i, j = np.triu_indices(labels.size, 1)
    probability = score_pairs(trained, x[i], x[j])
    same = labels[i] == labels[j]
    balanced = (np.mean(probability[same] > 0.5) + np.mean(probability[~same] <= 0.5)) / 2
    assert balanced > 0.9


def test_training_is_deterministic(trained: PairVerifier) -> None:
    x, labels = _clusters(30, 5, 16, seed=1)
    again = train_verifier(x, labels, epochs=12, seed=0, hidden=32, batch_size=64, lr=1e-2)
    for key, value in trained.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])


def test_save_and_load(tmp_path: Path, trained: PairVerifier) -> None:
    path = save_verifier(trained, tmp_path / "verifier.safetensors")
    loaded = load_verifier(path)
    assert (loaded.dim, loaded.hidden) == (16, 32)
    x, _ = _clusters(3, 2, 16, seed=4)
    np.testing.assert_array_equal(score_pairs(loaded, x, x[::-1]), score_pairs(trained, x, x[::-1]))


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match="two identities"):
        train_verifier(np.zeros((3, 4), np.float32), np.array([0, 1, 2]))
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"not a model")
    with pytest.raises(PhotoidError, match=r"junk\.safetensors: not a photoid pair verifier"):
        load_verifier(path)


def test_candidate_scores_take_each_identity_best_photo(trained: PairVerifier) -> None:
    x, labels = _clusters(3, 2, 16, seed=5)
    query = x[[0]]
    candidates = np.array([[2, 0, -1]])
    scores = score_candidates(trained, query, x, labels, candidates)
    pair = score_pairs(trained, np.repeat(query, 6, axis=0), x)
    # Identity 2 owns photos 4 and 5, identity 0 photos 0 and 1; -1 is no candidate.
    expected = [[max(pair[4], pair[5]), max(pair[0], pair[1]), 0.0]]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)  # float32 batches of other sizes
    assert scores[0, 1] > 0.5 > scores[0, 0]
