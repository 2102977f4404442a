"""A detector from what the user has: a run folder of ``photoid detector train``, one of its
checkpoints, or the weights file (a state dict) of a public detector whose architecture
torchvision or timm builds, named by the ``architecture`` setting.

No weights are downloaded here: the backbone's own pretrained weights are not needed when the
whole detector's weights are loaded.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from photoid.deep.checkpoints import run_checkpoint
from photoid.detect.config import DetectorConfig, detector_config, resolve_detector_config
from photoid.detect.model import build_detector, classes_in
from photoid.detect.train import CONFIG_FILE
from photoid.errors import PhotoidError

_WRAPPERS = ("state_dict", "model_state_dict", "model", "ema", "weights")


def load_network(
    source: Path, overrides: list[str] | None = None
) -> tuple[nn.Module, DetectorConfig, str]:
    """The network (evaluation mode, on the CPU), its settings, and a line saying what was
    loaded. ``overrides`` (``key=value``) change the settings of use (``score_threshold``,
    ``image_size``, ``animal_classes``) and, for a weights file, name its ``architecture``."""
    if source.is_dir():
        if not (source / CONFIG_FILE).is_file():
            raise PhotoidError(
                f"{source}: not a detector run folder (no {CONFIG_FILE}); give the folder "
                "`photoid detector train --out` wrote, a .ckpt file or a weights file"
            )
        checkpoint = run_checkpoint(source)
        return _from_checkpoint(checkpoint, overrides, f"{source} ({checkpoint.name})")
    if not source.is_file():
        raise PhotoidError(f"{source}: no such detector run folder or weights file")
    if source.suffix == ".ckpt":
        return _from_checkpoint(source, overrides, str(source))
    return _from_weights(source, overrides)


def _from_checkpoint(
    checkpoint: Path, overrides: list[str] | None, what: str
) -> tuple[nn.Module, DetectorConfig, str]:
    state = _read(checkpoint, weights_only=False)
    try:
        saved = state["hyper_parameters"]["config"]
        weights = state["state_dict"]
    except (KeyError, TypeError):
        raise PhotoidError(
            f"{checkpoint}: not a checkpoint of `photoid detector train` (no config or "
            "state_dict); a public detector's weights file loads with --set architecture=NAME"
        ) from None
    trained = detector_config(saved, source=str(checkpoint))
    config = resolve_detector_config(None, overrides, base=trained.to_dict())
    model = build_detector(replace(config, pretrained=False, weights=None))
    prefix = "model."
    _load(model, {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}, what)
    return model.eval(), config, f"detector {what}"


def _from_weights(
    source: Path, overrides: list[str] | None
) -> tuple[nn.Module, DetectorConfig, str]:
    config = resolve_detector_config(None, overrides)
    weights = _state_dict(_read(source, weights_only=True), source)
    classes = classes_in(weights, config.architecture) or config.classes
    model = build_detector(replace(config, pretrained=False, weights=None), classes)
    _load(model, weights, str(source))
    described = config.architecture if config.own else f"torchvision {config.architecture}"
    return model.eval(), replace(config, classes=classes), f"{described} weights {source}"


def _read(path: Path, *, weights_only: bool) -> Any:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types
            raise PhotoidError(f"{path}: cannot read the safetensors file ({exc})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError:
        raise PhotoidError(
            f"{path}: a pickled model, not a weights file (state dict); YOLO-family files "
            "(MegaDetector v5, Ultralytics) hold whole models torchvision cannot build. Save "
            "the state_dict() of a torchvision or timm-built detector instead"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise PhotoidError(f"{path}: cannot read the weights ({exc})") from None


def _state_dict(loaded: Any, source: Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, unwrapped from the usual containers (``state_dict``,
    ``model``, ...) and from Lightning's ``model.`` prefix."""
    for _ in range(3):
        if isinstance(loaded, dict):
            inner = next((loaded[k] for k in _WRAPPERS if isinstance(loaded.get(k), dict)), None)
            if inner is not None:
                loaded = inner
                continue
        break
    if not isinstance(loaded, dict) or not all(
        isinstance(v, torch.Tensor) for v in loaded.values()
    ):
        raise PhotoidError(f"{source}: holds no state dict of tensors")
    if all(str(k).startswith("model.") for k in loaded):
        loaded = {str(k)[len("model.") :]: v for k, v in loaded.items()}
    return {str(k): v for k, v in loaded.items()}


def _load(model: nn.Module, weights: dict[str, torch.Tensor], what: str) -> None:
    try:
        result = model.load_state_dict(weights, strict=False)
    except RuntimeError as exc:  # a tensor of the wrong shape
        first = str(exc).strip().splitlines()[-1].strip()
        raise PhotoidError(
            f"{what}: the weights do not fit the architecture ({first}); check the "
            "architecture, backbone, fpn_channels and classes settings"
        ) from None
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if missing or unexpected:
        shown = ", ".join((missing + unexpected)[:4])
        raise PhotoidError(
            f"{what}: the weights do not fit the architecture ({len(missing)} missing, "
            f"{len(unexpected)} unexpected entries, e.g. {shown}); check the architecture, "
            "backbone, fpn_channels and classes settings"
        )
