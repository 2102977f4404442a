"""Pseudo-labelling: confident predictions for query photos become training rows of another round.

The gallery is a split column's ``train``/``gallery`` rows of known identity; the queries are its
``test``/``query`` rows and every row of identity ``unknown``. A query whose top-1 identity
scores at least ``min_score``, and beats the second identity by ``min_margin``, is accepted.
In the table written back (the native format, every other cell unchanged), an accepted row:

- is ``train`` in a new split column ``pseudo_<column>`` (a split column must be named
  ``split`` or ``*_split``); every other row keeps its value of ``<column>``;
- takes the predicted identity in ``identity``, because training reads that column: a second
  round must learn what the model predicted, never the hidden truth of a test row;
- records the prediction in ``pseudo_identity``, its score in ``pseudo_score``, and the identity
  it had before in ``identity_before_pseudo`` (kept from an earlier round when already set), so
  the truth stays in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from photoid.core import Identification
from photoid.data.csvio import read_metadata_csv
from photoid.data.readers._write import Entry, check_output, destination, write_dataset
from photoid.data.schema import METADATA_FILE, UNKNOWN_IDENTITY, is_split_column
from photoid.data.selection import GALLERY_VALUES, QUERY_VALUES
from photoid.data.table import Dataset, save_metadata, to_metadata_frame
from photoid.deep.checkpoints import load_deep_engine
from photoid.deep.ensemble import Combine
from photoid.errors import DatasetError, PhotoidError
from photoid.progress import StageProgress, stage_callback

PREDICTION_COLUMN = "pseudo_identity"
SCORE_COLUMN = "pseudo_score"
BEFORE_COLUMN = "identity_before_pseudo"


@dataclass(frozen=True)
class PseudoLabels:
    """The new table and one row per query.

    ``table``: the dataset's typed table (without ``label``) with the pseudo-label columns.
    ``queries``: indexed by CSV line; columns ``image``, ``identity`` (before), ``predicted``
    (``""`` without a candidate), ``score`` and ``margin`` (float64; -inf / inf where missing)
    and ``accepted`` (bool).
    """

    table: pd.DataFrame
    column: str
    queries: pd.DataFrame

    @property
    def labelled(self) -> int:
        """Accepted queries."""
        return int(self.queries["accepted"].sum())

    @property
    def checked(self) -> int:
        """Accepted queries whose identity was known, so the prediction can be checked."""
        return int(
            (self.queries["accepted"] & (self.queries["identity"] != UNKNOWN_IDENTITY)).sum()
        )

    @property
    def right(self) -> int:
        """Accepted queries whose prediction equals their known identity."""
        accepted = self.queries[self.queries["accepted"]]
        return int((accepted["predicted"] == accepted["identity"]).sum())


def pseudo_column(split_column: str) -> str:
    """The split column pseudo-labels go to: ``pseudo_<split_column>``."""
    return f"pseudo_{split_column}"


def split_masks(dataset: Dataset, split_column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(N,)`` bool masks of the gallery rows (train/gallery, known identity) and the query
    rows (test/query, or identity ``unknown``) of ``split_column``."""
    if split_column not in dataset.split_columns:
        raise DatasetError(
            f"no split column {split_column!r}; this dataset has "
            f"{dataset.split_columns or 'none'} (make one with `photoid data split`)",
            path=dataset.root / METADATA_FILE,
        )
    values = dataset.table[split_column]
    unknown = (dataset.table["identity"] == UNKNOWN_IDENTITY).to_numpy()
    gallery = values.isin(list(GALLERY_VALUES)).to_numpy() & ~unknown
    queries = values.isin(list(QUERY_VALUES)).to_numpy() | unknown
    if not gallery.any() or not queries.any():
        raise DatasetError(
            f"split column {split_column!r} needs known train rows (the gallery) and test rows "
            f"or unknown rows (the queries); it has {int(gallery.sum())} and {int(queries.sum())}",
            path=dataset.root / METADATA_FILE,
        )
    return gallery, queries


def decide(
    answers: Sequence[Identification], min_score: float, min_margin: float = 0.0
) -> pd.DataFrame:
    """Columns ``predicted``, ``score``, ``margin`` (top-1 minus top-2 score; inf without a
    second identity) and ``accepted`` (score >= ``min_score`` and margin >= ``min_margin``)."""
    predicted, scores, margins = [], [], []
    for answer in answers:
        found = answer.candidates
        predicted.append(found[0].identity if found else "")
        scores.append(found[0].score if found else -np.inf)
        margins.append(found[0].score - found[1].score if len(found) > 1 else np.inf)
    frame = pd.DataFrame({"predicted": predicted, "score": scores, "margin": margins})
    frame["accepted"] = (frame["score"] >= min_score) & (frame["margin"] >= min_margin)
    return frame


def with_pseudo_labels(
    table: pd.DataFrame, split_column: str, queries: pd.DataFrame, column: str
) -> pd.DataFrame:
    """A copy of ``table`` (without ``label``) with the accepted ``queries`` (indexed like the
    table, columns ``predicted``/``score``/``accepted``) written as the module docstring says."""
    out = table.drop(columns=["label"], errors="ignore").copy()
    accepted = queries[queries["accepted"]]
    rows = accepted.index
    out[column] = out[split_column]
    out.loc[rows, column] = "train"
    for name in (PREDICTION_COLUMN, SCORE_COLUMN, BEFORE_COLUMN):
        if name not in out.columns:
            out[name] = ""
        out[name] = out[name].fillna("").astype(str)
    earlier = out.loc[rows, BEFORE_COLUMN]
    out.loc[rows, BEFORE_COLUMN] = earlier.where(earlier != "", out.loc[rows, "identity"])
    out.loc[rows, PREDICTION_COLUMN] = accepted["predicted"]
    out.loc[rows, SCORE_COLUMN] = [f"{s:.6f}" for s in accepted["score"]]
    out.loc[rows, "identity"] = accepted["predicted"]
    return out


def pseudo_label(
    dataset: Dataset,
    models: Sequence[Path],
    split_column: str,
    *,
    min_score: float,
    min_margin: float = 0.0,
    column: str | None = None,
    tta: Sequence[str] = (),
    ensemble: Combine = "mean",
    progress: StageProgress | None = None,
    device: str = "auto",
    precision: str = "auto",
) -> PseudoLabels:
    """Identify the queries of ``split_column`` against its gallery with the model(s) on
    ``device`` and pseudo-label the confident ones (module docstring). Nothing is written."""
    name = column if column is not None else pseudo_column(split_column)
    if not is_split_column(name) or name == split_column:
        raise PhotoidError(
            f"--column {name!r}: a new split column must be named 'split' or end in '_split', "
            f"and differ from {split_column!r}"
        )
    gallery_rows, query_rows = split_masks(dataset, split_column)
    gallery, queries = dataset.subset(gallery_rows), dataset.subset(query_rows)
    engine = load_deep_engine(
        models,
        gallery,
        tta=tta,
        ensemble=ensemble,
        progress=stage_callback(progress, "gallery", len(gallery)),
        device=device,
        precision=precision,
    )
    answers = engine.identify(
        queries.paths(),
        bboxes=queries.cells("bbox"),
        names=list(queries.table["image"]),
        progress=stage_callback(progress, "queries", len(queries)),
    )
    decided = decide(answers, min_score, min_margin)
    decided.index = queries.table.index
    decided.insert(0, "identity", queries.table["identity"])
    decided.insert(0, "image", queries.table["image"])
    table = with_pseudo_labels(dataset.table, split_column, decided, name)
    return PseudoLabels(table, name, decided)


def write_pseudo_labels(
    labels: PseudoLabels,
    dataset: Dataset,
    *,
    out: Path | None = None,
    in_place: bool = False,
    link: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the table: as a new dataset folder ``out`` (images copied, or hard-linked with
    ``link`` where the file system allows, see :func:`photoid.data.readers._write.write_dataset`),
    or atomically over ``dataset``'s own metadata.csv with ``in_place`` (its
    columns keep their order; the new ones come last)."""
    if (out is None) == (not in_place):
        raise PhotoidError("give exactly one of --out FOLDER and --in-place")
    if out is None:
        header = read_metadata_csv(dataset.root / METADATA_FILE).columns
        order = [c for c in header if c in labels.table.columns]
        order += [c for c in labels.table.columns if c not in order]
        return save_metadata(labels.table[order], dataset.root)
    check_output(out, [dataset.root], overwrite=overwrite)
    cells = to_metadata_frame(labels.table)
    columns = [c for c in cells.columns if c != "image"]
    entries = [
        Entry(
            source=dataset.root / image,
            image=_destination(image),
            cells=dict(zip(columns, values, strict=True)),
            origin=dataset.root / METADATA_FILE,
            row=int(line),
        )
        for line, image, values in zip(
            cells.index, cells["image"], cells[columns].itertuples(index=False), strict=True
        )
    ]
    write_dataset(entries, out, link=link, on_progress=progress)
    return out / METADATA_FILE


def _destination(image: str) -> str:
    """The image's place in the new folder: its own path, under ``images/`` if not already."""
    parts = PurePosixPath(image.replace("\\", "/")).parts
    return destination(*parts[1:]) if parts and parts[0] == "images" else destination(image)
