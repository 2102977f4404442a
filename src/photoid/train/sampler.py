"""Identity-balanced P x K batches: P identities with K photos each, for metric learning.

A thin, reproducible wrapper around pytorch-metric-learning's ``MPerClassSampler``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from pytorch_metric_learning.samplers import MPerClassSampler  # type: ignore[import-untyped]
from pytorch_metric_learning.utils import common_functions  # type: ignore[import-untyped]
from torch.utils.data import Sampler

from photoid.errors import PhotoidError


class PKSampler(Sampler[int]):
    """Sample indices in batches of ``p`` identities x ``k`` photos, the same order per epoch.

    ``MPerClassSampler`` draws from numpy's global generator (``common_functions.NUMPY_RANDOM``)
    and shuffles its label list in place, so its order depends on everything run before. Here
    each ``__iter__`` resets the label list and swaps in a generator seeded with
    ``(seed, epoch)`` while the (eagerly built) index list is drawn, then restores the global
    one: the order depends only on the seed and :meth:`set_epoch`, as DDP and resuming need.
    Under DDP each process adds its rank to the seed, so the processes draw different batches
    (each a whole P x K batch; the trainer must not wrap this sampler in a distributed one).
    Identities with fewer than ``k`` photos are drawn with replacement; samples with a negative
    label (the unknown identity) are never drawn.

    Resuming mid-epoch: :meth:`load_state_dict` ``{"epoch": e, "batch": b}`` makes the next
    pass yield epoch ``e``'s order from batch ``b`` on (its last ``len(self) - b * p * k``
    indices); later passes start at batch 0 again, and so does a pass of another epoch.
    """

    def __init__(self, labels: np.ndarray, p: int, k: int, seed: int, num_batches: int) -> None:
        labels = np.asarray(labels, dtype=np.int64)
        self._positions = np.flatnonzero(labels >= 0)
        self._inner = MPerClassSampler(
            labels[self._positions],
            m=k,
            batch_size=p * k,
            length_before_new_iter=num_batches * p * k,
        )
        self._label_order = sorted(self._inner.labels)
        self.p, self.k, self.seed = p, k, seed
        self.num_batches = num_batches
        self.epoch = 0
        self._start = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order :meth:`__iter__` yields next (from batch 0, unless a
        loaded state resumes this very epoch)."""
        if epoch != self.epoch:
            self._start = 0
        self.epoch = epoch

    def state_dict(self) -> dict[str, int]:
        """``{"epoch": e, "batch": b}``: the next pass yields epoch ``e`` from batch ``b``."""
        return {"epoch": self.epoch, "batch": self._start}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume at batch ``state["batch"]`` (0 to ``num_batches``) of ``state["epoch"]``."""
        epoch, batch = int(state["epoch"]), int(state["batch"])
        if epoch < 0 or not 0 <= batch <= self.num_batches:
            raise PhotoidError(
                f"sampler state epoch={epoch}, batch={batch} is out of range: an epoch has "
                f"{self.num_batches} batches; was the checkpoint made with other batch settings?"
            )
        self.epoch, self._start = epoch, batch

    def __len__(self) -> int:
        return int(self._inner.list_size)

    def __iter__(self) -> Iterator[int]:
        self._inner.labels = list(self._label_order)
        global_random = common_functions.NUMPY_RANDOM
        common_functions.NUMPY_RANDOM = np.random.RandomState([self.seed + _rank(), self.epoch])
        try:
            drawn = np.asarray(list(iter(self._inner)), dtype=np.int64)
        finally:
            common_functions.NUMPY_RANDOM = global_random
        skip, self._start = self._start * self.p * self.k, 0
        return iter(self._positions[drawn[skip:]].tolist())


def pk_sampler(
    labels: np.ndarray, p: int, k: int, seed: int = 0, num_batches: int | None = None
) -> PKSampler:
    """A :class:`PKSampler` over ``labels`` (``(N,)`` int, one per sample), validated.

    Batches hold ``p * k`` indices: ``p`` distinct identities, ``k`` samples of each, in order
    (use ``batch_size=p * k`` and no shuffling in the DataLoader). An epoch has ``num_batches``
    batches (default: enough for about one pass, ``ceil(labelled samples / (p * k))``).
    Raises PhotoidError when ``p`` or ``k`` is below 1 (``k`` below 2 gives no positive
    pairs) or fewer than ``p`` identities have a label.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise PhotoidError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if p < 1 or k < 2:
        raise PhotoidError(
            f"a P x K batch needs p >= 1 identities and k >= 2 photos each, got p={p}, k={k}"
        )
    known = labels[labels >= 0]
    identities = len(np.unique(known))
    if identities < p:
        raise PhotoidError(
            f"a P x K batch needs p={p} identities but the labels hold {identities}; "
            f"lower p to at most {identities} or add identities"
        )
    batch = p * k
    if num_batches is None:
        num_batches = max(1, -(-len(known) // batch))
    if num_batches < 1:
        raise PhotoidError(f"num_batches must be at least 1, got {num_batches}")
    return PKSampler(labels, p=p, k=k, seed=seed, num_batches=num_batches)


def _rank() -> int:
    """This process's rank in a distributed run, 0 otherwise."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return int(torch.distributed.get_rank())
    return 0
