"""A pretrained timm model used as it is, with no training (zero-shot re-identification, as
wildlife-tools uses MegaDescriptor: Čermák et al., WACV 2024), with its own preprocessing.

Weights come from a local file (offline: ``.safetensors``, a torch state dict, a timm or a
Lightning checkpoint, a key prefix stripped) or, without one, from the model's hub (online).
Unlike :func:`photoid.models.weights.load_weights`, loading is strict: a file that leaves
any of the model's tensors unset is refused, naming the keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import timm
import torch
import torch.nn.functional as F
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.backbone import check_model_name
from photoid.models.weights import read_state_dict

_SHOWN_KEYS = 5
_INTERPOLATIONS = {"nearest": 0, "bilinear": 1, "bicubic": 2, "area": 3, "lanczos": 4}
"""timm's interpolation names -> OpenCV flags (cv2.INTER_*)."""


@dataclass(frozen=True)
class Preprocessing:
    """How photos become the model's input: resized to ``size`` (height, width) px with
    ``interpolation``, scaled to [0, 1] and normalised by ``mean`` and ``std`` per RGB channel."""

    size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"

    def transform(self) -> Any:
        """An albumentations pipeline: RGB uint8 (H, W, 3) -> float32 tensor (3, *size)."""
        import albumentations as A  # type: ignore[import-untyped]
        from albumentations.pytorch import ToTensorV2  # type: ignore[import-untyped]

        return A.Compose(
            [
                A.Resize(*self.size, interpolation=_INTERPOLATIONS.get(self.interpolation, 1)),
                A.Normalize(mean=self.mean, std=self.std, max_pixel_value=255.0),
                ToTensorV2(),
            ]
        )


Channels = tuple[float, float, float]


def preprocessing(
    model: nn.Module,
    image_size: int | None = None,
    mean: Channels | None = None,
    std: Channels | None = None,
) -> Preprocessing:
    """The input size, mean, std and interpolation of ``model``'s pretrained config
    (``timm.data.resolve_model_data_config``); ``image_size`` (square), ``mean`` and ``std``
    override them."""
    from timm.data.config import resolve_model_data_config

    config = resolve_model_data_config(model)  # type: ignore[no-untyped-call]
    _, height, width = config["input_size"]
    size = (image_size, image_size) if image_size else (int(height), int(width))
    own_mean = mean or tuple(float(v) for v in config["mean"])
    own_std = std or tuple(float(v) for v in config["std"])
    interpolation = str(config.get("interpolation", "bilinear"))
    return Preprocessing(size, own_mean, own_std, interpolation)  # type: ignore[arg-type]


class PretrainedEmbedder(nn.Module):
    """images (B, 3, H, W) float, normalised by :attr:`preprocessing` -> (B, D) float unit
    rows: the model's pooled features (``num_classes=0``), L2-normalised. The engine holding
    it (:class:`photoid.deep.engine.DeepEngine`) pickles it with its weights on the CPU."""

    def __init__(self, model: nn.Module, name: str, preprocessing: Preprocessing) -> None:
        super().__init__()
        self.model = model
        self.name = name
        self.embedding_size = int(getattr(model, "num_features"))  # noqa: B009 (set by timm)
        self.preprocessing = preprocessing

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model(images), p=2.0, dim=1)


def load_pretrained(
    name: str,
    weights: Path | None = None,
    *,
    prefix: str | None = None,
    image_size: int | None = None,
    mean: Channels | None = None,
    std: Channels | None = None,
) -> PretrainedEmbedder:
    """The timm model ``name`` without classifier, in evaluation mode, with the tensors of
    ``weights`` (``prefix`` stripped from their names; None: the prefix that fits the model,
    see :func:`strip_prefix`) or, without a file, its own pretrained weights (downloaded);
    its preprocessing from its pretrained config, ``image_size``, ``mean`` and ``std`` winning.

    Raises PhotoidError for an unknown name, a missing or unreadable file, or weights that do
    not fit the architecture (missing, unexpected or mis-shaped keys named).
    """
    check_model_name(name)
    try:
        model = timm.create_model(name, pretrained=weights is None, num_classes=0)
    except Exception as error:
        where = "create" if weights is not None else "download the pretrained weights of"
        raise PhotoidError(
            f"cannot {where} timm model {name!r} ({type(error).__name__}: {error}); offline, "
            "give a local weights file with --set pretrained.weights=PATH"
        ) from error
    if weights is not None:
        tensors = strip_prefix(read_state_dict(weights), model.state_dict(), prefix)
        load_strict(model, tensors, f"{weights} for {name}")
    model.eval()
    embedder = PretrainedEmbedder(model, name, preprocessing(model, image_size, mean, std))
    embedder.eval()
    return embedder


def strip_prefix(
    tensors: dict[str, torch.Tensor], own: dict[str, Any], prefix: str | None
) -> dict[str, torch.Tensor]:
    """``tensors`` renamed without ``prefix`` (only those starting with it kept; ``""``: all,
    unchanged). ``prefix=None``: the prefix ending with a dot (or none) whose removal makes most
    names the model's own (``own``), e.g. ``model.`` of a Lightning module's state dict."""
    if prefix is None:
        fits: Counter[str] = Counter({"": sum(name in own for name in tensors)})
        for name in tensors:
            for i, char in enumerate(name):
                if char == "." and name[i + 1 :] in own:
                    fits[name[: i + 1]] += 1
        prefix = max(fits, key=lambda p: (fits[p], -len(p)))
    if not prefix:
        return dict(tensors)
    return {name[len(prefix) :]: v for name, v in tensors.items() if name.startswith(prefix)}


def load_strict(model: nn.Module, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``tensors`` into ``model``; every tensor of the model must be set with its shape.
    Classifier tensors of the file (``model.pretrained_cfg["classifier"]``) are ignored: the
    model has none. Raises PhotoidError naming the keys that do not fit."""
    own = model.state_dict()
    classifier = str(getattr(model, "pretrained_cfg", {}).get("classifier") or "\0") + "."
    unexpected = [k for k in tensors if k not in own and not k.startswith(classifier)]
    missing = [k for k in own if k not in tensors]
    mismatched = [
        f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    problems = [
        f"{len(keys)} {label} ({', '.join(keys[:_SHOWN_KEYS])}"
        f"{', ...' if len(keys) > _SHOWN_KEYS else ''})"
        for label, keys in (
            ("missing from the file", missing),
            ("unexpected in the file", unexpected),
            ("of another shape", mismatched),
        )
        if keys
    ]
    if problems:
        raise PhotoidError(
            f"{source}: the weights do not fit the architecture: {'; '.join(problems)}. Is it "
            "the file of another model, or does it need --set pretrained.prefix=PREFIX?"
        )
    model.load_state_dict({k: tensors[k] for k in own}, strict=True)
