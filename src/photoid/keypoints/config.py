"""Settings of the learned-keypoint engine, one frozen dataclass with every default."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from photoid.devices import check_device_name
from photoid.errors import PhotoidError
from photoid.local.config import Aggregate, Geometry

Matcher = Literal["lightglue", "mutual"]
EXTRACTORS: tuple[str, ...] = ("aliked-n16", "aliked-n16rot", "aliked-n32", "disk")
MATCHERS: tuple[str, ...] = ("lightglue", "mutual")
PREFIX = "keypoints."
"""``--set keypoints.NAME=VALUE`` sets this engine's NAME (plain names go to the local engine)."""

# Settings that change the stored keypoints and descriptors (the feature cache key); one left
# unset (None) is left out of the key, so caches made before it existed stay valid.
FEATURE_FIELDS: tuple[str, ...] = ("extractor", "side", "max_upscale", "max_keypoints", "use_bbox")


@dataclass(frozen=True)
class KeypointConfig:
    """Learned-keypoint settings.

    ``side``: the longest side, px, the animal is resized to before extraction: its box when
    ``use_bbox`` and the photo has one (so a 300 px animal in a 2,500 px frame is seen at
    ``side`` px, not shrunk with the frame), else the whole frame. ``max_upscale``: a smaller
    animal is enlarged at most this many times (a 130 px crop is seen at 260 px with 2, not
    blown up to ``side``); None enlarges it to ``side``. ``max_keypoints``: the
    keypoint budget per photo (the strongest detections). ``shortlist``: gallery photos, best
    first by the RootSIFT engine, that are matched and re-ranked. ``matcher``: LightGlue
    (Lindenberger et al., ICCV 2023) or mutual nearest neighbours with a ratio test
    (``ratio``). ``ransac_threshold`` is in px of the resized images. A verified pair counts
    only with ``min_inliers`` inliers, a scale change of at most ``max_scale_change`` and
    inliers covering ``min_spread`` of both photos' keypoint areas. ``background``: a query
    keypoint verified against photos of several identities is scenery, not the animal, and
    weighs 1 / (number of those identities). ``scenery``: when a photo joins the gallery it is
    matched against its ``shortlist`` of other individuals' photos, and each of its keypoints
    that verifies against ``m`` of them weighs ``(1 + m) ** -scenery`` in later matches (0: off;
    shared sites and landmarks stop counting as the animal). ``device``: ``auto`` (CUDA when
    present), ``cpu`` or ``cuda[:N]``; ``batch``: photos per extraction batch and pairs per
    LightGlue batch.
    """

    extractor: str = "aliked-n16"
    side: int = 512
    max_upscale: float | None = None
    max_keypoints: int = 512
    use_bbox: bool = True
    matcher: Matcher = "mutual"
    ratio: float = 0.95
    filter_threshold: float = 0.1
    shortlist: int = 10
    geometry: Geometry = "similarity"
    ransac_threshold: float = 20.0
    min_inliers: int = 6
    max_scale_change: float = 4.0
    min_spread: float = 0.0
    background: bool = True
    scenery: float = 0.0
    aggregate: Aggregate = "top2"
    device: str = "auto"
    batch: int = 16
    top: int = 5

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise PhotoidError(
                f"keypoints.extractor {self.extractor!r}: choose one of {', '.join(EXTRACTORS)}"
            )
        if self.matcher not in MATCHERS:
            raise PhotoidError(
                f"keypoints.matcher {self.matcher!r}: choose one of {', '.join(MATCHERS)}"
            )
        for name in ("side", "max_keypoints", "shortlist", "min_inliers", "batch", "top"):
            if getattr(self, name) < 1:
                raise PhotoidError(f"keypoints.{name} must be at least 1")
        if self.max_upscale is not None and self.max_upscale < 1.0:
            raise PhotoidError("keypoints.max_upscale must be at least 1")
        if self.scenery < 0.0:
            raise PhotoidError("keypoints.scenery must be at least 0 (0: off)")
        if self.max_scale_change < 1.0:
            raise PhotoidError("keypoints.max_scale_change must be at least 1")
        if not 0.0 < self.ratio <= 1.0 or not 0.0 <= self.min_spread < 1.0:
            raise PhotoidError("keypoints.ratio must be in (0, 1], min_spread in [0, 1)")
        check_device_name(self.device, "keypoints.device")

    def fingerprint(self) -> str:
        """Short hash of the settings that change the features (the cache folder's name)."""
        values = {name: getattr(self, name) for name in FEATURE_FIELDS}
        chosen = {name: value for name, value in values.items() if value is not None}
        text = json.dumps({"engine": "keypoints", **chosen}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> KeypointConfig:
        """A copy with ``overrides`` applied; ``None`` values dropped, unknown keys refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise PhotoidError(
                f"unknown keypoint setting(s) {', '.join(unknown)}; known: {sorted(known)}"
            )
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})
