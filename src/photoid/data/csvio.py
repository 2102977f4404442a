"""Reading and writing ``metadata.csv`` with errors that say what is wrong and how to fix it."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from photoid.data.schema import REQUIRED_COLUMNS
from photoid.errors import DatasetError
from photoid.files import atomic_open


def read_metadata_csv(path: Path) -> pd.DataFrame:
    """Read a metadata CSV as text cells (no type guessing, empty cells stay ``""``).

    Raises DatasetError for a missing file, a file that is not UTF-8, a wrong delimiter,
    a missing required column, ragged rows or duplicate column names.
    """
    if not path.is_file():
        raise DatasetError("file not found; a dataset folder must hold metadata.csv", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); "
            "save the file as UTF-8 and try again",
            path=path,
        ) from None
    if not text.strip():
        raise DatasetError("the file is empty; it needs a header line 'image,identity'", path=path)
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip() for h in rows[0]]
    _check_header(path, header, text.splitlines()[0])
    for number, row in enumerate(rows[1:], start=2):
        if not row:  # a blank line
            continue
        if len(row) != len(header):
            raise DatasetError(
                f"has {len(row)} cells but the header has {len(header)}; "
                'quote cells that contain commas (e.g. "10,20,30,40")',
                path=path,
                row=number,
            )
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if row]
    frame = pd.DataFrame([row for _, row in body], columns=header, dtype="object")
    frame.index = pd.Index([number for number, _ in body], name="line")
    return frame.astype(str) if len(frame) else frame


def _check_header(path: Path, header: list[str], first_line: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        for delimiter in (";", "\t", "|"):
            if delimiter in first_line and all(c in first_line for c in REQUIRED_COLUMNS):
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                raise DatasetError(
                    f"the header is separated by {shown}, not commas; "
                    "save it as comma-separated (CSV)",
                    path=path,
                    row=1,
                )
        raise DatasetError(
            f"missing required column(s) {', '.join(missing)}; the header has "
            f"{', '.join(repr(h) for h in header)}",
            path=path,
            row=1,
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DatasetError(f"column {name!r} appears twice in the header", path=path, row=1)
        seen.add(name)


def write_metadata_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, binary=False) as handle:
        frame.to_csv(handle, index=False)
