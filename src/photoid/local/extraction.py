"""Features of many images: cached, in parallel threads, bad images skipped with a warning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from photoid.core import Box
from photoid.data.images import load_image
from photoid.errors import ImageLoadError
from photoid.local.cache import FeatureCache, cache_key, content_hash
from photoid.local.config import LocalConfig
from photoid.local.features import Features, extract


@dataclass(frozen=True)
class Extracted:
    """Features of one image, or why there are none (``features`` is None, ``error`` says why)."""

    features: Features | None
    error: str | None


def extract_one(
    path: Path, bbox: Box | None, config: LocalConfig, cache: FeatureCache | None
) -> Extracted:
    """Load (cropped to ``bbox`` when the config uses boxes), describe, and cache one image."""
    box = bbox if config.use_bbox else None
    try:
        key = cache_key(content_hash(path), box) if cache is not None else ""
        if cache is not None and (hit := cache.get(key)) is not None:
            return Extracted(hit, None)
        pixels = load_image(path, bbox=box)
    except (ImageLoadError, OSError) as exc:
        return Extracted(None, str(exc))
    offset = (max(0.0, round(box[0])), max(0.0, round(box[1]))) if box else (0.0, 0.0)
    features = extract(pixels, config, offset=(float(offset[0]), float(offset[1])))
    if cache is not None:
        cache.put(key, features)
    return Extracted(features, None)


def extract_many(
    paths: Sequence[Path],
    bboxes: Sequence[Box | None],
    config: LocalConfig,
    cache: FeatureCache | None,
    *,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> list[Extracted]:
    """:func:`extract_one` for every image, in order; ``progress(1)`` after each image."""

    def job(item: tuple[Path, Box | None]) -> Extracted:
        result = extract_one(item[0], item[1], config, cache)
        if progress is not None:
            progress(1)
        return result

    items = list(zip(paths, bboxes, strict=True))
    if workers <= 1 or len(items) < 2:
        return [job(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, items))
