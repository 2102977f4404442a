"""Settings of the pretrained-embedder engine (``--set pretrained.NAME=VALUE``): one frozen
dataclass with every default, light to import (no torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from photoid.devices import check_device_name
from photoid.errors import PhotoidError

PREFIX = "pretrained."
"""``--set pretrained.NAME=VALUE`` sets this engine's NAME."""


@dataclass(frozen=True)
class PretrainedConfig:
    """A timm model used as it is, with no training (zero-shot, as wildlife-tools uses
    MegaDescriptor).

    ``model``: a timm name (``swin_large_patch4_window12_384``) or an ``hf-hub:`` name
    (``hf-hub:BVRA/MegaDescriptor-L-384``, fetched from the Hugging Face hub: online only).
    ``weights``: a local ``.safetensors``, ``.pth``/``.pt``/``.bin`` state dict, timm checkpoint
    or Lightning checkpoint; None downloads the model's own pretrained weights. ``prefix``: the
    key prefix to strip from the file's tensor names (``model.`` of a Lightning module); None
    finds the one that fits the model, ``""`` strips nothing. ``image_size``: side, px, of the
    square input (None: the model's pretrained input size). ``mean``, ``std``: the RGB
    normalisation, three comma-separated numbers for pixels scaled to [0, 1] (None: the model's
    pretrained config; MegaDescriptor was trained with ``0.5,0.5,0.5`` for both, which a timm
    architecture name without its hub config does not know). ``device``: ``auto`` (CUDA when
    present), ``cpu`` or ``cuda[:N]``; ``batch``: photos per forward pass; ``use_bbox``: crop
    photos to their box.
    """

    model: str = ""
    weights: str | None = None
    prefix: str | None = None
    image_size: int | None = None
    mean: str | None = None
    std: str | None = None
    device: str = "auto"
    batch: int = 32
    use_bbox: bool = True

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise PhotoidError("pretrained.batch must be at least 1")
        if self.image_size is not None and self.image_size < 1:
            raise PhotoidError("pretrained.image_size must be a positive number of pixels")
        for name in ("mean", "std"):
            channels(getattr(self, name), name)
        check_device_name(self.device, "pretrained.device")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def channels(text: str | None, name: str) -> tuple[float, float, float] | None:
    """``"0.5,0.5,0.5"`` -> ``(0.5, 0.5, 0.5)``; None stays None. Raises PhotoidError unless
    three numbers (``std``: positive ones)."""
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or (name == "std" and min(values) <= 0):
        raise PhotoidError(
            f"pretrained.{name}={text!r}: give three comma-separated numbers, one per RGB "
            f"channel{' (positive)' if name == 'std' else ''}, e.g. 0.5,0.5,0.5"
        )
    return values[0], values[1], values[2]
