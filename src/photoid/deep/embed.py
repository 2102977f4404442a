"""Batched embedding extraction with test-time augmentation (TTA)."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from photoid.core import Box
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.deep.store import EmbeddingSet, model_fingerprint
from photoid.errors import ImageLoadError, PhotoidError
from photoid.models import Embedder
from photoid.models.embedder import embedder_config
from photoid.train.config import TrainConfig, build_config

TTA_VIEWS: tuple[str, ...] = ("flip", "rot90", "rot180", "rot270")


def load_embedder(checkpoint: Path) -> tuple[Embedder, TrainConfig]:
    """The embedder of a training checkpoint (``.ckpt`` written by ``photoid train``), in
    evaluation mode, and the config it was trained with. No weights are downloaded."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise PhotoidError(f"{checkpoint}: cannot read the checkpoint ({exc})") from None
    try:
        config = build_config(state["hyper_parameters"]["config"], source=str(checkpoint))
        weights = state["state_dict"]
    except (KeyError, TypeError):
        raise PhotoidError(
            f"{checkpoint}: not a photoid training checkpoint (no config or state_dict)"
        ) from None
    embedder = Embedder(embedder_config(replace(config, pretrained=False, weights=None)))
    prefix = "embedder."
    own = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
    embedder.load_state_dict(own)
    embedder.eval()
    return embedder, config


def _views(batch: torch.Tensor, tta: Sequence[str]) -> list[torch.Tensor]:
    views = [batch]
    for name in tta:
        if name == "flip":
            views.append(torch.flip(batch, dims=[3]))
        elif name.startswith("rot"):
            views.append(torch.rot90(batch, int(name[3:]) // 90, dims=[2, 3]))
        else:
            raise PhotoidError(f"unknown TTA view {name!r}; choose from {', '.join(TTA_VIEWS)}")
    return views


@torch.no_grad()
def embed_images(
    embedder: Embedder,
    paths: Sequence[Path],
    *,
    image_size: int,
    bboxes: Sequence[Box | None] | None = None,
    tta: Sequence[str] = (),
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, list[str | None]]:
    """``(N, D)`` float32 unit embeddings, the mean over the original and each TTA view
    (re-normalised); an unreadable image gets a zero row and its error in the second list."""
    from photoid.train.augment import build_transform  # albumentations, only to embed

    transform = build_transform("none", image_size)
    boxes = list(bboxes) if bboxes is not None else [None] * len(paths)
    device = next(embedder.parameters()).device
    dim = embedder.config.embedding_size
    out = np.zeros((len(paths), dim), np.float32)
    errors: list[str | None] = [None] * len(paths)
    for start in range(0, len(paths), batch_size):
        tensors, rows = [], []
        for row in range(start, min(start + batch_size, len(paths))):
            try:
                pixels = load_image(paths[row], bbox=boxes[row])
            except ImageLoadError as exc:
                errors[row] = str(exc)
                continue
            tensors.append(transform(image=pixels)["image"])
            rows.append(row)
        if tensors:
            batch = torch.stack(tensors).to(device)
            total = sum(embedder(view) for view in _views(batch, tta))
            mean = torch.nn.functional.normalize(total, dim=1)
            out[rows] = mean.float().cpu().numpy()
        if progress is not None:
            progress(min(batch_size, len(paths) - start))
    return out, errors


def embed_dataset(
    dataset: Dataset,
    checkpoint: Path,
    *,
    tta: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> EmbeddingSet:
    """Embed every readable photo of ``dataset`` (cropped to its bbox when the model was
    trained on crops); unreadable photos are left out with a warning naming them."""
    embedder, config = load_embedder(checkpoint)
    table = dataset.table
    use_bbox = config.use_bbox and "bbox" in table
    vectors, errors = embed_images(
        embedder,
        [dataset.root / p for p in table["image"]],
        image_size=config.image_size,
        bboxes=list(table["bbox"]) if use_bbox else None,
        tta=tta,
        progress=progress,
    )
    good = np.array([e is None for e in errors], dtype=bool)
    for error in errors:
        if error is not None:
            warnings.warn(f"skipped: {error}", stacklevel=2)
    return EmbeddingSet(
        vectors=vectors[good],
        images=table["image"].to_numpy(dtype=str)[good],
        identities=table["identity"].to_numpy(dtype=str)[good],
        model=model_fingerprint(checkpoint),
    )
