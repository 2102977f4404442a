"""Settings of the local-feature engine, one frozen dataclass with every default."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

from photoid.errors import PhotoidError

Geometry = Literal["similarity", "affine", "homography"]
IndexKind = Literal["auto", "exact", "ivf", "hnsw"]
Aggregate = Literal["max", "top2", "top3"]
Matching = Literal["lnbnn", "ratio", "mutual"]
RetrievalKind = Literal["auto", "single", "two_stage"]

# Settings that change the stored keypoints and descriptors (the feature cache key).
FEATURE_FIELDS: tuple[str, ...] = (
    "detector",
    "max_side",
    "clahe",
    "max_keypoints",
    "contrast_threshold",
    "use_bbox",
)


@dataclass(frozen=True)
class LocalConfig:
    """Local-feature identification settings.

    Image sizes and RANSAC thresholds are in pixels of the resized image (longest side
    ``max_side``). ``knn`` is HotSpotter's K: each query descriptor votes for its K nearest
    gallery descriptors, weighted by the distance to the (K+1)-th minus the distance to the match.
    """

    detector: str = "rootsift"
    max_side: int = 512
    clahe: bool = False
    max_keypoints: int = 1000
    contrast_threshold: float = 0.04
    use_bbox: bool = True
    knn: int = 5
    shortlist: int = 100
    matching: Matching = "lnbnn"
    unique_pairs: bool = True
    unique_locations: bool = False
    ratio: float = 0.85
    geometry: Geometry = "similarity"
    ransac_threshold: float = 30.0
    min_inliers: int = 4
    max_scale_change: float = 6.0
    min_spread: float = 0.001
    aggregate: Aggregate = "top2"
    viewpoint_aware: bool = False
    index: IndexKind = "auto"
    approximate_above: int = 50_000
    ivf_above: int = 3_000_000
    ivf_probes: int = 16
    retrieval: RetrievalKind = "auto"
    two_stage_above: int = 1_000
    first_stage_index: str = "auto"
    first_stage_keypoints: int = 400
    first_stage_probes: int = 32
    first_stage_depth: int = 32
    first_stage_photos: int = 300
    top: int = 5

    def __post_init__(self) -> None:
        positive = (
            "max_side",
            "max_keypoints",
            "knn",
            "shortlist",
            "top",
            "ivf_probes",
            "two_stage_above",
            "first_stage_keypoints",
            "first_stage_probes",
            "first_stage_depth",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise PhotoidError(f"local engine: {name} must be at least 1")
        if self.retrieval not in get_args(RetrievalKind):
            raise PhotoidError(
                f"local engine: retrieval must be one of {', '.join(get_args(RetrievalKind))}, "
                f"got {self.retrieval!r}"
            )
        if self.first_stage_photos < 0:
            raise PhotoidError("local engine: first_stage_photos must be at least 0 (0: all)")
        if self.first_stage_keypoints > 4096:
            raise PhotoidError("local engine: first_stage_keypoints must be at most 4096")
        if not 0.0 < self.ratio <= 1.0:
            raise PhotoidError("local engine: ratio must be in (0, 1]")
        if self.max_scale_change < 1.0:
            raise PhotoidError("local engine: max_scale_change must be at least 1")
        if not 0.0 <= self.min_spread < 1.0:
            raise PhotoidError("local engine: min_spread must be in [0, 1)")

    def fingerprint(self, names: tuple[str, ...] = FEATURE_FIELDS) -> str:
        """Short hash of the named settings (by default those that change the features)."""
        chosen = {name: getattr(self, name) for name in names}
        text = json.dumps(chosen, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> LocalConfig:
        """A copy with ``overrides`` applied; ``None`` values are dropped, unknown keys refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise PhotoidError(
                f"unknown local-engine setting(s) {', '.join(unknown)}; known: {sorted(known)}"
            )
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def parse_overrides(pairs: list[str], defaults: Any = None) -> dict[str, Any]:
    """``["shortlist=50", "clahe=true"]`` -> typed overrides of ``defaults`` (a settings
    dataclass instance; default :class:`LocalConfig`).

    Values are converted to each setting's type; unknown keys and bad values are refused.
    """
    defaults = LocalConfig() if defaults is None else defaults
    types = {f.name: _kind(defaults, f.name) for f in fields(defaults)}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise PhotoidError(
                f"bad setting {pair!r}: use KEY=VALUE with KEY one of {', '.join(sorted(types))}"
            )
        out[key] = _convert(key, text.strip(), types[key])
    return out


def _kind(defaults: Any, name: str) -> type:
    """The type a setting's text converts to: its default's, or for a setting that may be
    None (``float | None``), the other type of its annotation."""
    value = getattr(defaults, name)
    if value is not None:
        return type(value)
    hinted = get_type_hints(type(defaults))[name]
    return next(a for a in get_args(hinted) if a is not type(None))  # type: ignore[no-any-return]


def _convert(key: str, text: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        if kind is tuple:  # whole numbers, comma-separated: scales=768,1024
            return tuple(int(part) for part in text.split(",") if part.strip())
        return kind(text)
    except ValueError:
        raise PhotoidError(f"setting {key}: {text!r} is not a valid {kind.__name__}") from None


def default_cache_dir() -> Path:
    """``$PHOTOID_CACHE`` or ``~/.cache/photoid``; features go in its ``features`` folder."""
    root = os.environ.get("PHOTOID_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "photoid") / "features"
