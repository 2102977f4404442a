"""Where a network runs: one rule for every ``device`` setting (``auto``, ``cpu``, ``cuda``,
``cuda:N``)."""

from __future__ import annotations

import torch

from photoid.errors import PhotoidError


def resolve_device(name: str, setting: str = "device") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cpu``/``cuda``/``cuda:N`` checked.
    ``setting`` names the setting in the error (``keypoints.device``)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise PhotoidError(f"{setting}={name}: use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PhotoidError(f"{setting}={name}: no CUDA device here; use {setting}=cpu or auto")
    return device
