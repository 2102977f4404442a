"""Running a detector: the animals in each photo, and ``photoid detect`` writing them into a
dataset's ``metadata.csv``.

Columns written: ``bbox`` (the best detection, x,y,w,h in the photo's pixels; a user's own box
stays unless ``replace`` is asked), ``detection_score`` (the best detection's score, empty
without one), ``detections`` (how many animals the detector sees: detections at or above
``score_threshold`` that overlap each other less than ``several_iou``, each after the best
scoring ``several_score`` or more) and ``detection_flag``
(``no_animal``, ``several``, ``unreadable`` or empty).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from photoid.core import Box
from photoid.data.table import Dataset, save_metadata
from photoid.detect.animals import animals
from photoid.detect.config import DetectorConfig
from photoid.detect.data import PhotoFrames, as_lists
from photoid.detect.load import load_network
from photoid.devices import inference, resolve_device

NO_ANIMAL, SEVERAL, UNREADABLE = "no_animal", "several", "unreadable"


@dataclass(frozen=True)
class Found:
    """The animals a detector sees in one photo: ``boxes`` ``(N, 4)`` x, y, w, h in the photo's
    pixels and their ``scores``, best first (one box per animal: see :func:`animals`);
    ``error`` the reason when the photo cannot be read."""

    boxes: np.ndarray
    scores: np.ndarray
    error: str | None = None

    @property
    def box(self) -> Box | None:
        """The best box, rounded to whole pixels, or None."""
        if not len(self.boxes):
            return None
        x, y, w, h = (round(float(v)) for v in self.boxes[0])
        return (x, y, max(1, w), max(1, h))

    @property
    def score(self) -> float | None:
        return float(self.scores[0]) if len(self.scores) else None

    @property
    def flag(self) -> str:
        if self.error is not None:
            return UNREADABLE
        return NO_ANIMAL if not len(self.boxes) else SEVERAL if len(self.boxes) > 1 else ""


class Detector:
    """A loaded detection network with its settings; :meth:`find` runs it on photo files."""

    def __init__(self, network: nn.Module, config: DetectorConfig, description: str) -> None:
        self.network = network
        self.config = config
        self.description = description
        self.device = torch.device("cpu")
        self.precision = "auto"

    @classmethod
    def load(cls, source: Path, overrides: list[str] | None = None) -> Detector:
        """See :func:`photoid.detect.load.load_network`."""
        return cls(*load_network(source, overrides))

    def use_device(self, device: str = "auto", precision: str = "auto") -> Detector:
        self.device = resolve_device(device)
        self.precision = precision
        self.network.to(self.device)
        return self

    def find(
        self,
        paths: Sequence[Path],
        *,
        batch_size: int = 8,
        workers: int = 2,
        progress: Callable[[int], None] | None = None,
    ) -> list[Found]:
        """The animals in each photo, in order (:class:`Found`)."""
        frames = PhotoFrames(paths, self.config.image_size)
        loader = DataLoader(frames, batch_size=batch_size, num_workers=workers, collate_fn=as_lists)
        wanted = self.config.animal_numbers()
        found: list[Found] = []
        for images, scales, errors in loader:
            readable = [i for i, e in enumerate(errors) if e is None]
            outputs: list[dict[str, torch.Tensor]] = []
            if readable:
                batch = [images[i].to(self.device) for i in readable]
                with inference(self.device, self.precision):
                    outputs = self.network(batch)
            by_position = dict(zip(readable, outputs, strict=True))
            for position, (scale, error) in enumerate(zip(scales, errors, strict=True)):
                output = by_position.get(position)
                if output is None:
                    found.append(Found(np.zeros((0, 4)), np.zeros(0), error))
                    continue
                found.append(self._found(output, float(scale), wanted))
            if progress is not None:
                progress(len(images))
        return found

    def _found(
        self, output: dict[str, torch.Tensor], scale: float, wanted: frozenset[int] | None
    ) -> Found:
        corners = output["boxes"].float().cpu().numpy().astype(np.float64) * scale
        scores = output["scores"].float().cpu().numpy().astype(np.float64)
        if wanted is not None:
            keep = np.isin(output["labels"].cpu().numpy(), list(wanted))
            corners, scores = corners[keep], scores[keep]
        config = self.config
        corners, scores = animals(
            corners, scores, config.score_threshold, config.several_iou, config.several_score
        )
        boxes = np.concatenate([corners[:, :2], corners[:, 2:] - corners[:, :2]], axis=1)
        return Found(boxes, scores)


@dataclass(frozen=True)
class DetectSummary:
    """What ``photoid detect`` did: photos looked at, boxes written, user boxes kept, and the
    images flagged ``no_animal``, ``several`` or ``unreadable``."""

    photos: int
    written: int
    kept: int
    flagged: dict[str, list[str]]
    metadata: Path


def detect_dataset(
    dataset: Dataset,
    detector: Detector,
    *,
    replace: bool = False,
    batch_size: int = 8,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> DetectSummary:
    """Run ``detector`` on every photo of ``dataset`` and rewrite its ``metadata.csv`` with the
    columns of this module; rows sharing an image are detected once. A row's own ``bbox`` is
    kept unless ``replace``; its detection columns are written either way."""
    table = dataset.table.copy()
    images = list(dict.fromkeys(str(i) for i in table["image"]))
    found = dict(
        zip(
            images,
            detector.find(
                [dataset.root / i for i in images],
                batch_size=batch_size,
                workers=workers,
                progress=progress,
            ),
            strict=True,
        )
    )
    own = list(table["bbox"]) if "bbox" in table.columns else [None] * len(table)
    boxes, scores, counts, flags = [], [], [], []
    written = kept = 0
    for image, box in zip(table["image"], own, strict=True):
        seen = found[str(image)]
        if box is not None and not replace:
            boxes.append(box)
            kept += 1
        else:
            boxes.append(seen.box)
            written += seen.box is not None
        scores.append("" if seen.score is None else f"{seen.score:.3f}")
        counts.append("" if seen.error else str(len(seen.boxes)))
        flags.append(seen.flag)
    table["bbox"] = boxes
    table["detection_score"], table["detections"], table["detection_flag"] = scores, counts, flags
    flagged: dict[str, list[str]] = {NO_ANIMAL: [], SEVERAL: [], UNREADABLE: []}
    for image in images:
        if found[image].flag:
            flagged[found[image].flag].append(image)
    path = save_metadata(table, dataset.root)
    return DetectSummary(len(images), written, kept, flagged, path)
