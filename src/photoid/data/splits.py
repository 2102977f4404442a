"""Honest, deterministic train/test splits of a photo-ID table.

Every function takes identity labels (the ``label`` column of :attr:`Dataset.table`, int64 with
-1 for the unknown identity, or identity names with ``"unknown"``) and returns a ``pd.Series`` of
``"train"``/``"test"`` strings aligned to the labels' index (a RangeIndex for plain arrays).

Determinism: the only randomness is ``numpy.random.Generator(PCG64(seed)).random()`` applied to
explicitly sorted orders (identities sorted by label or name, an identity's images by ``keys``,
e.g. the image path), followed by stable sorts. A seed gives the same split on any machine, and,
when ``keys`` are given, whatever the order of the rows.

Unknown-identity rows always go to ``"test"``: no gallery image can match them, and photo-ID
competitions (Kaggle's ``new_whale``) score such test images as ``new_individual``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from photoid.data.schema import SPLIT_VALUES, UNKNOWN_IDENTITY, UNKNOWN_LABEL
from photoid.errors import DatasetError, PhotoidError

LabelsLike = pd.Series | np.ndarray | Sequence[int] | Sequence[str]
KeysLike = pd.Series | np.ndarray | Sequence[str]
UndatedPolicy = Literal["error", "train"]
TRAIN = "train"
TEST = "test"


def closed_set(
    labels: LabelsLike,
    *,
    n_folds: int = 5,
    fold: int = 0,
    seed: int = 0,
    keys: KeysLike | None = None,
) -> pd.Series:
    """Fold ``fold`` of a k-fold split stratified by identity (every test identity is known).

    The images of every identity with >= 2 images are shuffled and dealt round-robin over the
    folds, continuing the deal from one identity to the next (identities visited in a seeded
    order), so fold sizes differ by at most one image. Guarantees, for every seed:

    - over folds 0..n_folds-1, each image of an identity with >= 2 images is ``"test"`` in
      exactly one fold; an identity with n >= n_folds images is in test in every fold, one with
      n < n_folds images in n folds (one image each);
    - in every fold every such identity keeps >= 1 ``"train"`` image;
    - single-image identities are always ``"train"`` (gallery only);
    - unknown-identity rows are always ``"test"``.

    ``labels``: ``(N,)``. ``keys``: ``(N,)`` strings ordering each identity's images before the
    seeded shuffle (pass the image paths so that reordering rows does not change the split).
    """
    _check_folds(n_folds, fold)
    codes, n_ids, key_rank, index = _encode(labels, keys)
    folds = _test_folds(codes, key_rank, n_ids, n_folds, _rng(seed))
    return _assemble(index, (codes < 0) | (folds == fold))


def open_set(
    labels: LabelsLike,
    *,
    unseen_fraction: float = 0.2,
    n_folds: int = 5,
    fold: int = 0,
    seed: int = 0,
    keys: KeysLike | None = None,
) -> pd.Series:
    """Hold out ``unseen_fraction`` of the identities entirely in test; split the rest closed-set.

    The number of unseen identities is ``floor(unseen_fraction * n_identities + 0.5)``, at least
    1 when the fraction is > 0 and there are >= 2 identities, and at most ``n_identities - 1``.
    Which identities are unseen depends on ``seed`` only (the same in every fold); their images
    never reach train, so they act as new individuals. The other identities follow
    :func:`closed_set`'s guarantees. ``labels`` and ``keys``: ``(N,)``.
    """
    _check_folds(n_folds, fold)
    _check_fraction("unseen_fraction", unseen_fraction, allow_zero=True)
    codes, n_ids, key_rank, index = _encode(labels, keys)
    rng = _rng(seed)
    unseen = _pick_identities(n_ids, _held_out_count(unseen_fraction, n_ids), rng)
    held_out = (codes >= 0) & unseen[np.maximum(codes, 0)]
    folds = _test_folds(np.where(held_out, -1, codes), key_rank, n_ids, n_folds, rng)
    return _assemble(index, (codes < 0) | held_out | (folds == fold))


def disjoint(labels: LabelsLike, *, test_fraction: float = 0.5, seed: int = 0) -> pd.Series:
    """Identity-disjoint split: every identity has all its images on one side.

    ``floor(test_fraction * n_identities + 0.5)`` identities (at least 1, at most
    ``n_identities - 1``) go to test, chosen by ``seed``; unknown rows go to test. For training
    an embedder on some identities and testing it zero-shot on others. ``labels``: ``(N,)``.
    """
    _check_fraction("test_fraction", test_fraction, allow_zero=False)
    codes, n_ids, _, index = _encode(labels, None)
    if n_ids < 2:
        raise DatasetError(f"an identity-disjoint split needs >= 2 known identities, got {n_ids}")
    chosen = _pick_identities(n_ids, _held_out_count(test_fraction, n_ids), _rng(seed))
    return _assemble(index, (codes < 0) | chosen[np.maximum(codes, 0)])


def time_aware(
    dates: pd.Series | Sequence[date | None],
    labels: LabelsLike,
    *,
    test_fraction: float = 0.2,
    cutoff: str | date | None = None,
    undated: UndatedPolicy = "error",
) -> pd.Series:
    """Split by date: images dated on or after ``cutoff`` are test, earlier ones train.

    Without ``cutoff`` the cutoff is the date that puts closest to ``test_fraction`` of the dated
    known-identity images in test (ties go to the later date, the smaller test set), never the
    earliest date. Known-identity rows without a date raise DatasetError (naming how many and
    the first row) unless ``undated="train"``. Unknown rows are test whatever their date. Test
    identities that never appear in train are honest new individuals (see
    :func:`photoid.data.splits_apply.summarize`). ``dates``: ``(N,)`` datetimes, NaT/None if
    missing; ``labels``: ``(N,)``.
    """
    if undated not in ("error", "train"):
        raise PhotoidError(f"undated must be 'error' or 'train', got {undated!r}")
    codes, _, _, index = _encode(labels, None)
    parsed = pd.to_datetime(pd.Series(list(dates), dtype="object"))
    if len(parsed) != len(index):
        raise PhotoidError(f"got {len(parsed)} dates for {len(index)} labels")
    when = pd.Series(parsed.to_numpy(), index=index)
    known = codes >= 0
    missing = known & when.isna().to_numpy()
    if missing.any() and undated == "error":
        first = index[np.flatnonzero(missing)[0]]
        raise DatasetError(
            f"{int(missing.sum())} image(s) of known identities have no date (first: row "
            f"{first}); fill in their dates, or put them in train with undated='train' "
            "(--undated train)",
            row=int(first) if isinstance(first, int | np.integer) else None,
        )
    dated = known & ~missing
    if not dated.any():
        raise DatasetError("no image of a known identity has a date; a time split needs dates")
    values = when.to_numpy()[dated]
    if cutoff is None:
        _check_fraction("test_fraction", test_fraction, allow_zero=False)
        limit = _quantile_cutoff(np.sort(values), test_fraction)
    else:
        limit = _parse_cutoff(cutoff)
    late = np.zeros(len(index), dtype=bool)
    late[dated] = values >= limit
    n_test = int(late.sum())
    if n_test in (0, int(dated.sum())):
        side = "test" if n_test else "train"
        raise DatasetError(
            f"cutoff {limit.date()} puts all {int(dated.sum())} dated images in {side}; "
            f"the dates run from {pd.Timestamp(values.min()).date()} to "
            f"{pd.Timestamp(values.max()).date()}"
        )
    return _assemble(index, ~known | late)


def from_column(table: pd.DataFrame, column: str) -> pd.Series:
    """The existing split ``column`` of ``table``, stripped and checked.

    Values must be one of :data:`SPLIT_VALUES` or empty (row left out); raises DatasetError
    naming the first bad row otherwise. Returns ``(N,)`` str aligned to ``table.index``.
    """
    if column not in table.columns:
        raise DatasetError(f"no column {column!r}; the table has {', '.join(table.columns)}")
    values = table[column].fillna("").astype(str).str.strip()
    bad = values[~values.isin(SPLIT_VALUES | {""})]
    if len(bad):
        raise DatasetError(
            f"{len(bad)} value(s) of {column!r} are not split values (first: row {bad.index[0]}, "
            f"{bad.iloc[0]!r}); use {', '.join(sorted(SPLIT_VALUES))} or leave the cell empty"
        )
    return values.rename("split")


def _rng(seed: int) -> np.random.Generator:
    if seed < 0:
        raise PhotoidError(f"seed must be >= 0, got {seed}")
    return np.random.Generator(np.random.PCG64(seed))


def _check_folds(n_folds: int, fold: int) -> None:
    if n_folds < 2:
        raise PhotoidError(f"n_folds must be >= 2, got {n_folds}")
    if not 0 <= fold < n_folds:
        raise PhotoidError(f"fold must be in 0..{n_folds - 1}, got {fold}")


def _check_fraction(name: str, value: float, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value < 1):
        bounds = "[0, 1)" if allow_zero else "(0, 1)"
        raise PhotoidError(f"{name} must be in {bounds}, got {value}")


def _held_out_count(fraction: float, n_ids: int) -> int:
    """Round half up; >= 1 when fraction > 0 and n_ids >= 2; always leaves one identity."""
    count = int(np.floor(fraction * n_ids + 0.5))
    if fraction > 0 and n_ids >= 2:
        count = max(count, 1)
    return max(0, min(count, n_ids - 1))


def _pick_identities(n_ids: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_ids,)`` bool: ``count`` identities chosen by a seeded stable ranking."""
    chosen = np.zeros(n_ids, dtype=bool)
    chosen[np.argsort(rng.random(n_ids), kind="stable")[:count]] = True
    return chosen


def _encode(
    labels: LabelsLike, keys: KeysLike | None
) -> tuple[np.ndarray, int, np.ndarray, pd.Index]:
    """Identity codes ``(N,)`` int64 (rank among sorted identities, -1 unknown), the number of
    identities, key ranks ``(N,)`` int64 (0 without keys) and the output index."""
    series = labels if isinstance(labels, pd.Series) else pd.Series(list(labels), dtype="object")
    if series.isna().any():
        first = series.index[np.flatnonzero(series.isna().to_numpy())[0]]
        raise DatasetError(f"row {first} has no identity label")
    values = series.to_numpy()
    unknown = np.array([v in (UNKNOWN_LABEL, UNKNOWN_IDENTITY) for v in values], dtype=bool)
    codes = np.full(len(values), -1, dtype=np.int64)
    identities, inverse = np.unique(values[~unknown], return_inverse=True)
    codes[~unknown] = inverse
    key_rank = np.zeros(len(values), dtype=np.int64)
    if keys is not None:
        key_text = np.array([str(k) for k in keys], dtype=object)
        if len(key_text) != len(values):
            raise PhotoidError(f"got {len(key_text)} keys for {len(values)} labels")
        key_rank = np.unique(key_text, return_inverse=True)[1].astype(np.int64)
    return codes, len(identities), key_rank, series.index


def _test_folds(
    codes: np.ndarray, key_rank: np.ndarray, n_ids: int, n_folds: int, rng: np.random.Generator
) -> np.ndarray:
    """``(N,)`` int64: the fold in which each row is test, -1 if never (code -1 or singleton).

    Rows are put in canonical order (identity, key, position), shuffled within each identity,
    and dealt round-robin over the folds, identities visited in a seeded order.
    """
    rows = np.flatnonzero(codes >= 0)
    rows = rows[np.lexsort((rows, key_rank[rows], codes[rows]))]
    sizes = np.bincount(codes[rows], minlength=n_ids)
    visit = np.argsort(rng.random(n_ids), kind="stable")
    dealt = np.where(sizes[visit] >= 2, sizes[visit], 0)
    offset = np.zeros(n_ids, dtype=np.int64)
    offset[visit] = np.cumsum(dealt) - dealt
    shuffled = rows[np.lexsort((rng.random(len(rows)), codes[rows]))]
    first_of_identity = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = codes[shuffled]
    rank = np.arange(len(shuffled)) - first_of_identity[group]
    folds = np.full(len(codes), -1, dtype=np.int64)
    folds[shuffled] = np.where(sizes[group] >= 2, (offset[group] + rank) % n_folds, -1)
    return folds


def _quantile_cutoff(ordered: np.ndarray, fraction: float) -> pd.Timestamp:
    """The date (not the earliest) whose on-or-after count is closest to ``fraction`` of all."""
    distinct = np.unique(ordered)
    if len(distinct) < 2:
        raise DatasetError(
            f"the {len(ordered)} dated images share {len(distinct)} date(s); a time split needs "
            "at least two different dates"
        )
    on_or_after = len(ordered) - np.searchsorted(ordered, distinct[1:], side="left")
    error = np.abs(on_or_after - fraction * len(ordered))
    best = len(error) - 1 - int(np.argmin(error[::-1]))
    return pd.Timestamp(distinct[1:][best])


def _parse_cutoff(cutoff: str | date) -> pd.Timestamp:
    try:
        limit = pd.Timestamp(cutoff)
    except ValueError:
        raise PhotoidError(f"cutoff {cutoff!r} is not a date (YYYY-MM-DD)") from None
    if pd.isna(limit):
        raise PhotoidError(f"cutoff {cutoff!r} is not a date (YYYY-MM-DD)")
    return limit


def _assemble(index: pd.Index, test: np.ndarray) -> pd.Series:
    return pd.Series(np.where(test, TEST, TRAIN).astype(object), index=index, name="split")
