"""A torch Dataset over photoid's typed table: decode, crop to the bbox, augment.

Images are decoded lazily in ``__getitem__`` (decoding a whole dataset up front is too slow). A
photo that cannot be decoded does not stop a training run: a warning naming the file is logged
once, and a sample of the same identity is returned instead (see :class:`PhotoDataset`).
Auxiliary labels ride along: the species and, for hierarchical heads, taxonomy levels read from
metadata columns (see :func:`read_taxonomy`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import get_worker_info

from photoid.data.images import load_image
from photoid.data.schema import METADATA_FILE, UNKNOWN_LABEL
from photoid.data.table import Dataset
from photoid.errors import DatasetError, ImageLoadError, PhotoidError
from photoid.models.heads import Taxonomy
from photoid.train.augment import build_transform

logger = logging.getLogger(__name__)

Sample = tuple[torch.Tensor, torch.Tensor, int, torch.Tensor, torch.Tensor]

_ROWS_SHOWN = 5


class PhotoDataset(TorchDataset[Sample]):
    """Samples ``(image, label, index, species, taxonomy)`` of a :class:`Dataset`.

    ``image`` is the ``(3, image_size, image_size)`` float32 tensor the policy makes (see
    :func:`photoid.train.augment.build_transform`), ``label`` a 0-d int64 tensor (the identity
    label; -1 for the unknown identity), ``index`` the sample's position in this dataset,
    ``species`` a 0-d int64 tensor (index into ``species_names``; -1 for an empty cell or
    without a species column) and ``taxonomy`` an ``(L,)`` int64 tensor, one label per
    ``taxonomy`` column (``(0,)`` without taxonomy).

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
        taxonomy: Sequence[str] = (),
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
        self.taxonomy: Taxonomy | None = None
        self.taxonomy_labels = np.zeros((len(self), 0), dtype=np.int64)
        if taxonomy:
            self.taxonomy, levels = read_taxonomy(data, taxonomy)
            self.taxonomy_labels = np.tile(levels, (2, 1)) if mirror_as_new else levels

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
        species = -1 if self.species_labels is None else self.species_labels[index]
        return (
            image,
            label,
            index,
            torch.tensor(species, dtype=torch.int64),
            torch.from_numpy(self.taxonomy_labels[index].copy()),
        )

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


def taxonomy_columns(text: str) -> tuple[str, ...]:
    """The column names of a ``taxonomy`` setting: ``"family, genus"`` -> ``("family",
    "genus")``, coarse to fine; ``""`` -> ``()``."""
    if not text.strip():
        return ()
    names = tuple(name.strip() for name in text.split(","))
    if not all(names) or len(set(names)) != len(names):
        raise PhotoidError(
            f"taxonomy {text!r}: give distinct column names, coarse to fine, comma separated"
        )
    return names


def read_taxonomy(data: Dataset, columns: Sequence[str]) -> tuple[Taxonomy, np.ndarray]:
    """The tree formed by the metadata ``columns`` (coarse to fine) and every row's labels.

    Each level's names are its non-empty cells, sorted. Returns the :class:`Taxonomy` and
    ``(len(data), L)`` int64 labels indexing its names, -1 for an empty cell; an empty cell
    whose finer level is known takes that value's parent. Raises DatasetError naming the
    column when one is missing or empty, and naming the rows (CSV lines) when the data is not
    a tree: a value with two different parents, a value whose parent is empty in every row, or
    a known identity under two values of the finest column.
    """
    csv_path = data.root / METADATA_FILE
    missing = [c for c in columns if c not in data.table.columns]
    if missing:
        raise DatasetError(
            f"taxonomy column {missing[0]!r} is not in the table (columns: "
            f"{', '.join(str(c) for c in data.table.columns if c != 'label')}); add it or fix "
            "the taxonomy setting",
            path=csv_path,
        )
    lines = [int(line) for line in data.table.index]
    cells = [[v.strip() if isinstance(v, str) else "" for v in data.table[c]] for c in columns]
    identities = [
        identity if label >= 0 else ""
        for identity, label in zip(data.table["identity"], data.labels, strict=True)
    ]
    _parent_of(identities, cells[-1], lines, ("identity", columns[-1]), csv_path, required=False)
    names = tuple(tuple(sorted({v for v in level if v})) for level in cells)
    for column, values in zip(columns, names, strict=True):
        if not values:
            raise DatasetError(f"taxonomy column {column!r} is empty in every row", path=csv_path)
    lookups = [{name: i for i, name in enumerate(values)} for values in names]
    parents: list[tuple[int, ...]] = [()]
    for level in range(1, len(columns)):
        pair = (columns[level], columns[level - 1])
        links = _parent_of(cells[level], cells[level - 1], lines, pair, csv_path, required=True)
        parents.append(tuple(lookups[level - 1][links[child]] for child in names[level]))
    labels = np.array(
        [[lookup.get(v, -1) for v in level] for lookup, level in zip(lookups, cells, strict=True)],
        dtype=np.int64,
    ).T.reshape(len(data), len(columns))
    for level in range(len(columns) - 1, 0, -1):
        above = np.asarray(parents[level], dtype=np.int64)
        fill = (labels[:, level - 1] < 0) & (labels[:, level] >= 0)
        labels[fill, level - 1] = above[labels[fill, level]]
    taxonomy = Taxonomy(tuple(columns), names, tuple(parents))
    return taxonomy, labels


def _parent_of(
    children: list[str],
    parents: list[str],
    lines: list[int],
    pair: tuple[str, str],
    csv_path: Path,
    *,
    required: bool,
) -> dict[str, str]:
    """Each non-empty child's one parent (``pair``: the child and parent column names);
    DatasetError naming the rows of a child with two parents or, if ``required``, none."""
    child_column, parent_column = pair
    rows: dict[str, dict[str, list[int]]] = {}
    for child, parent, line in zip(children, parents, lines, strict=True):
        if child:
            rows.setdefault(child, {}).setdefault(parent, []).append(line)
    links: dict[str, str] = {}
    for child, by_parent in rows.items():
        given = {p: r for p, r in by_parent.items() if p}
        if len(given) > 1:
            shown = "; ".join(f"{parent_column} {p!r} in {_rows(r)}" for p, r in given.items())
            raise DatasetError(
                f"the taxonomy is not a tree: {child_column} {child!r} has {len(given)} "
                f"different {parent_column} values ({shown}); give it one",
                path=csv_path,
            )
        if given:
            links[child] = next(iter(given))
        elif required:
            raise DatasetError(
                f"{child_column} {child!r} ({_rows(by_parent[''])}) has no {parent_column} in "
                f"any row; fill its {parent_column} cell",
                path=csv_path,
            )
    return links


def _rows(lines: list[int]) -> str:
    """``rows 2, 5, 9`` (the first few, then how many more)."""
    shown = ", ".join(map(str, lines[:_ROWS_SHOWN]))
    more = f" and {len(lines) - _ROWS_SHOWN} more" if len(lines) > _ROWS_SHOWN else ""
    return f"row{'s' if len(lines) > 1 else ''} {shown}{more}"
