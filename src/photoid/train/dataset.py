"""A torch Dataset over photoid's typed table: decode, crop to the bbox, augment.

Images are decoded lazily in ``__getitem__`` (decoding a whole dataset up front is too slow). A
photo that cannot be decoded does not stop a training run: a warning naming the file is logged
once, and a sample of the same identity is returned instead (see :class:`PhotoDataset`).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import get_worker_info

from photoid.data.images import load_image
from photoid.data.schema import UNKNOWN_LABEL
from photoid.data.table import Dataset
from photoid.errors import ImageLoadError, PhotoidError
from photoid.train.augment import build_transform

logger = logging.getLogger(__name__)

Sample = tuple[torch.Tensor, torch.Tensor, int]


class PhotoDataset(TorchDataset[Sample]):
    """Samples ``(image, label, index)`` of a :class:`photoid.data.table.Dataset`.

    ``image`` is the ``(3, image_size, image_size)`` float32 tensor the policy makes (see
    :func:`photoid.train.augment.build_transform`), ``label`` a 0-d int64 tensor (the identity
    label; -1 for the unknown identity) and ``index`` the sample's position in this dataset.

    ``use_bbox`` crops each photo to its ``bbox`` cell when it has one. ``mirror_as_new`` treats a
    mirrored photo as a new identity (asymmetric markings): the dataset doubles, sample
    ``i + len(data)`` is row ``i`` flipped left-right with label ``label + len(identities)``, and
    :attr:`num_classes` doubles; unknown photos stay -1 when mirrored.

    A photo that fails to decode is logged once (a warning naming the file and the reason) and
    replaced by the next row of the same label (cyclically, same mirroring); a label whose every
    photo is broken raises ImageLoadError. "Once" is per process: each DataLoader worker keeps
    its own record of broken files.

    Attributes: ``num_classes`` (int, identity classes counting mirrored ones: the size of a
    classification head), ``labels`` (``(len(self),)`` int64, every sample's label: what a
    P x K sampler needs), ``species_names`` (sorted names when the table has a ``species``
    column, else None) and ``species_labels`` (``(len(self),)`` int64 index into
    ``species_names``, -1 for an empty cell; None without the column).
    """

    def __init__(
        self,
        data: Dataset,
        *,
        policy: str = "none",
        image_size: int = 224,
        use_bbox: bool = True,
        mirror_as_new: bool = False,
        rot45: bool = False,
        seed: int | None = None,
    ) -> None:
        self.data = data
        self.use_bbox = use_bbox and "bbox" in data.table.columns
        self.mirror_as_new = mirror_as_new
        self.transform = build_transform(policy, image_size, rot45=rot45, seed=seed)
        self._row_labels = data.labels
        self._broken: set[int] = set()
        base = len(data.identities)
        self.num_classes = 2 * base if mirror_as_new else base
        self.labels = self._row_labels.copy()
        if mirror_as_new:
            mirrored = np.where(self._row_labels >= 0, self._row_labels + base, UNKNOWN_LABEL)
            self.labels = np.concatenate([self._row_labels, mirrored])
        self.species_names: tuple[str, ...] | None = None
        self.species_labels: np.ndarray | None = None
        if "species" in data.table.columns:
            cells = [s if isinstance(s, str) else None for s in data.table["species"]]
            self.species_names = tuple(sorted({s for s in cells if s is not None}))
            lookup = {name: i for i, name in enumerate(self.species_names)}
            per_row = np.array([lookup.get(s, -1) if s else -1 for s in cells], dtype=np.int64)
            self.species_labels = np.tile(per_row, 2) if mirror_as_new else per_row

    def __len__(self) -> int:
        return 2 * len(self.data) if self.mirror_as_new else len(self.data)

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range for {len(self)} samples")
        rows = len(self.data)
        row, flip = index % rows, index >= rows
        pixels = self._load_with_fallback(row)
        if flip:
            pixels = np.ascontiguousarray(pixels[:, ::-1])
        image = self.transform(image=pixels)["image"]
        label = torch.tensor(self.labels[index], dtype=torch.int64)
        return image, label, index

    def _load_with_fallback(self, row: int) -> np.ndarray:
        """``(H, W, 3)`` uint8 pixels of ``row``, or of the next readable row of its label."""
        same_label = np.flatnonzero(self._row_labels == self._row_labels[row])
        start = int(np.searchsorted(same_label, row))
        for candidate in np.roll(same_label, -start).tolist():
            if candidate in self._broken:
                continue
            try:
                return self._load(candidate)
            except ImageLoadError as exc:
                self._broken.add(candidate)
                logger.warning(
                    "skipping unreadable image %s (%s); using another photo of identity %r",
                    exc.path,
                    exc.reason,
                    self.data.table["identity"].iloc[candidate],
                )
        raise ImageLoadError(
            self.data.image_path(row),
            f"no photo of identity {self.data.table['identity'].iloc[row]!r} can be decoded; "
            "fix or remove its files (`photoid data check` lists them)",
        )

    def _load(self, row: int) -> np.ndarray:
        bbox = self.data.table["bbox"].iloc[row] if self.use_bbox else None
        return load_image(self.data.image_path(row), bbox=bbox)


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: give each worker its own augmentation random stream.

    Each worker holds a copy of the same seeded pipeline, so without this every worker would
    draw the same augmentations. torch seeds worker ``w`` with ``base_seed + w``, where
    ``base_seed`` comes from the main process's generator afresh every epoch, so the streams
    differ per worker and per epoch yet repeat under a fixed global seed.
    """
    info = get_worker_info()
    if info is None:
        raise PhotoidError("seed_worker is a DataLoader worker_init_fn; call it in a worker only")
    dataset = info.dataset
    if not isinstance(dataset, PhotoDataset):
        raise PhotoidError(f"seed_worker expects a PhotoDataset, got {type(dataset).__name__}")
    dataset.transform.set_random_seed(info.seed % 2**32)
