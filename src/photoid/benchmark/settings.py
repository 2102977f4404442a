"""Per-dataset settings of the local-feature engine in benchmarks (the deep engine's are in
:mod:`photoid.train.recipes`), keyed by the dataset's folder name."""

from __future__ import annotations

from typing import Any

from photoid.local.config import LocalConfig

LOCAL_SETTINGS: dict[str, dict[str, Any]] = {
    # Its bbox column is in video-frame coordinates, not in the stored crops: use them whole.
    "KoiVideo": {"use_bbox": False},
    # Field photos before detection: whole frames, where shared scenery misleads matchers
    # (cropped to their boxes, RootSIFT alone scores top-1 0.978 on them).
    "field": {"use_bbox": False},
}


def local_settings(name: str) -> tuple[LocalConfig, tuple[str, ...]]:
    """The local engine's config for dataset ``name`` and its changes from ``LocalConfig()`` as
    ``key=value`` texts (``("use_bbox=false",)``; empty for the defaults)."""
    overrides = LOCAL_SETTINGS.get(name, {})
    texts = tuple(f"{key}={_text(value)}" for key, value in overrides.items())
    return LocalConfig().with_overrides(**overrides), texts


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
