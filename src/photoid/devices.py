"""Where and how a network runs: one rule for every device setting (``auto``, ``cpu``,
``cuda``, ``cuda:N``) and every precision setting (``auto``, ``fp32``, ``bf16``, ``fp16``).

``auto`` precision is mixed precision on a GPU (bfloat16 where the GPU has it, else float16)
and float32 on the CPU, so a CPU run gives the same numbers as before; ``bf16`` also runs on the
CPU (to check a GPU run's tolerance here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from photoid.errors import PhotoidError

if TYPE_CHECKING:  # light at import time: torch loads with the first network
    import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DEVICE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")


def check_device_name(name: str, setting: str = "--device") -> str:
    """``name`` if it reads as a device setting (``auto``, ``cpu``, ``cuda``, ``cuda:N``),
    without asking the machine (:func:`resolve_device` does); a PhotoidError otherwise."""
    if not _DEVICE.fullmatch(name):
        raise PhotoidError(f"{setting} {name!r}: use auto, cpu, cuda or cuda:N")
    return name


def check_precision(precision: str, setting: str = "--precision") -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; a PhotoidError otherwise."""
    if precision not in PRECISIONS:
        raise PhotoidError(f"{setting} {precision!r}: use {', '.join(PRECISIONS)}")
    return precision


def resolve_device(name: str, setting: str = "device") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cpu``/``cuda``/``cuda:N`` checked.
    ``setting`` names the setting in the error (``keypoints.device``)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise PhotoidError(f"{setting}={name}: use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise PhotoidError(f"{setting}={name}: use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PhotoidError(f"{setting}={name}: no CUDA device here; use {setting}=cpu or auto")
    if device.type == "cuda" and device.index is not None:
        count = torch.cuda.device_count()
        if device.index >= count:
            raise PhotoidError(
                f"{setting}={name}: this machine has {count} CUDA device(s), cuda:0 to "
                f"cuda:{count - 1}"
            )
    return device


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype of ``precision`` on ``device``; None: float32 throughout."""
    import torch

    check_precision(precision, "precision")
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise PhotoidError("precision fp16 needs a CUDA device; on the CPU use bf16 or fp32")
    return torch.bfloat16 if precision == "bf16" else torch.float16


@contextmanager
def inference(device: torch.device, precision: str = "auto") -> Iterator[None]:
    """No gradients, and autocast to the dtype of ``precision`` on ``device`` where mixed."""
    import torch

    dtype = autocast_dtype(device, precision)
    with torch.inference_mode():
        if dtype is None:
            yield
        else:
            with torch.autocast(device.type, dtype=dtype):
                yield
