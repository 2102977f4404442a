"""Reading and writing ``metadata.csv`` with errors that say what is wrong and how to fix it.

The file is parsed by the :mod:`csv` module in strict mode, record by record, so every message
names the line a user sees in an editor: a quote left open, a stray quote, a row with too many
or too few cells, a line break inside a cell, a NUL byte or a byte that is not UTF-8 each stop
the read with a :class:`photoid.errors.DatasetError` naming the file and that line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from photoid.data.schema import REQUIRED_COLUMNS
from photoid.errors import DatasetError
from photoid.files import atomic_open

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTING = 'write a quote that belongs to a cell as two quotes ("")'
_SHOWN = 60  # characters of a line quoted in a message


def read_metadata_csv(path: Path) -> pd.DataFrame:
    """Read a metadata CSV as text cells (no type guessing, empty cells stay ``""``).

    The index (named ``line``) is each row's line number in the file, header = line 1; blank
    lines are skipped but still counted. Raises DatasetError for a missing file, a file that is
    not UTF-8 text, a wrong delimiter, a missing required column, duplicate column names, an
    unclosed or stray quote, a line break inside a cell, or a row whose cells do not match the
    header.
    """
    if not path.is_file():
        raise DatasetError("file not found; a dataset folder must hold metadata.csv", path=path)
    text = _decoded(path)
    if not text.strip():
        raise DatasetError("the file is empty; it needs a header line 'image,identity'", path=path)
    lines = _LINE_BREAK.split(text)
    records = _records(path, text, lines)
    header_line, header_row = records[0]
    header = [h.strip() for h in header_row]
    _check_header(path, header, lines[header_line - 1], header_line)
    body = records[1:]
    for line, row in body:
        if len(row) != len(header):
            raise DatasetError(_cell_count_message(row, header), path=path, row=line)
    frame = pd.DataFrame([row for _, row in body], columns=header, dtype="object")
    frame.index = pd.Index([line for line, _ in body], name="line")
    return frame.astype(str) if len(frame) else frame


def _decoded(path: Path) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped) without NUL characters."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetError(
            "the file is UTF-16 text; save it as CSV UTF-8 (in a spreadsheet: "
            "'CSV UTF-8 (comma delimited)') and try again",
            path=path,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_at(raw[: exc.start].decode("utf-8", errors="replace"))
        raise DatasetError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); "
            "save the file as UTF-8 and try again",
            path=path,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = _line_at(text[:nul])
        if raw.count(b"\x00") * 3 > len(raw):  # every other byte zero: UTF-16 without a mark
            message = "the file looks like UTF-16 text (NUL bytes); save it as CSV UTF-8"
        else:
            message = (
                f"a NUL byte (0x00) on line {line}, which CSV text never holds: delete it, or "
                "export the file again as CSV UTF-8"
            )
        raise DatasetError(message, path=path, row=line)
    return text


def _line_at(prefix: str) -> int:
    """The line number (1-based) of the character that follows ``prefix``."""
    return len(_LINE_BREAK.findall(prefix)) + 1


def _records(path: Path, text: str, lines: list[str]) -> list[tuple[int, list[str]]]:
    """Every non-blank record of ``text`` (split into ``lines``, quoted in messages) with the
    line it starts on; strict about quotes and line breaks.

    The csv reader counts physical lines (``line_num``), so a record's first line is one past
    the count before it was read, blank lines included.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise _parse_error(path, exc, start, reader.line_num, lines) from None
        if reader.line_num != start:
            raise DatasetError(
                f"a cell holds a line break, so this row runs over lines {start} to "
                f"{reader.line_num}: most likely a quote opened on line {start} "
                f"({_shown(lines[start - 1])}) closes only on line {reader.line_num}. "
                f"metadata.csv needs one row per line: close the quote on line {start} "
                f"(and {_QUOTING}) or remove the line break from the cell",
                path=path,
                row=start,
            )
        if row and not (len(row) == 1 and not row[0].strip()):  # not a blank line
            records.append((start, row))


def _parse_error(
    path: Path, exc: csv.Error, start: int, end: int, lines: list[str]
) -> DatasetError:
    """The csv module's complaint as an error naming the line(s) and the fix."""
    if "unexpected end of data" in str(exc) or "field larger than field limit" in str(exc):
        # A cell over the csv module's size limit is, in a metadata file, an open quote too.
        until = "the end of the file" if end >= len(lines) - 1 else f"line {end} and on"
        return DatasetError(
            f"a quote opened on line {start} ({_shown(lines[start - 1])}) is never closed, so "
            f"every line after it (to {until}) would be read as one cell; close the quote, "
            f"or {_QUOTING}",
            path=path,
            row=start,
        )
    if "expected after" in str(exc):
        where = f"on line {end}"
        if end != start:
            where += f", closing a quote opened on line {start} ({_shown(lines[start - 1])})"
        return DatasetError(
            f"a stray quote {where}: {_shown(lines[end - 1])}; a quoted cell must end with a "
            f"quote followed by a comma or the end of the line; {_QUOTING}",
            path=path,
            row=start,
        )
    return DatasetError(
        f"line {end} cannot be read as CSV ({exc}); check that line in a text editor",
        path=path,
        row=start,
    )


def _shown(line: str) -> str:
    return repr(line if len(line) <= _SHOWN else line[:_SHOWN] + "...")


def _cell_count_message(row: list[str], header: list[str]) -> str:
    count = f"has {len(row)} cells but the header has {len(header)}"
    if any(cell[:1].isspace() and cell.lstrip().startswith('"') for cell in row):
        return (
            f"{count}: a space before an opening quote makes the quote part of the cell, so "
            'the commas inside it split it; write ,"10,20,30,40" without the space'
        )
    if len(row) > len(header):
        return f'{count}; quote cells that contain commas (e.g. "10,20,30,40")'
    return f"{count}; give every column a cell (an empty cell is written as nothing: a,,c)"


def _check_header(path: Path, header: list[str], first_line: str, line: int) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        for delimiter in (";", "\t", "|"):
            if delimiter in first_line and all(c in first_line for c in REQUIRED_COLUMNS):
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                raise DatasetError(
                    f"the header is separated by {shown}, not commas; "
                    "save it as comma-separated (CSV)",
                    path=path,
                    row=line,
                )
        raise DatasetError(
            f"missing required column(s) {', '.join(missing)}; the header has "
            f"{', '.join(repr(h) for h in header)}",
            path=path,
            row=line,
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DatasetError(f"column {name!r} appears twice in the header", path=path, row=line)
        seen.add(name)


def write_metadata_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, binary=False) as handle:
        frame.to_csv(handle, index=False)
