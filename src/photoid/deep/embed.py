"""Batched embedding extraction with test-time augmentation (TTA)."""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from photoid.core import Box
from photoid.data.images import load_image
from photoid.data.table import Dataset
from photoid.deep.store import EmbeddingSet, model_fingerprint
from photoid.devices import inference, resolve_device
from photoid.engines.pretrained_config import PretrainedConfig, channels
from photoid.errors import ImageLoadError, PhotoidError
from photoid.models import Embedder
from photoid.models.embedder import embedder_config
from photoid.models.pretrained import PretrainedEmbedder, load_pretrained
from photoid.train.config import TrainConfig, build_config

TTA_VIEWS: tuple[str, ...] = ("flip", "rot90", "rot180", "rot270")
LOAD_THREADS = 8
"""Threads decoding photos for the embedder (at most one per CPU core)."""


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


def embed_images(
    embedder: Embedder | PretrainedEmbedder,
    paths: Sequence[Path],
    *,
    image_size: int,
    bboxes: Sequence[Box | None] | None = None,
    tta: Sequence[str] = (),
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
    precision: str = "auto",
) -> tuple[np.ndarray, list[str | None]]:
    """``(N, D)`` float32 unit embeddings, the mean over the original and each TTA view
    (re-normalised); an unreadable image gets a zero row and its error in the second list.
    A trained embedder's input is ``image_size`` px square, ImageNet-normalised; a pretrained
    one's is its own (:attr:`PretrainedEmbedder.preprocessing`). The embedder runs where its
    weights are, in batches of ``batch_size``, with the ``precision`` of
    :func:`photoid.devices.inference` (``auto``: mixed on a GPU, float32 on the CPU)."""
    from photoid.train.augment import build_transform  # albumentations, only to embed

    if isinstance(embedder, PretrainedEmbedder):
        transform = embedder.preprocessing.transform()
    else:
        transform = build_transform("none", image_size)
    boxes = list(bboxes) if bboxes is not None else [None] * len(paths)
    device = next(embedder.parameters()).device
    out = np.zeros((len(paths), embedder.embedding_size), np.float32)
    errors: list[str | None] = [None] * len(paths)

    def prepare(row: int) -> torch.Tensor | None:
        try:
            pixels = load_image(paths[row], bbox=boxes[row])
        except ImageLoadError as exc:
            errors[row] = str(exc)
            return None
        tensor: torch.Tensor = transform(image=pixels)["image"]
        return tensor

    # Photos are decoded in threads (OpenCV releases the GIL), the next batch while the
    # network runs on this one, so a GPU is not left waiting on one CPU core.
    with ThreadPoolExecutor(max_workers=max(1, min(LOAD_THREADS, os.cpu_count() or 1))) as pool:

        def submit(start: int) -> list[tuple[int, Future[torch.Tensor | None]]]:
            rows = range(start, min(start + batch_size, len(paths)))
            return [(row, pool.submit(prepare, row)) for row in rows]

        pending = submit(0)
        for start in range(0, len(paths), batch_size):
            loaded = [(row, future.result()) for row, future in pending]
            pending = submit(start + batch_size)
            rows = [row for row, tensor in loaded if tensor is not None]
            if rows:
                tensors = [tensor for _, tensor in loaded if tensor is not None]
                batch = torch.stack(tensors).to(device, non_blocking=True)
                with inference(device, precision):
                    total = sum(embedder(view).float() for view in _views(batch, tta))
                    mean = torch.nn.functional.normalize(total, dim=1)
                out[rows] = mean.cpu().numpy()
            if progress is not None:
                progress(len(loaded))
    return out, errors


def load_pretrained_embedder(config: PretrainedConfig) -> PretrainedEmbedder:
    """The timm model of ``config`` (``pretrained.model``, ``pretrained.weights``, its
    preprocessing settings) on ``pretrained.device``, in evaluation mode."""
    if not config.model:
        raise PhotoidError(
            "the pretrained embedder needs a timm model: --set pretrained.model=NAME (e.g. "
            "hf-hub:BVRA/MegaDescriptor-L-384) and, offline, --set pretrained.weights=PATH"
        )
    embedder = load_pretrained(
        config.model,
        None if config.weights is None else Path(config.weights),
        prefix=config.prefix,
        image_size=config.image_size,
        mean=channels(config.mean, "mean"),
        std=channels(config.std, "std"),
    )
    return embedder.to(resolve_device(config.device, "pretrained.device"))


def embed_dataset(
    dataset: Dataset,
    model: Path | PretrainedConfig,
    *,
    tta: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    device: str | None = None,
    precision: str = "auto",
) -> EmbeddingSet:
    """Embed every readable photo of ``dataset`` with a ``photoid train`` checkpoint (cropped
    to its bbox when the model was trained on crops) or a pretrained embedder (cropped unless
    ``pretrained.use_bbox=false``); unreadable photos are left out with a warning naming them.
    ``device``: where the model runs (None: ``pretrained.device``, or ``auto`` for a
    checkpoint); ``precision``: see :func:`photoid.devices.inference`."""
    embedder: Embedder | PretrainedEmbedder
    if isinstance(model, PretrainedConfig):
        if device is not None:
            model = replace(model, device=device)
        embedder = load_pretrained_embedder(model)
        image_size, use_bbox, batch_size = 0, model.use_bbox, model.batch
        weights = "" if model.weights is None else model_fingerprint(Path(model.weights))
        text = f"{model.model}|{weights}|{embedder.preprocessing}"
        fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    else:
        embedder, config = load_embedder(model)
        embedder.to(resolve_device(device or "auto", "--device"))
        image_size, use_bbox, batch_size = config.image_size, config.use_bbox, 32
        fingerprint = model_fingerprint(model)
    table = dataset.table
    use_bbox = use_bbox and "bbox" in table
    vectors, errors = embed_images(
        embedder,
        [dataset.root / p for p in table["image"]],
        image_size=image_size,
        bboxes=list(table["bbox"]) if use_bbox else None,
        tta=tta,
        batch_size=batch_size,
        progress=progress,
        precision=precision,
    )
    good = np.array([e is None for e in errors], dtype=bool)
    for error in errors:
        if error is not None:
            warnings.warn(f"skipped: {error}", stacklevel=2)
    return EmbeddingSet(
        vectors=vectors[good],
        images=table["image"].to_numpy(dtype=str)[good],
        identities=table["identity"].to_numpy(dtype=str)[good],
        model=fingerprint,
    )
