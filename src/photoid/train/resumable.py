"""A training DataLoader that Lightning checkpoints mid-epoch and resumes at the next batch.

Lightning saves ``state_dict()`` of every train loader that has one into each checkpoint and,
when it resumes an unfinished epoch, calls ``load_state_dict()`` before iterating again (from
an epoch-end checkpoint it does not: :class:`photoid.train.checkpointing.LastCheckpoint` then
does). The state here is where the epoch stands (the sampler's epoch and the batches already
handed to the trainer) and every random stream the following batches draw from: torch's (CPU
and CUDA), numpy's and python's global generators, the loader's own generator (worker seeds)
and, with ``num_workers=0``, each augmentation's generators. The random states are put back
just before the first batch after the resume, so a resumed run with ``num_workers=0`` draws
exactly what an uninterrupted run would. With workers, the batches (which photos, in which
order) still match, but the workers start fresh augmentation streams.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from albumentations.core.composition import BaseCompose  # type: ignore[import-untyped]
from torch.utils.data import DataLoader

from photoid.train.augment import Transform
from photoid.train.dataset import PhotoDataset, Sample, seed_worker
from photoid.train.sampler import PKSampler

logger = logging.getLogger(__name__)


class ResumableLoader(DataLoader[Sample]):
    """Batches of ``sampler.p * sampler.k`` samples of ``dataset`` in the sampler's order.

    The iteration counts the batches it yields (its position in the epoch); ``state_dict()``
    is a plain dict of that position and the random states (see the module docstring);
    ``load_state_dict()`` makes the next iteration start at the saved batch. An epoch saved
    complete resumes at batch 0 of the next epoch. Worker processes, when ``num_workers > 0``,
    persist across epochs and are seeded from the loader's generator (seeded with ``seed``).
    """

    def __init__(
        self, dataset: PhotoDataset, sampler: PKSampler, *, num_workers: int, seed: int
    ) -> None:
        super().__init__(
            dataset,
            batch_size=sampler.p * sampler.k,
            sampler=sampler,
            num_workers=num_workers,
            worker_init_fn=seed_worker,
            drop_last=True,
            persistent_workers=num_workers > 0,
            # Its own generator: creating an iterator leaves the global torch stream alone.
            generator=torch.Generator().manual_seed(seed),
        )
        self.photos = dataset
        self.pk = sampler
        self._position = 0
        self._pending: dict[str, Any] | None = None

    # A counting generator in place of torch's iterator class: Lightning only calls next().
    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return self._batches()

    def _batches(self) -> Iterator[Any]:
        if self._pending is not None:
            _set_random_states(self._pending, self.photos.transform, self.generator)
            self._pending = None
        self._position = self.pk.state_dict()["batch"]
        for batch in super().__iter__():
            self._position += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        """``{"epoch", "batch", "random"}``: the next batch to train on and the random states."""
        epoch, batch = self.pk.epoch, self._position
        if batch >= len(self):
            epoch, batch = epoch + 1, 0
        random_states = _random_states(
            self.photos.transform if self.num_workers == 0 else None, self.generator
        )
        return {"epoch": epoch, "batch": batch, "random": random_states}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Start the next iteration at ``state``'s batch, restoring its random states first."""
        self.pk.load_state_dict({"epoch": state["epoch"], "batch": state["batch"]})
        self._pending = state["random"]


def _random_states(
    transform: Transform | None, generator: torch.Generator | None
) -> dict[str, Any]:
    """The global generators' states, ``generator``'s, and each node of ``transform``'s."""
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _plain_numpy_state(),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": generator.get_state() if generator is not None else None,
        "augment": None,
    }
    if transform is not None:
        states["augment"] = [
            (node.random_generator.bit_generator.state, node.py_random.getstate())
            for node in _nodes(transform)
        ]
    return states


def _set_random_states(
    states: dict[str, Any], transform: Transform, generator: torch.Generator | None
) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, gauss))
    random.setstate(states["python"])
    if states["cuda"] and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
    if states["loader"] is not None and generator is not None:
        generator.set_state(states["loader"])
    if states["augment"] is not None:
        nodes = list(_nodes(transform))
        if len(nodes) != len(states["augment"]):
            logger.warning(
                "the checkpoint's augmentation pipeline differs from this run's policy; "
                "the augmentations restart from the seed instead of resuming"
            )
            return
        for node, (numpy_state, python_state) in zip(nodes, states["augment"], strict=True):
            node.random_generator.bit_generator.state = numpy_state
            node.py_random.setstate(python_state)


def _plain_numpy_state() -> tuple[str, list[int], int, int, float]:
    """numpy's legacy global state without arrays (Lightning loads with ``weights_only``)."""
    name, keys, position, has_gauss, gauss = np.random.get_state(legacy=True)
    return str(name), [int(k) for k in keys], int(position), int(has_gauss), float(gauss)


def _nodes(transform: Transform) -> Iterator[Transform]:
    """Every transform of an albumentations pipeline, depth first (each has its own RNGs)."""
    yield transform
    if isinstance(transform, BaseCompose):
        for child in transform.transforms:
            yield from _nodes(child)
