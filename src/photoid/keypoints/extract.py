"""Learned keypoints of photos: loaded, resized so the animal has ``side`` px, described in
batches on the chosen device, cached per photo (content hash + box + settings)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from photoid.core import Box
from photoid.data.images import load_image
from photoid.errors import ImageLoadError
from photoid.keypoints.config import KeypointConfig
from photoid.keypoints.models import extractor, resolve_device
from photoid.local.cache import FeatureCache, cache_key, content_hash
from photoid.local.extraction import Extracted
from photoid.local.features import Features


def resized(pixels: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """RGB ``(H, W, 3)`` uint8 resized so its longest side is ``side`` (area filter down,
    cubic up), and the factor (resized / original)."""
    longest = max(pixels.shape[:2])
    scale = side / longest if longest else 1.0
    if scale == 1.0:
        return pixels, 1.0
    interpolation = cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA
    out = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=interpolation)
    return out, scale


def target_side(shape: tuple[int, ...], config: KeypointConfig) -> int:
    """The longest side, px, an image of ``shape`` (H, W, ...) is resized to: ``config.side``,
    or less where that would enlarge it more than ``config.max_upscale`` times."""
    if config.max_upscale is None:
        return config.side
    return max(1, min(config.side, round(max(shape[:2]) * config.max_upscale)))


def describe(images: Sequence[np.ndarray], config: KeypointConfig) -> list[Features]:
    """Keypoints of resized RGB images, in batches of same-shaped images (points in px of each
    resized image; ``scale`` 1 and no offset: the caller sets them)."""
    device = str(resolve_device(config.device))
    model = extractor(config.extractor, config.max_keypoints, device)
    out: list[Features | None] = [None] * len(images)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, image in enumerate(images):
        by_shape.setdefault(image.shape, []).append(i)
    for members in by_shape.values():
        for start in range(0, len(members), config.batch):
            chunk = members[start : start + config.batch]
            stack = np.stack([images[i] for i in chunk])
            tensor = torch.from_numpy(stack).to(device).permute(0, 3, 1, 2).float() / 255.0
            with torch.inference_mode():
                found = model({"image": tensor})
            points = found["keypoints"].float().cpu().numpy()
            descriptors = found["descriptors"].float().cpu().numpy()
            height, width = stack.shape[1:3]
            for j, i in enumerate(chunk):
                out[i] = Features(
                    np.ascontiguousarray(points[j], np.float32),
                    np.ascontiguousarray(descriptors[j], np.float32),
                    1.0,
                    (0.0, 0.0),
                    (int(width), int(height)),
                )
    return [f for f in out if f is not None]


def extract_photos(
    paths: Sequence[Path],
    bboxes: Sequence[Box | None],
    config: KeypointConfig,
    cache: FeatureCache | None,
    progress: Callable[[int], None] | None = None,
) -> list[Extracted]:
    """Features of every photo, in order: from the cache, else extracted in batches of
    ``config.batch``; an unreadable photo gets its error instead."""
    results: list[Extracted | None] = [None] * len(paths)
    for start in range(0, len(paths), config.batch):
        pending: list[tuple[int, str, np.ndarray, float, tuple[float, float]]] = []
        for i in range(start, min(len(paths), start + config.batch)):
            box = bboxes[i] if config.use_bbox else None
            try:
                key = cache_key(content_hash(paths[i]), box) if cache is not None else ""
                if cache is not None and (hit := cache.get(key)) is not None:
                    results[i] = Extracted(hit, None)
                    continue
                pixels = load_image(paths[i], bbox=box)
            except (ImageLoadError, OSError) as exc:
                results[i] = Extracted(None, str(exc))
                continue
            image, scale = resized(pixels, target_side(pixels.shape, config))
            offset = (max(0.0, round(box[0])), max(0.0, round(box[1]))) if box else (0.0, 0.0)
            pending.append((i, key, image, scale, (float(offset[0]), float(offset[1]))))
        described = describe([p[2] for p in pending], config)
        for (i, key, _, scale, offset), found in zip(pending, described, strict=True):
            features = Features(found.points, found.descriptors, scale, offset, found.size)
            if cache is not None:
                cache.put(key, features)
            results[i] = Extracted(features, None)
        if progress is not None:
            progress(min(len(paths), start + config.batch) - start)
    return [r if r is not None else Extracted(None, "not extracted") for r in results]
