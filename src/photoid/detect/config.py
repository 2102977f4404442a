"""Every setting of a detector in one frozen dataclass: training (``photoid detector train``)
and use (``photoid detect``), with the defaults, YAML files and ``key=value`` overrides of
``photoid train`` (:mod:`photoid.train.config`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from photoid.errors import PhotoidError
from photoid.train.config import build_settings, read_settings

ARCHITECTURES: tuple[str, ...] = ("fcos", "retinanet", "fasterrcnn")
"""Detectors photoid builds on a timm backbone with a feature pyramid of ``fpn_channels``."""


@dataclass(frozen=True)
class DetectorConfig:
    """Detector settings.

    ``architecture``: one of :data:`ARCHITECTURES` (built on the timm ``backbone``, its
    ImageNet weights fetched when ``pretrained``, or read from the local file ``weights``), or
    the name of a torchvision detection builder (``fasterrcnn_resnet50_fpn``,
    ``retinanet_resnet50_fpn_v2``, ``fcos_resnet50_fpn``, ...) for a public detector's weights
    file. ``classes``: the classes the model predicts besides the background (1 for photoid's
    own: the animal; a public model's count, read from its weights when left at 0).
    ``animal_classes``: the class numbers that count as an animal, comma separated (empty:
    every class; MegaDetector-style models: ``1``). ``image_size``: the longest side in pixels
    the detector sees. ``score_threshold``: detections below it are ignored by ``photoid
    detect``; ``several_iou``: two detections overlapping less than this are two animals, the
    second counted when it scores ``several_score`` or more (a detector's second-best box is
    most often a stone or a log: on the wide synthetic scenes, each showing one animal, 0.3
    flags 37% of the photos as showing several, 0.5 flags 4%).
    Training: ``train_crop`` > 0 trains on square crops of that many pixels of the shrunk photos
    (mostly around an animal, some anywhere): the detector learns at ``image_size`` for the
    cost of a smaller input, and still runs on whole photos; ``epochs``, ``batch_size`` photos
    per step, AdamW ``lr`` with ``warmup_epochs`` of
    linear warm-up then cosine decay, ``max_minutes`` of wall time at most (0: no limit),
    ``patience`` epochs without a better validation recall before stopping.
    """

    architecture: str = "fcos"
    backbone: str = "resnet18"
    pretrained: bool = False
    weights: str | None = None
    fpn_channels: int = 64
    head_convs: int = 2
    classes: int = 1
    animal_classes: str = ""
    image_size: int = 384
    score_threshold: float = 0.3
    several_iou: float = 0.3
    several_score: float = 0.5
    epochs: int = 12
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    scale_jitter: float = 0.3
    train_crop: int = 0
    precision: str = "auto"
    accelerator: str = "auto"
    devices: str = "auto"
    workers: int = 2
    seed: int = 0
    patience: int = 4
    checkpoint_every_steps: int = 50
    max_minutes: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fpn_channels", "head_convs", "image_size", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise PhotoidError(f"detector setting {name} must be at least 1")
        if self.architecture == "fcos" and self.fpn_channels % 32:
            raise PhotoidError(
                "detector setting fpn_channels must be a multiple of 32 for fcos (its head "
                f"normalises 32 groups of channels), got {self.fpn_channels}"
            )
        if self.classes < 0:
            raise PhotoidError("detector setting classes must be 0 (read from the weights) or more")
        shares = (self.score_threshold, self.several_score)
        if not all(0.0 <= v <= 1.0 for v in shares) or not 0.0 < self.several_iou <= 1.0:
            raise PhotoidError(
                "detector settings score_threshold, several_score and several_iou must lie "
                "between 0 and 1"
            )
        if self.train_crop < 0:
            raise PhotoidError("detector setting train_crop must be 0 (whole photos) or more")
        if not 0.0 <= self.scale_jitter < 1.0:
            raise PhotoidError("detector setting scale_jitter must lie in [0, 1)")
        if self.max_minutes < 0:
            raise PhotoidError("detector setting max_minutes must be 0 (no limit) or more")
        self.animal_numbers()  # fails early on a bad list

    @property
    def own(self) -> bool:
        """Whether photoid builds the model itself (a timm backbone) rather than torchvision."""
        return self.architecture in ARCHITECTURES

    def animal_numbers(self) -> frozenset[int] | None:
        """The class numbers counted as animals (None: every class)."""
        text = self.animal_classes.strip()
        if not text:
            return None
        try:
            return frozenset(int(part) for part in text.replace(";", ",").split(",") if part)
        except ValueError:
            raise PhotoidError(
                f"detector setting animal_classes must be class numbers like 1 or 16,17,18; "
                f"got {self.animal_classes!r}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self) -> str:
        """Short hash of every setting."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_detector_config(
    path: Path | None = None, overrides: list[str] | None = None, base: dict[str, Any] | None = None
) -> DetectorConfig:
    """``base`` (a saved run's settings) or the defaults, then the YAML file at ``path``, then
    ``key=value`` overrides. Unknown keys and mistyped values are an error naming them."""
    values = dict(base or {})
    values.update(read_settings(path, overrides))
    return detector_config(values, str(path) if path else "overrides")


def detector_config(values: dict[str, Any], source: str = "config") -> DetectorConfig:
    """A DetectorConfig from a plain dict (a run's ``config.yaml``, a checkpoint's)."""
    return build_settings(DetectorConfig, values, source, "detector")


def save_detector_config(config: DetectorConfig, path: Path) -> Path:
    """Write every setting as YAML, so a run can be repeated and loaded exactly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=True), encoding="utf-8")
    return path
