"""Reading the label CSV of another dataset format, with errors naming the file, row and column."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from photoid.errors import DatasetError


def read_source_csv(
    path: Path, required: Sequence[str], *, what: str
) -> list[tuple[int, dict[str, str]]]:
    """Rows of ``path`` as ``(line number, {column: stripped text})``; blank lines are skipped.

    ``what`` says which dataset the file belongs to, for messages (e.g. "a Humpback Whale
    dataset"). Raises DatasetError for a missing or non-UTF-8 file, a missing ``required``
    column (header is row 1) or a row with the wrong number of cells.
    """
    if not path.is_file():
        raise DatasetError(
            f"file not found; {what} must hold {path.name} with columns {', '.join(required)}",
            path=path,
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(
            "not valid UTF-8; save the file as UTF-8 and try again", path=path
        ) from None
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    shown = ", ".join(repr(h) for h in header) or "nothing"
    if missing:
        raise DatasetError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; {what} needs "
            f"{', '.join(required)}, the header has {shown}",
            path=path,
            row=1,
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DatasetError(
                f"has {len(row)} cells but the header has {len(header)}; "
                "quote cells that contain commas",
                path=path,
                row=reader.line_num,
            )
        rows.append(
            (reader.line_num, {h: cell.strip() for h, cell in zip(header, row, strict=True)})
        )
    return rows
