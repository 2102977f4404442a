"""Features cached on disk, and the extraction of many images around the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoid.local.cache import FeatureCache, cache_key, content_hash
from photoid.local.config import LocalConfig
from photoid.local.extraction import extract_many, extract_one
from photoid.local.features import Features

CONFIG = LocalConfig(max_side=200)


def _image(path: Path, seed: int = 0) -> Path:
    """A 100x150 picture of random dark squares on grey: plenty of corners for SIFT."""
    rng = np.random.default_rng(seed)
    pixels = np.full((100, 150, 3), 180, np.uint8)
    for x, y in rng.integers(0, 130, (25, 2)):
        pixels[y % 85 : y % 85 + 12, x : x + 12] = rng.integers(0, 90)
    Image.fromarray(pixels).save(path)
    return path


def _cache(root: Path, config: LocalConfig = CONFIG) -> FeatureCache:
    return FeatureCache(root, config.fingerprint())


def _same(a: Features | None, b: Features | None) -> None:
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.descriptors, b.descriptors)
    assert (a.scale, a.offset) == (b.scale, b.offset)


def test_second_extraction_is_a_cache_hit(tmp_path: Path) -> None:
    image = _image(tmp_path / "a.png")
    cache = _cache(tmp_path / "cache")
    first = extract_one(image, None, CONFIG, cache)
    assert (cache.hits, cache.misses) == (0, 1)
    second = extract_one(image, None, CONFIG, cache)
    assert (cache.hits, cache.misses) == (1, 1)
    assert first.features is not None and second.features is not None
    assert len(first.features) > 10
    _same(first.features, second.features)
    key = content_hash(image)
    assert (cache.folder / key[:2] / f"{key}.npz").is_file()
    assert [p.suffix for p in cache.folder.rglob("*") if p.is_file()] == [".npz"]  # no temp file


def test_feature_settings_change_the_folder_other_settings_do_not(tmp_path: Path) -> None:
    image = _image(tmp_path / "a.png")
    extract_one(image, None, CONFIG, _cache(tmp_path / "cache"))
    other_matching = CONFIG.with_overrides(knn=2, shortlist=4)
    same = _cache(tmp_path / "cache", other_matching)
    extract_one(image, None, other_matching, same)
    assert (same.hits, same.misses) == (1, 0)
    smaller = CONFIG.with_overrides(max_side=120)
    changed = _cache(tmp_path / "cache", smaller)
    result = extract_one(image, None, smaller, changed)
    assert (changed.hits, changed.misses) == (0, 1)
    assert result.features is not None and result.features.scale == 120 / 150


def test_changed_image_content_is_a_miss(tmp_path: Path) -> None:
    image = _image(tmp_path / "a.png")
    cache = _cache(tmp_path / "cache")
    extract_one(image, None, CONFIG, cache)
    _image(image, seed=1)  # same name, new pixels
    extract_one(image, None, CONFIG, cache)
    assert (cache.hits, cache.misses) == (0, 2)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_entry_is_recomputed(tmp_path: Path, damage: str) -> None:
    image = _image(tmp_path / "a.png")
    cache = _cache(tmp_path / "cache")
    fresh = extract_one(image, None, CONFIG, cache).features
    key = content_hash(image)
    entry = cache.folder / key[:2] / f"{key}.npz"
    data = entry.read_bytes()
    entry.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"hello", "empty": b""}[damage]
    )
    again = extract_one(image, None, CONFIG, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    assert again.error is None
    _same(again.features, fresh)
    assert entry.read_bytes() == data  # rewritten whole
    assert cache.get(key) is not None


def test_bbox_changes_the_key(tmp_path: Path) -> None:
    digest = "ab" * 32
    assert cache_key(digest, None) == digest
    one = cache_key(digest, (10.0, 20.0, 30.0, 40.0))
    assert one.startswith(digest + "-")
    assert one == cache_key(digest, (10, 20, 30, 40))
    assert one != cache_key(digest, (10.0, 20.0, 30.0, 41.0))

    image = _image(tmp_path / "a.png")
    cache = _cache(tmp_path / "cache")
    extract_one(image, None, CONFIG, cache)
    boxed = extract_one(image, (20.4, 9.6, 100.0, 80.0), CONFIG, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    assert boxed.features is not None
    assert boxed.features.offset == (20.0, 10.0)  # the crop's rounded top-left corner
    assert boxed.features.scale == 200 / 100  # the 100 px wide crop, not the 150 px image
    unboxed = CONFIG.with_overrides(use_bbox=False)  # boxes ignored: same key as no box
    plain = _cache(tmp_path / "cache", unboxed)
    result = extract_one(image, (20.4, 9.6, 100.0, 80.0), unboxed, plain)
    assert (plain.hits, plain.misses) == (0, 1)  # use_bbox is a feature setting: new folder
    assert result.features is not None and result.features.offset == (0.0, 0.0)


def test_content_hash_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"photoid" * 1000)
    assert content_hash(path) == hashlib.sha256(b"photoid" * 1000).hexdigest()


@pytest.mark.parametrize("use_cache", [True, False])
def test_unreadable_and_missing_images_give_an_error(tmp_path: Path, use_cache: bool) -> None:
    cache = _cache(tmp_path / "cache") if use_cache else None
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture", encoding="utf-8")
    bad = extract_one(text, None, CONFIG, cache)
    assert bad.features is None
    assert bad.error is not None and "notes.jpg" in bad.error
    missing = extract_one(tmp_path / "gone.jpg", None, CONFIG, cache)
    assert missing.features is None
    assert missing.error is not None and "gone.jpg" in missing.error


def test_extract_many_keeps_order_and_reports_progress(tmp_path: Path) -> None:
    paths = [_image(tmp_path / f"{i}.png", seed=i) for i in range(3)]
    text = tmp_path / "bad.jpg"
    text.write_text("x", encoding="utf-8")
    steps: list[int] = []
    results = extract_many(
        [*paths, text], [None] * 4, CONFIG, None, workers=2, progress=steps.append
    )
    assert steps == [1, 1, 1, 1]
    assert [r.error is None for r in results] == [True, True, True, False]
    for path, result in zip(paths, results, strict=False):
        _same(result.features, extract_one(path, None, CONFIG, None).features)
