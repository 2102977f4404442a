"""The descriptor index: exact search equals brute force; approximate search finds duplicates."""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np
import pytest

from photoid.local.index import DescriptorIndex


@pytest.fixture(autouse=True, scope="module")
def _one_faiss_thread() -> Iterator[None]:
    """OpenMP threads spin on a busy 2-core machine (7 s instead of 1 s here): use one."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)


SIZES = (50, 0, 70, 30)  # descriptors added per call; owners 0..3 (owner 1 adds nothing)


def _filled(data: np.ndarray, index: DescriptorIndex) -> tuple[np.ndarray, np.ndarray]:
    """Add ``data`` in chunks of SIZES; return the expected owner and keypoint of every row."""
    owners, keypoints = [], []
    start = 0
    for owner, size in enumerate(SIZES):
        index.add(data[start : start + size], owner)
        owners += [owner] * size
        keypoints += list(range(size))
        start += size
    return np.array(owners), np.array(keypoints)


def _row_of(owner: np.ndarray, keypoint: np.ndarray) -> np.ndarray:
    """Row of ``data`` holding (owner, keypoint), through the same SIZES offsets."""
    offsets = np.r_[0, np.cumsum(SIZES)[:-1]]
    return offsets[owner] + keypoint


def test_exact_search_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    data = rng.random((150, 16), dtype=np.float32)
    queries = rng.random((20, 16), dtype=np.float32)
    index = DescriptorIndex(16, binary=False, kind="exact")
    owners, keypoints = _filled(data, index)
    assert index.size == 150
    np.testing.assert_array_equal(index.owners, owners)
    np.testing.assert_array_equal(index.keypoints, keypoints)

    distances, found_owners, found_keypoints = index.search(queries, 4)
    brute = np.sqrt(((queries[:, None, :] - data[None, :, :]) ** 2).sum(axis=2))
    nearest = np.argsort(brute, axis=1)[:, :4]
    np.testing.assert_allclose(distances, np.take_along_axis(brute, nearest, 1), rtol=1e-4)
    np.testing.assert_array_equal(found_owners, owners[nearest])
    np.testing.assert_array_equal(found_keypoints, keypoints[nearest])
    assert distances.dtype == np.float32
    assert not index.approximate


def test_binary_descriptors_use_hamming_distance() -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, (150, 4), dtype=np.uint8)  # 32-bit descriptors
    queries = rng.integers(0, 256, (20, 4), dtype=np.uint8)
    index = DescriptorIndex(32, binary=True, kind="exact")
    _filled(data, index)
    distances, owners, keypoints = index.search(queries, 3)
    bits = np.unpackbits(queries[:, None, :] ^ data[None, :, :], axis=2).sum(axis=2)
    # Hamming ties are common, so compare the sorted distances and check each returned row.
    np.testing.assert_array_equal(distances, np.sort(bits, axis=1)[:, :3])
    rows = _row_of(owners, keypoints)
    np.testing.assert_array_equal(np.take_along_axis(bits, rows, 1), distances)


def test_hand_made_binary_distances() -> None:
    index = DescriptorIndex(8, binary=True, kind="exact")
    index.add(np.array([[0b00000000], [0b00001111]], np.uint8), owner=7)
    distances, owners, keypoints = index.search(np.array([[0b00000111]], np.uint8), 2)
    np.testing.assert_array_equal(distances, [[1.0, 3.0]])  # 1 bit from #1, 3 bits from #0
    np.testing.assert_array_equal(owners, [[7, 7]])
    np.testing.assert_array_equal(keypoints, [[1, 0]])


def test_fewer_stored_than_asked_pads_with_missing() -> None:
    index = DescriptorIndex(2, binary=False)
    index.add(np.array([[0, 0], [3, 4]], np.float32), owner=0)
    distances, owners, keypoints = index.search(np.array([[0, 0]], np.float32), 4)
    np.testing.assert_allclose(distances, [[0.0, 5.0, np.inf, np.inf]])
    np.testing.assert_array_equal(owners, [[0, 0, -1, -1]])
    np.testing.assert_array_equal(keypoints, [[0, 1, -1, -1]])


@pytest.mark.parametrize("binary", [False, True])
def test_empty_index_finds_nothing(binary: bool) -> None:
    index = DescriptorIndex(256 if binary else 128, binary=binary)
    queries = np.zeros((3, 32 if binary else 128), np.uint8 if binary else np.float32)
    distances, owners, keypoints = index.search(queries, 2)
    assert distances.shape == owners.shape == keypoints.shape == (3, 2)
    assert np.isinf(distances).all()
    assert (owners == -1).all() and (keypoints == -1).all()
    index.add(queries[:0], owner=0)  # adding nothing keeps it empty
    assert index.size == 0


def _planted(binary: bool, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if binary:
        return rng.integers(0, 256, (count, 32), dtype=np.uint8)
    return rng.random((count, 128), dtype=np.float32)


def _duplicate_recall(index: DescriptorIndex, data: np.ndarray, rows: np.ndarray) -> float:
    _, owners, keypoints = index.search(data[rows], 2)
    hits = (owners[:, 0] == rows // 1000) & (keypoints[:, 0] == rows % 1000)
    return float(hits.mean())


@pytest.mark.parametrize(("kind", "binary"), [("ivf", False), ("hnsw", False), ("ivf", True)])
def test_approximate_kinds_switch_at_first_search_and_find_duplicates(
    kind: str, binary: bool
) -> None:
    dim = 256 if binary else 128
    data = _planted(binary, 3000, seed=2)
    index = DescriptorIndex(dim, binary=binary, kind=kind)  # type: ignore[arg-type]
    for owner in range(3):
        index.add(data[owner * 1000 : (owner + 1) * 1000], owner)
    assert not index.approximate
    rows = np.random.default_rng(3).choice(3000, 100, replace=False)
    assert _duplicate_recall(index, data, rows) >= 0.95
    assert index.approximate
    # Vectors added after the switch go into the approximate index and are found too.
    extra = _planted(binary, 1000, seed=4)
    index.add(extra, owner=3)
    _, owners, keypoints = index.search(extra[:50], 1)
    assert (owners[:, 0] == 3).mean() >= 0.95
    assert (keypoints[:, 0] == np.arange(50)).mean() >= 0.95


def test_auto_switches_once_past_the_threshold() -> None:
    data = _planted(False, 2000, seed=5)
    index = DescriptorIndex(128, binary=False, kind="auto", approximate_above=500)
    index.add(data[:400], owner=0)
    rows = np.arange(0, 400, 8)
    index.search(data[rows], 2)
    assert not index.approximate  # 400 < 500: still exact
    index.add(data[400:1000], owner=0)
    assert _duplicate_recall(index, data, rows) == 1.0
    assert index.approximate


def test_exact_kind_never_switches() -> None:
    data = _planted(False, 600, seed=6)
    index = DescriptorIndex(128, binary=False, kind="exact", approximate_above=500)
    index.add(data, owner=0)
    index.search(data[:5], 1)
    assert not index.approximate


@pytest.mark.parametrize(("count", "structure"), [(600, faiss.IndexHNSW), (1000, faiss.IndexIVF)])
def test_auto_takes_hnsw_then_ivf_for_the_largest_galleries(count: int, structure: type) -> None:
    data = _planted(False, count, seed=7)
    index = DescriptorIndex(128, binary=False, kind="auto", approximate_above=500, ivf_above=800)
    index.add(data, owner=0)
    rows = np.arange(0, count, 10)
    assert _duplicate_recall(index, data, rows) >= 0.95
    assert isinstance(index._index, structure)  # which structure is only visible inside


@pytest.mark.parametrize("binary", [False, True])
def test_approximate_index_of_a_tiny_gallery_still_works(binary: bool) -> None:
    data = _planted(binary, 20, seed=8)
    index = DescriptorIndex(256 if binary else 128, binary=binary, kind="ivf")
    index.add(data, owner=0)
    _, _, keypoints = index.search(data, 1)
    assert index.approximate
    np.testing.assert_array_equal(keypoints[:, 0], np.arange(20))
