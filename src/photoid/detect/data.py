"""What a detector is trained and run on: whole photos (never cropped) shrunk so that their
longest side is the detector's ``image_size``, with their boxes in the shrunk pixels.

A photo with several boxes (one row per animal in ``metadata.csv``, the same ``image``) is one
training sample with every box. Photos that cannot be decoded are skipped with a warning naming
the file, as in training an embedder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import albumentations as A  # type: ignore[import-untyped]
import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import get_worker_info

from photoid.core import Box
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.errors import ImageLoadError, PhotoidError
from photoid.metrics.detection import corners

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Boxed:
    """One photo and the ``(N, 4)`` float32 boxes ``x0, y0, x1, y1`` of its animals (pixels
    of the photo as stored, EXIF orientation applied)."""

    path: Path
    boxes: np.ndarray


def boxed_photos(dataset: Dataset) -> list[Boxed]:
    """The photos of ``dataset`` that have a ``bbox``, each once with all of its boxes."""
    if "bbox" not in dataset.table.columns:
        raise PhotoidError(
            f"{dataset.root / 'metadata.csv'}: no bbox column; a detector learns from rows "
            "with a box x,y,w,h around the animal"
        )
    boxes: dict[str, list[Box]] = {}
    for image, box in zip(dataset.table["image"], dataset.table["bbox"], strict=True):
        if box is not None:
            boxes.setdefault(str(image), []).append(box)
    return [
        Boxed(dataset.root / image, corners(found).astype(np.float32))
        for image, found in boxes.items()
    ]


def train_transform(image_size: int, scale_jitter: float, seed: int, crop: int = 0) -> Any:
    """Shrink to ``image_size``, then flips, scale and position jitter, colour and blur, and with
    ``crop`` > 0 a ``crop`` px square (around an animal 4 times in 5, anywhere else); boxes
    follow (a box less than 30% visible afterwards is dropped)."""
    import cv2

    jitter = (1.0 - scale_jitter, 1.0 + scale_jitter)
    cropping = (
        [
            A.PadIfNeeded(crop, crop, border_mode=cv2.BORDER_CONSTANT, fill=0),
            A.OneOf(
                [A.AtLeastOneBBoxRandomCrop(crop, crop, p=0.8), A.RandomCrop(crop, crop, p=0.2)],
                p=1.0,
            ),
        ]
        if crop
        else []
    )
    transform = A.Compose(
        [
            A.LongestMaxSize(max_size=image_size),
            A.HorizontalFlip(p=0.5),
            A.Affine(scale=jitter, translate_percent=(-0.15, 0.15), fit_output=False, p=0.8),
            A.RandomBrightnessContrast(brightness_limit=0.25, contrast_limit=0.25, p=0.5),
            A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=25, val_shift_limit=15, p=0.4),
            A.GaussianBlur(blur_limit=(3, 5), p=0.15),
            *cropping,
        ],
        bbox_params=A.BboxParams(
            format="pascal_voc", label_fields=["labels"], min_visibility=0.3, clip=True
        ),
        seed=seed,
    )
    return transform


class BoxedImages(TorchDataset[tuple[torch.Tensor, dict[str, torch.Tensor]]]):
    """``(image, target)`` samples of :class:`Boxed` photos: ``image`` a ``(3, H, W)`` float32
    tensor in [0, 1] with its longest side ``image_size`` (a ``crop`` px square of it when
    augmenting with a ``crop``), ``target`` the torchvision detection
    target (``boxes`` ``(N, 4)`` x0, y0, x1, y1 in those pixels, ``labels`` all 1: the animal)
    plus ``scale`` (stored pixels per shrunk pixel) and ``index``. ``augment`` applies
    :func:`train_transform`. A photo that fails to decode is replaced by the next one."""

    def __init__(
        self,
        photos: Sequence[Boxed],
        image_size: int,
        *,
        augment: bool = False,
        scale_jitter: float = 0.3,
        seed: int = 0,
        crop: int = 0,
    ) -> None:
        if not photos:
            raise PhotoidError("no photo with a box to train or validate a detector on")
        self.photos = list(photos)
        self.image_size = image_size
        self.transform = train_transform(image_size, scale_jitter, seed, crop) if augment else None
        self._broken: set[int] = set()

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        for step in range(len(self.photos)):
            position = (index + step) % len(self.photos)
            if position in self._broken:
                continue
            try:
                pixels = load_image(self.photos[position].path)
            except ImageLoadError as exc:
                self._broken.add(position)
                logger.warning("skipping a photo the detector cannot read: %s", exc)
                continue
            return self._sample(position, pixels)
        raise PhotoidError("no photo of the detector's training rows can be read")

    def _sample(
        self, position: int, pixels: np.ndarray
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        height, width = pixels.shape[:2]
        boxes = _clipped(self.photos[position].boxes, width, height)
        if self.transform is not None:
            out = self.transform(image=pixels, bboxes=boxes, labels=[1] * len(boxes))
            pixels = out["image"]
            boxes = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
            scale = max(height, width) / self.image_size
        else:
            pixels, scale = shrink(pixels, self.image_size)
            boxes = boxes / scale
        target = {
            "boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.ones(len(boxes), dtype=torch.int64),
            "scale": torch.tensor(scale, dtype=torch.float32),
            "index": torch.tensor(position),
        }
        return to_tensor(pixels), target


def _clipped(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes clipped to the photo, the empty ones dropped."""
    clipped: np.ndarray = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height)
    keep = (clipped[:, 2] - clipped[:, 0] >= 1) & (clipped[:, 3] - clipped[:, 1] >= 1)
    kept: np.ndarray = clipped[keep]
    return kept


def shrink(pixels: np.ndarray, image_size: int) -> tuple[np.ndarray, float]:
    """``pixels`` resized so that the longest side is ``image_size`` (enlarged too), and the
    factor from the new pixels back to the old."""
    import cv2

    height, width = pixels.shape[:2]
    scale = max(height, width) / image_size
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    area = cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR
    resized: np.ndarray = cv2.resize(pixels, size, interpolation=area)
    return resized, scale


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 in [0, 1]."""
    writable = np.require(pixels, requirements=["C", "W"])  # copies a read-only array only
    return torch.from_numpy(writable).permute(2, 0, 1).float().div_(255.0)


class PhotoFrames(TorchDataset[tuple[torch.Tensor, float, str | None]]):
    """Photos to run a detector on: ``(image, scale, error)`` with ``image`` as in
    :class:`BoxedImages` (an empty ``(3, 0, 0)`` tensor and the reason when the photo cannot be
    decoded) and ``scale`` stored pixels per detector pixel."""

    def __init__(self, paths: Sequence[Path], image_size: int) -> None:
        self.paths = list(paths)
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, float, str | None]:
        try:
            pixels = load_image(self.paths[index])
        except ImageLoadError as exc:
            return torch.zeros(3, 0, 0), 1.0, str(exc)
        small, scale = shrink(pixels, self.image_size)
        return to_tensor(small), scale, None


def as_lists(batch: list[Any]) -> tuple[list[Any], ...]:
    """DataLoader ``collate_fn``: the samples' fields as lists (photos differ in size)."""
    return tuple(list(field) for field in zip(*batch, strict=True))


def seed_detector_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: each worker its own augmentation stream (see
    :func:`photoid.train.dataset.seed_worker`)."""
    info = get_worker_info()
    if info is None:
        raise PhotoidError("seed_detector_worker is a DataLoader worker_init_fn")
    dataset = info.dataset
    if isinstance(dataset, BoxedImages) and dataset.transform is not None:
        dataset.transform.set_random_seed(info.seed % 2**32)
