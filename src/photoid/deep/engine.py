"""Identify photos by embedding similarity against a gallery of labelled embeddings."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from photoid.core import Box
from photoid.data.table import Dataset
from photoid.deep.embed import embed_images, load_embedder, load_pretrained_embedder
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.models import Embedder
from photoid.models.pretrained import PretrainedEmbedder
from photoid.search import VectorIndex
from photoid.search.gallery import Aggregate, Gallery
from photoid.search.vector_engine import VectorEngine


class DeepEngine(VectorEngine):
    """A gallery of embeddings in a faiss index; identity score = cosine similarity of its best
    image (``max``) or of its centroid (``centroid``). The embedder is a model trained with
    ``photoid train`` or a pretrained timm model used as it is (:meth:`from_pretrained`)."""

    def __init__(
        self,
        embedder: Embedder | PretrainedEmbedder,
        image_size: int,
        *,
        use_bbox: bool = True,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        top: int = 5,
        neighbours: int = 100,
        batch_size: int = 32,
        precision: str = "auto",
    ) -> None:
        self.embedder = embedder
        self.batch_size = batch_size
        self.precision = precision
        self.image_size = image_size
        self.use_bbox = use_bbox
        self.tta = tuple(tta)
        self.aggregate = aggregate
        self.top = top
        self.neighbours = neighbours
        self.gallery = Gallery(embedder.embedding_size, aggregate=aggregate, neighbours=neighbours)
        self.skipped: list[str] = []

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Path,
        dataset: Dataset,
        *,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        progress: Callable[[int], None] | None = None,
        device: str = "auto",
        precision: str = "auto",
    ) -> DeepEngine:
        """Load the embedder of ``checkpoint`` onto ``device`` and embed every known row of
        ``dataset`` (``precision``: see :func:`photoid.devices.inference`)."""
        embedder, config = load_embedder(checkpoint)
        engine = cls(
            embedder, config.image_size, use_bbox=config.use_bbox, tta=tta, aggregate=aggregate
        )
        engine.use_device(device, precision)
        engine.add_dataset(dataset, progress)
        return engine

    @classmethod
    def from_pretrained(
        cls,
        config: PretrainedConfig,
        dataset: Dataset,
        *,
        tta: Sequence[str] = (),
        aggregate: Aggregate = "max",
        progress: Callable[[int], None] | None = None,
        precision: str = "auto",
    ) -> DeepEngine:
        """The timm model of ``config`` (``pretrained.model``, ``pretrained.weights``) on its
        device, with its own preprocessing, and every known row of ``dataset`` embedded."""
        embedder = load_pretrained_embedder(config)
        engine = cls(
            embedder,
            max(embedder.preprocessing.size),
            use_bbox=config.use_bbox,
            tta=tta,
            aggregate=aggregate,
            batch_size=config.batch,
            precision=precision,
        )
        engine.add_dataset(dataset, progress)
        return engine

    def use_device(self, device: str = "auto", precision: str = "auto") -> None:
        """Run the embedder on ``device`` (``auto``, ``cpu``, ``cuda``, ``cuda:N``) with
        ``precision`` (see :func:`photoid.devices.inference`); the gallery stays as it is."""
        from photoid.devices import autocast_dtype, resolve_device

        target = resolve_device(device, "--device")
        autocast_dtype(target, precision)  # checked now, not at the first photo
        self.embedder.to(target)
        self.precision = precision

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the embedder's weights on the CPU, so a machine without the GPU it
        ran on can load it (:meth:`use_device` moves it back)."""
        state = dict(self.__dict__)
        if next(self.embedder.parameters()).device.type != "cpu":
            state["embedder"] = copy.deepcopy(self.embedder).cpu()
        return state

    @property
    def index(self) -> VectorIndex:
        return self.gallery.index

    def embed(
        self,
        paths: Sequence[Path],
        bboxes: Sequence[Box | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[str | None]]:
        """``(n, D)`` unit embeddings (TTA mean; photos cropped when the model was trained on
        crops) and each photo's load error or None."""
        boxes = list(bboxes) if bboxes is not None and self.use_bbox else [None] * len(paths)
        return embed_images(
            self.embedder,
            paths,
            image_size=self.image_size,
            bboxes=boxes,
            tta=self.tta,
            batch_size=getattr(self, "batch_size", 32),  # engines saved before it existed
            progress=progress,
            precision=getattr(self, "precision", "auto"),
        )
