"""Reader for any dataset class of the ``wildlife-datasets`` package (e.g. LionData, CTai).

The class builds its catalogue from its own folder layout:
``wildlife_datasets.datasets.<Name>(root)`` gives a DataFrame with ``image_id``, ``identity``,
``path`` (relative to root) and, depending on the dataset, ``bbox`` ([x, y, w, h] pixels),
``date``, ``species``, ``orientation``, ``original_split`` and others. Mapping to the native format:

- ``path`` -> ``image`` = ``images/<path>``; the class's ``unknown_name`` -> the unknown identity;
- ``bbox`` -> ``bbox`` "x,y,w,h"; ``date`` -> ``date`` YYYY-MM-DD; ``species`` (lists joined by
  ", "); ``orientation`` -> ``viewpoint`` (unless the frame has a ``viewpoint`` column itself);
- ``original_split`` and any other ``split``/``*_split`` column -> a split column: train, val
  (also from valid, validation), test (testing), gallery (database), query; other values are
  left out of it with a warning;
- every other column is kept as text (lists and dicts as JSON); ``image`` and ``label`` are
  renamed ``wd_image`` and ``wd_label``, since photoid reserves them.

Nothing is lost: when a bbox, date or split value cannot be carried over as it is (a bad box,
a date that does not parse or has a time of day, a value that is no split name), the column's
original text is kept beside it as ``<column>_raw``.
"""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from photoid.data.readers._write import Entry, destination
from photoid.data.schema import UNKNOWN_IDENTITY, format_bbox, is_split_column, parse_bbox
from photoid.errors import DatasetError

SPLIT_SYNONYMS: dict[str, str] = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
    "gallery": "gallery",
    "database": "gallery",
    "query": "query",
}
_RENAMED = {"image": "wd_image", "label": "wd_label"}


def dataset_names() -> list[str]:
    """Names of the dataset classes ``wildlife_datasets.datasets`` offers, sorted."""
    from wildlife_datasets import datasets

    return sorted(
        name
        for name, obj in vars(datasets).items()
        if isinstance(obj, type)
        and issubclass(obj, datasets.WildlifeDataset)
        and obj not in (datasets.WildlifeDataset, datasets.DatasetFactory)
    )


def read_wildlife(source: Path, *, dataset: str) -> list[Entry]:
    """Build ``wildlife_datasets.datasets.<dataset>(source)`` and map its DataFrame to entries."""
    from wildlife_datasets import datasets

    names = dataset_names()
    if dataset not in names:
        close = difflib.get_close_matches(dataset, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise DatasetError(
            f"wildlife-datasets has no dataset class {dataset!r}; {hint}choose one of "
            f"{', '.join(names)}",
            path=source,
        )
    cls = getattr(datasets, dataset)
    try:
        # Missing files are reported by photoid with the row, so the class need not check them.
        frame = cls(str(source), check_files=False).df
    except Exception as exc:  # any failure inside a third-party class means a wrong layout
        raise DatasetError(
            f"wildlife_datasets.datasets.{dataset} could not read this folder "
            f"({type(exc).__name__}: {exc}); check that it holds the files in the layout "
            "that class expects (its create_catalogue; symlinked folders are not followed)",
            path=source,
        ) from exc
    return frame_entries(frame, source, unknown_name=cls.unknown_name)


def frame_entries(frame: pd.DataFrame, root: Path, *, unknown_name: str = "unknown") -> list[Entry]:
    """Map a wildlife-datasets DataFrame (paths relative to ``root``) to native entries."""
    for column in ("identity", "path"):
        if column not in frame.columns:
            raise DatasetError(
                f"the wildlife-datasets frame has no {column!r} column (it has "
                f"{', '.join(map(str, frame.columns))})",
                path=root,
            )
    columns: dict[str, list[str]] = {
        "identity": [_identity(v, unknown_name) for v in frame["identity"]]
    }
    viewpoint = "viewpoint" if "viewpoint" in frame.columns else "orientation"
    for name in frame.columns:
        values = list(frame[name])
        if name in ("identity", "path"):
            continue
        if name == "bbox":
            _convert(columns, name, "bbox", values, _bbox)
        elif name == "date":
            _convert(columns, name, "date", values, _date)
        elif is_split_column(name):
            _convert(columns, name, name, values, _split)
        elif name == viewpoint:
            columns["viewpoint"] = [_text(v) for v in values]
        elif name == "species":
            columns["species"] = [
                ", ".join(map(_text, v)) if _is_list(v) else _text(v) for v in values
            ]
        else:
            columns[_RENAMED.get(name, name)] = [_text(v) for v in values]
    paths = [_text(p) for p in frame["path"]]
    return [
        Entry(
            source=root / path,
            image=destination(path),
            cells={name: cells[i] for name, cells in columns.items()},
            origin=root,
        )
        for i, path in enumerate(paths)
    ]


def _convert(
    columns: dict[str, list[str]],
    name: str,
    target: str,
    values: Sequence[Any],
    parse: Callable[[Any], tuple[str, bool, bool]],
) -> None:
    """``parse(value) -> (text, lossless, valid)``; keep ``<name>_raw`` if anything is lost."""
    parsed = [parse(v) for v in values]
    columns[target] = [text for text, _, _ in parsed]
    bad = [_text(v) for v, (_, _, valid) in zip(values, parsed, strict=True) if not valid]
    if not all(lossless for _, lossless, _ in parsed):
        columns[f"{name}_raw"] = [_text(v) for v in values]
    if bad:
        examples = ", ".join(repr(b) for b in sorted(set(bad))[:3])
        warnings.warn(
            f"wildlife-datasets column {name!r}: {len(bad)} value(s) could not be used as {target} "
            f"(e.g. {examples}); left empty there, the original text is kept in {name}_raw",
            UserWarning,
            stacklevel=3,
        )


def _bbox(value: Any) -> tuple[str, bool, bool]:
    if _is_missing(value):
        return "", True, True
    text = ",".join(map(_text, value)) if _is_list(value) else _text(value)
    try:
        return format_bbox(parse_bbox(text)), True, True
    except ValueError:
        return "", False, False


def _date(value: Any) -> tuple[str, bool, bool]:
    if _is_missing(value) or _text(value) == "":
        return "", True, True
    plain = value if isinstance(value, datetime | date | np.datetime64) else _text(value)
    try:
        stamp = pd.Timestamp(plain)
    except (ValueError, TypeError, OverflowError):
        return "", False, False
    if pd.isna(stamp):
        return "", False, False
    return stamp.strftime("%Y-%m-%d"), stamp == stamp.normalize(), True


def _split(value: Any) -> tuple[str, bool, bool]:
    text = _text(value)
    if text == "":
        return "", True, True
    mapped = SPLIT_SYNONYMS.get(text.lower())
    return (mapped, True, True) if mapped else ("", False, False)


def _identity(value: Any, unknown_name: str) -> str:
    text = _text(value)
    return UNKNOWN_IDENTITY if text in ("", unknown_name) else text


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _is_missing(value: Any) -> bool:
    return not _is_list(value) and not isinstance(value, dict) and bool(pd.isna(value))


def _text(value: Any) -> str:
    """A cell as text: missing -> "", whole floats without ".0", lists and dicts as JSON."""
    if _is_list(value) or isinstance(value, dict):
        plain = value.tolist() if isinstance(value, np.ndarray) else value
        try:
            return json.dumps(plain, default=str)
        except (TypeError, ValueError):
            return str(plain)
    if _is_missing(value):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()
