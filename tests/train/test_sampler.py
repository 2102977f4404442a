from __future__ import annotations

import numpy as np
import pytest

from photoid.errors import PhotoidError
from photoid.train.sampler import pk_sampler

# identity:  0 0 0 0 1 1 1 2 3 3 3 3 3 3 4 4, plus two unknown (-1) photos
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 4, 4, -1, -1], dtype=np.int64)


def _batches(indices: list[int], size: int) -> list[list[int]]:
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def test_every_batch_holds_p_identities_with_k_photos_each() -> None:
    sampler = pk_sampler(LABELS, p=3, k=2, seed=0, num_batches=40)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 40 * 6
    for batch in _batches(indices, 6):
        labels, counts = np.unique(LABELS[batch], return_counts=True)
        assert len(labels) == 3 and counts.tolist() == [2, 2, 2]
        assert (labels >= 0).all()  # unknown photos are never drawn


def test_an_identity_with_fewer_than_k_photos_is_drawn_with_replacement() -> None:
    indices = list(pk_sampler(LABELS, p=3, k=2, seed=0, num_batches=40))
    single = [batch for batch in _batches(indices, 6) if 7 in batch]
    assert single  # identity 2 (one photo, row 7) is drawn in 40 batches
    assert all(batch.count(7) == 2 for batch in single)
    # identities with enough photos are drawn without replacement within a batch
    for batch in _batches(indices, 6):
        assert len({i for i in batch if i != 7}) == len([i for i in batch if i != 7])


def test_order_depends_only_on_seed_and_epoch() -> None:
    np.random.seed(123)
    untouched = np.random.rand()
    np.random.seed(123)
    first = pk_sampler(LABELS, p=2, k=2, seed=5)
    second = pk_sampler(LABELS, p=2, k=2, seed=5)
    epoch0 = list(first)
    assert np.random.rand() == untouched  # the global generator is left alone
    np.random.rand(10)  # and global randomness in between changes nothing
    assert list(second) == epoch0 and list(first) == epoch0
    first.set_epoch(1)
    assert list(first) != epoch0
    first.set_epoch(0)
    assert list(first) == epoch0
    assert list(pk_sampler(LABELS, p=2, k=2, seed=6)) != epoch0


def test_default_length_is_about_one_pass() -> None:
    # 16 labelled photos, batches of 2 x 3 = 6: ceil(16 / 6) = 3 batches
    assert len(pk_sampler(LABELS, p=2, k=3)) == 18


def test_too_few_identities_or_bad_sizes_are_errors() -> None:
    with pytest.raises(PhotoidError, match="needs p=6 identities but the labels hold 5"):
        pk_sampler(LABELS, p=6, k=2)
    with pytest.raises(PhotoidError, match="k >= 2"):
        pk_sampler(LABELS, p=2, k=1)
    with pytest.raises(PhotoidError, match="1-D integer"):
        pk_sampler(LABELS.astype(np.float32), p=2, k=2)
    with pytest.raises(PhotoidError, match="num_batches"):
        pk_sampler(LABELS, p=2, k=2, num_batches=0)
