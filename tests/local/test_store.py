"""Features on disk: one byte per descriptor dimension, read back by photo, moved into the
folder an engine is saved in, and rows a stopped process appended past its saved count ignored."""

from __future__ import annotations

import gc
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from photoid.errors import PhotoidError
from photoid.local.features import Features
from photoid.local.storage import AppendArray, StoreFolder, loading_from, saving_into
from photoid.local.store import ROOT_SCALE, FeatureStore


def _features(count: int, seed: int, width: int = 128) -> Features:
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 500, (count, 2)).astype(np.float32)
    descriptors = rng.uniform(0, 0.45, (count, width)).astype(np.float32)
    return Features(points, descriptors, 0.5, (10.0, 20.0))


def test_root_sift_descriptors_come_back_within_half_a_step() -> None:
    store = FeatureStore("rootsift", 128, binary=False)
    first, second = _features(3, 0), _features(2, 1)
    store.append([first, second])
    back = store.features(1)
    np.testing.assert_array_equal(back.points, second.points)
    assert np.abs(back.descriptors - second.descriptors).max() <= 0.5 / ROOT_SCALE + 1e-7
    assert back.scale == 0.5 and back.offset == (10.0, 20.0)
    assert store.disk_bytes == 5 * 128 + 5 * 2 * 4  # one byte per dimension, float32 points
    assert len(store.photo_points(0).descriptors) == 0


def test_gather_names_each_descriptor_by_photo_and_keypoint() -> None:
    store = FeatureStore("orb", 32, binary=True)
    batch = [
        Features(np.zeros((n, 2), np.float32), np.full((n, 32), n, np.uint8), 1.0, (0.0, 0.0))
        for n in (3, 0, 2)
    ]
    store.append(batch)
    descriptors, owners, keypoints = store.gather(np.array([2, 0]))
    np.testing.assert_array_equal(owners, [2, 2, 0, 0, 0])
    np.testing.assert_array_equal(keypoints, [0, 1, 0, 1, 2])
    np.testing.assert_array_equal(descriptors[:, 0], [2, 2, 3, 3, 3])  # binary: stored as is


def test_saving_moves_the_files_into_the_folder_and_loading_finds_them_there(
    tmp_path: Path,
) -> None:
    store = FeatureStore("rootsift", 128, binary=False)
    store.append([_features(4, 2)])
    temporary = store.folder.path
    with saving_into(tmp_path / "engine"):
        data = pickle.dumps(store)
    saved = tmp_path / "engine" / "stores" / store.folder.name
    assert store.folder.path == saved and (saved / "descriptors.bin").is_file()
    assert not temporary.exists()  # the temporary copy is gone once saved
    shutil.move(tmp_path / "engine", tmp_path / "moved")
    with loading_from(tmp_path / "moved"):
        loaded = pickle.loads(data)
    np.testing.assert_array_equal(loaded.features(0).points, _features(4, 2).points)
    missing = pytest.raises(PhotoidError, match="stored features of this engine are missing")
    with missing, loading_from(tmp_path / "nowhere"):
        pickle.loads(data)


def test_rows_appended_after_the_saved_count_are_overwritten(tmp_path: Path) -> None:
    array = AppendArray(StoreFolder(), "rows", 2, "int32")
    array.append(np.array([[1, 2], [3, 4]]))
    with saving_into(tmp_path / "engine"):
        saved = pickle.dumps(array)  # the saved state knows two rows
    array.append(np.array([[9, 9]]))  # a process that stopped before saving again
    del array
    gc.collect()  # its lock goes with it
    with loading_from(tmp_path / "engine"):
        again = pickle.loads(saved)
    assert len(again) == 2
    assert again.append(np.array([[5, 6]])) == 2
    np.testing.assert_array_equal(again.read(0, 3), [[1, 2], [3, 4], [5, 6]])
    assert again.file.stat().st_size == 3 * 2 * 4


def test_a_second_writer_of_the_same_store_continues_in_a_copy(tmp_path: Path) -> None:
    store = FeatureStore("rootsift", 128, binary=False)
    store.append([_features(2, 3)])
    with saving_into(tmp_path / "engine"):
        data = pickle.dumps(store)
    with loading_from(tmp_path / "engine"):
        first, second = pickle.loads(data), pickle.loads(data)
    first.append([_features(1, 4)])
    second.append([_features(1, 5)])  # the folder is held by the first: a copy of its own
    assert second.folder.path != first.folder.path
    np.testing.assert_array_equal(first.features(1).points, _features(1, 4).points)
    np.testing.assert_array_equal(second.features(1).points, _features(1, 5).points)
    np.testing.assert_array_equal(second.features(0).points, _features(2, 3).points)
    with saving_into(tmp_path / "engine") as kept:
        pickle.dumps(second)
    from photoid.local.storage import prune_stores

    prune_stores(tmp_path / "engine", kept)  # the first's store is held: it stays
    assert sorted(p.name for p in (tmp_path / "engine" / "stores").iterdir()) == sorted(
        [first.folder.name, second.folder.name]
    )


def test_a_failed_append_leaves_the_store_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    store = FeatureStore("rootsift", 128, binary=False)
    store.append([_features(2, 6)])
    real = AppendArray.append

    def full(self: AppendArray, rows: np.ndarray) -> int:
        if self.name == "descriptors":
            raise PhotoidError("disk full")
        return real(self, rows)

    monkeypatch.setattr(AppendArray, "append", full)
    with pytest.raises(PhotoidError, match="disk full"):
        store.append([_features(3, 7)])
    monkeypatch.setattr(AppendArray, "append", real)
    assert (len(store), store.points.rows, store.descriptors.rows) == (1, 2, 2)
    store.append([_features(1, 8)])  # overwrites the failed batch's points
    np.testing.assert_array_equal(store.features(1).points, _features(1, 8).points)


def test_saving_again_deletes_the_stores_no_engine_refers_to(tmp_path: Path) -> None:
    from photoid.local.storage import prune_stores

    folder = tmp_path / "engine"
    old, new = FeatureStore("rootsift", 128, binary=False), FeatureStore("sift", 128, binary=False)
    for store in (old, new):
        store.append([_features(1, 9)])
    with saving_into(folder) as kept:
        pickle.dumps(old)
    prune_stores(folder, kept)
    with saving_into(folder) as kept:  # a refit saved into the same folder
        pickle.dumps(new)
    prune_stores(folder, kept)
    assert sorted(p.name for p in (folder / "stores").iterdir()) == [new.folder.name]
