"""``photoid data check``: one pass over a dataset folder that lists every problem at once.

The CSV is read once and each distinct image file is visited once (hashed, then decoded with
:func:`photoid.data.images.load_image`), so the report names every bad row and image instead of
stopping at the first, as :func:`photoid.data.table.load_dataset` does.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from pathlib import Path

from photoid.core import Box
from photoid.data.csvio import read_metadata_csv
from photoid.data.filecheck import ProgressFn, file_findings, visit_files
from photoid.data.findings import CheckReport, Finding, sort_findings
from photoid.data.images import DEFAULT_MAX_PIXELS, already_cropped_hint
from photoid.data.paths import ImagePathRule
from photoid.data.schema import (
    METADATA_FILE,
    SPLIT_VALUES,
    UNKNOWN_IDENTITY,
    is_split_column,
    parse_bbox,
)
from photoid.data.selection import QUERY_VALUES
from photoid.errors import DatasetError

Columns = dict[str, dict[int, str]]  # column name -> CSV line -> stripped text cell

DEFAULT_MIN_SIDE = 32
BBOX_TOLERANCE = 1.0  # pixels a box may overhang its image (rounding in annotation tools)
_REFERENCE_SIDE = frozenset({"train", "gallery"})
_QUERY_SIDE = QUERY_VALUES
_SHOWN_NAMES = 10


def check_dataset(
    root: Path | str,
    *,
    progress: ProgressFn | None = None,
    min_side: int = DEFAULT_MIN_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: int = 2,
) -> CheckReport:
    """Check ``root/metadata.csv`` and every image it lists; never stops at the first problem.

    Errors: unreadable CSV or one without rows (then nothing else is checked), empty image
    cell, a path leaving the folder (absolute, ``..``, or a symbolic link out of it:
    :mod:`photoid.data.paths`), missing, empty (0 bytes), non-image, over-``max_pixels``,
    truncated or corrupt files, repeated rows (same image and box), repeated file content under
    another path, empty identity, a bbox that does not parse or overhangs its image by more than
    1 px, unknown split values, dates that are not ISO (YYYY-MM-DD). Warnings: identities with
    one image, images whose shorter side is under ``min_side`` pixels, split columns whose
    test/query identities are missing from train/gallery. Infos: EXIF-rotated images, the number
    of ``unknown`` rows.

    ``progress(done, total)`` is called after each image file; ``workers`` threads decode images.
    Raises DatasetError only when ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("no such folder; give the folder that holds metadata.csv", path=root)
    try:
        raw = read_metadata_csv(root / METADATA_FILE)
    except DatasetError as exc:
        finding = Finding("error", "csv_unreadable", str(exc), exc.row, METADATA_FILE)
        return CheckReport(root, (finding,), n_rows=0, n_identities=0, n_images=0)
    if raw.empty:
        message = "the file has a header but no rows; add one row per image"
        finding = Finding("error", "csv_no_rows", message, None, METADATA_FILE)
        return CheckReport(root, (finding,), n_rows=0, n_identities=0, n_images=0)
    lines = [int(line) for line in raw.index.to_numpy()]
    columns: Columns = {
        str(name): dict(zip(lines, (str(v).strip() for v in raw[name].to_numpy()), strict=True))
        for name in raw.columns
    }
    images = columns["image"]
    paths, findings = _image_paths(images, ImagePathRule(root))
    boxes, cell_findings = _cells(columns)
    findings += cell_findings
    findings += _duplicate_rows(images, paths, boxes, columns.get("bbox", {}))
    first_row: dict[str, int] = {}
    for line, path in paths.items():
        first_row.setdefault(path, line)
    visits = visit_files(root, list(first_row), max_pixels, workers, progress)
    sizes = {line: visits[path].size for line, path in paths.items()}
    findings += file_findings(images, first_row, visits, min_side)
    findings += _bbox_findings(images, boxes, sizes, columns.get("bbox", {}))
    known = {
        line: name
        for line, name in columns["identity"].items()
        if name and name != UNKNOWN_IDENTITY
    }
    findings += _identity_findings(columns, known)
    return CheckReport(
        root,
        sort_findings(findings),
        n_rows=len(lines),
        n_identities=len(set(known.values())),
        n_images=len(visits),
    )


def _image_paths(
    images: dict[int, str], rule: ImagePathRule
) -> tuple[dict[int, str], list[Finding]]:
    """Normalised relative path of each row whose image cell is usable, and the other rows."""
    paths: dict[int, str] = {}
    findings: list[Finding] = []
    for line, cell in images.items():
        if not cell:
            message = "the image cell is empty; give the image path relative to the dataset folder"
            findings.append(Finding("error", "image_cell_empty", message, line, None))
            continue
        problem = rule.problem(cell)
        if problem is not None:
            findings.append(Finding("error", problem.code, problem.message, line, cell))
            continue
        paths[line] = posixpath.normpath(cell)
    return paths, findings


def _cells(columns: Columns) -> tuple[dict[int, Box], list[Finding]]:
    """Parsed boxes by line, and findings for identity, bbox, split and date cells."""
    images = columns["image"]
    findings: list[Finding] = []
    for line, identity in columns["identity"].items():
        if not identity:
            message = f"the identity cell is empty; write {UNKNOWN_IDENTITY!r} if it is not known"
            findings.append(Finding("error", "identity_empty", message, line, images[line] or None))
    boxes: dict[int, Box] = {}
    for line, cell in columns.get("bbox", {}).items():
        try:
            box = parse_bbox(cell)
        except ValueError as exc:
            message = f"{exc}; write x,y,w,h in pixels or leave the cell empty"
            findings.append(Finding("error", "bbox_invalid", message, line, images[line] or None))
            continue
        if box is not None:
            boxes[line] = box
    allowed = ", ".join(sorted(SPLIT_VALUES))
    for column in filter(is_split_column, columns):
        for line, value in columns[column].items():
            if value and value not in SPLIT_VALUES:
                message = (
                    f"{column} value {value!r} is not one of {allowed}; "
                    "leave the cell empty to keep the row out of this split"
                )
                findings.append(
                    Finding("error", "split_invalid", message, line, images[line] or None)
                )
    for line, value in columns.get("date", {}).items():
        if value and not _is_iso_date(value):
            message = f"date {value!r} is not an ISO date; write YYYY-MM-DD"
            findings.append(Finding("error", "date_invalid", message, line, images[line] or None))
    return boxes, findings


def _is_iso_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _duplicate_rows(
    images: dict[int, str], paths: dict[int, str], boxes: dict[int, Box], bbox_cells: dict[int, str]
) -> list[Finding]:
    """Rows listing the same image and box as an earlier row (one photo may hold several boxes)."""
    seen: dict[tuple[str, object], int] = {}
    findings: list[Finding] = []
    for line, path in paths.items():
        # An unparseable or empty bbox cell compares as text.
        box: object = boxes.get(line, bbox_cells.get(line, ""))
        first = seen.setdefault((path, box), line)
        if first != line:
            message = f"lists the same image and box as row {first}; delete one of the two rows"
            findings.append(Finding("error", "duplicate_row", message, line, images[line]))
    return findings


def _bbox_findings(
    images: dict[int, str],
    boxes: dict[int, Box],
    sizes: dict[int, tuple[int, int] | None],
    bbox_cells: dict[int, str],
) -> list[Finding]:
    """Boxes that overhang their (upright) image by more than ``BBOX_TOLERANCE`` pixels."""
    findings: list[Finding] = []
    tol = BBOX_TOLERANCE
    for line, (x, y, w, h) in boxes.items():
        size = sizes.get(line)
        if size is None:  # no image, or one that does not decode: reported already
            continue
        width, height = size
        if x < -tol or y < -tol or x + w > width + tol or y + h > height + tol:
            message = (
                f"bbox {bbox_cells[line]} spans x {x:g} to {x + w:g}, y {y:g} to {y + h:g}, "
                f"beyond the {width}x{height} image; a bbox is x,y,w,h in pixels of this image"
                + already_cropped_hint((x, y, w, h), width, height)
            )
            findings.append(Finding("error", "bbox_outside", message, line, images[line]))
    return findings


def _identity_findings(columns: Columns, known: dict[int, str]) -> list[Finding]:
    """Singleton identities, the count of ``unknown`` rows, and open-set split columns.

    ``known`` maps CSV line to identity for rows whose identity is neither empty nor unknown.
    """
    findings: list[Finding] = []
    rows_of: dict[str, list[int]] = {}
    for line, name in known.items():
        rows_of.setdefault(name, []).append(line)
    for name in sorted(rows_of):
        if len(rows_of[name]) == 1:
            line = rows_of[name][0]
            message = (
                f"identity {name!r} has only this image; it can be a query or a gallery image, "
                "never both, so add photos or expect it to count as a new individual"
            )
            findings.append(
                Finding(
                    "warning", "singleton_identity", message, line, columns["image"][line] or None
                )
            )
    n_unknown = sum(name == UNKNOWN_IDENTITY for name in columns["identity"].values())
    if n_unknown:
        message = (
            f"{n_unknown} row(s) have identity {UNKNOWN_IDENTITY!r} (label -1): "
            "they are never matched as a known individual"
        )
        findings.append(Finding("info", "unknown_identity", message))
    for column in filter(is_split_column, columns):
        side = columns[column]
        query = {name for line, name in known.items() if side[line] in _QUERY_SIDE}
        reference = {name for line, name in known.items() if side[line] in _REFERENCE_SIDE}
        missing = sorted(query - reference)
        if missing:
            shown = ", ".join(missing[:_SHOWN_NAMES])
            if len(missing) > _SHOWN_NAMES:
                shown += f", and {len(missing) - _SHOWN_NAMES} more"
            message = (
                f"{column}: {len(missing)} of {len(query)} test/query identities have no "
                f"train/gallery image ({shown}); the split is open-set for them"
            )
            findings.append(Finding("warning", "open_set_split", message))
    return findings
