"""Reading a local weights file (safetensors or torch state dict) into a model, offline.

Loading is lenient (``strict=False``) so a classifier checkpoint fits a headless backbone, but
every key left out is reported in a ``LoadReport`` and logged, and a file of which no tensor fits
the model is an error naming the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from photoid.errors import PhotoidError

log = logging.getLogger(__name__)

_NESTED_KEYS = ("state_dict", "model")
_SHOWN_KEYS = 5


@dataclass(frozen=True)
class LoadReport:
    """What a weights file gave a model: tensors loaded, and keys that did not fit."""

    path: Path
    loaded: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[str, ...]

    def summary(self) -> str:
        """One line: counts, and the first few keys of each kind that did not fit."""
        parts = [f"{self.path}: loaded {self.loaded} tensors"]
        for label, keys in (
            ("missing from file", self.missing),
            ("unused from file", self.unexpected),
            ("shape mismatch", self.mismatched),
        ):
            if keys:
                shown = ", ".join(keys[:_SHOWN_KEYS]) + (", ..." if len(keys) > _SHOWN_KEYS else "")
                parts.append(f"{len(keys)} {label} ({shown})")
        return "; ".join(parts)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a torch pickle (.pt/.pth/.bin), on CPU.

    A torch file may hold the state dict itself or nest it under "state_dict" or "model"; a
    "module." prefix (DataParallel) is stripped. Raises PhotoidError naming the file if it is
    missing, unreadable, or holds no tensors.
    """
    if not path.is_file():
        raise PhotoidError(f"{path}: weights file not found")
    try:
        if path.suffix == ".safetensors":
            raw: object = load_file(str(path), device="cpu")
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise PhotoidError(
            f"{path}: cannot read weights ({type(error).__name__}: {error}); expected a "
            ".safetensors file or a torch state dict (.pt/.pth/.bin)"
        ) from error
    for key in _NESTED_KEYS:
        if isinstance(raw, dict) and isinstance(raw.get(key), dict):
            raw = raw[key]
    if not isinstance(raw, dict):
        raise PhotoidError(f"{path}: holds a {type(raw).__name__}, not a dict of tensors")
    tensors = {
        str(name).removeprefix("module."): value
        for name, value in raw.items()
        if isinstance(value, torch.Tensor)
    }
    if not tensors:
        raise PhotoidError(f"{path}: holds no tensors")
    return tensors


def load_weights(model: nn.Module, path: Path) -> LoadReport:
    """Copy the tensors of ``path`` whose name and shape match into ``model``, in place.

    Raises PhotoidError naming the file when none match (wrong architecture or file).
    """
    tensors = read_state_dict(path)
    own = model.state_dict()
    mismatched = tuple(
        name for name, value in tensors.items() if name in own and own[name].shape != value.shape
    )
    fitting = {
        name: value for name, value in tensors.items() if name in own and name not in mismatched
    }
    if not fitting:
        raise PhotoidError(
            f"{path}: no tensor matches the model (file keys start {sorted(tensors)[:3]}, model "
            f"keys start {sorted(own)[:3]}); is it the weights of another architecture?"
        )
    result = model.load_state_dict(fitting, strict=False)
    report = LoadReport(
        path=path,
        loaded=len(fitting),
        missing=tuple(result.missing_keys),
        unexpected=tuple(name for name in tensors if name not in own),
        mismatched=mismatched,
    )
    if report.missing or report.unexpected or report.mismatched:
        log.warning("%s", report.summary())
    return report
