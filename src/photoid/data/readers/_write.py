"""Writing converted entries as a native dataset: images copied (or hard-linked) under
OUT/images/.

Everything that can fail on the source side is checked before OUT is touched, and the images are
staged in a hidden folder inside OUT, so a failed conversion never leaves half a dataset behind
and ``overwrite`` replaces the old images only once the new ones are all in place.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from photoid.data.csvio import write_metadata_csv
from photoid.data.schema import METADATA_FILE, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from photoid.errors import DatasetError
from photoid.files import link_or_copy

IMAGES_DIR = "images"

# Called after each image written with (images done, images in all).
ProgressCallback = Callable[[int, int], None]


class CopiedNotLinked(UserWarning):
    """Some images were copied although hard links were asked for (one warning per write)."""


@dataclass(frozen=True)
class Entry:
    """One row of the converted ``metadata.csv``.

    ``source``: the image file in the source dataset. ``image``: its destination, a POSIX path
    relative to OUT starting with ``images/``. ``cells``: the other cells as text (``identity``
    and any optional or extra column). ``origin`` and ``row``: the file (and CSV line) the entry
    came from, named in error messages.
    """

    source: Path
    image: str
    cells: Mapping[str, str]
    origin: Path
    row: int | None = None


def destination(*parts: str) -> str:
    """``images/<parts...>`` as a POSIX path; ``..`` and empty parts are dropped."""
    clean = [p for part in parts for p in PurePosixPath(part.replace("\\", "/")).parts]
    kept = [p for p in clean if p not in ("", ".", "..", "/")]
    return str(PurePosixPath(IMAGES_DIR, *kept))


def keep_existing(entries: Sequence[Entry], *, skip_missing: bool) -> list[Entry]:
    """Entries whose source image exists.

    A missing image raises DatasetError naming the file and row, unless ``skip_missing``: then
    those rows are left out with one warning giving their count and the first of them.
    """
    present = [e.source.is_file() for e in entries]
    missing = [e for e, ok in zip(entries, present, strict=True) if not ok]
    if not missing:
        return list(entries)
    first = missing[0]
    if not skip_missing:
        raise DatasetError(
            f"lists image {first.source}, which does not exist ({len(missing)} listed image(s) "
            "missing in all); restore the file(s), fix the row(s), or pass --skip-missing to "
            "leave such rows out",
            path=first.origin,
            row=first.row,
        )
    where = f"{first.origin}" + (f", row {first.row}" if first.row is not None else "")
    warnings.warn(
        f"skipped {len(missing)} listed image(s) that do not exist (first: {first.source}, "
        f"listed in {where})",
        UserWarning,
        stacklevel=2,
    )
    return [e for e, ok in zip(entries, present, strict=True) if ok]


def check_output(out: Path, sources: Sequence[Path], *, overwrite: bool) -> None:
    """Refuse an OUT that holds a converted dataset (unless ``overwrite``) or overlaps a source."""
    target = out.resolve()
    for source in sources:
        src = source.resolve()
        if target == src or target.is_relative_to(src) or src.is_relative_to(target):
            raise DatasetError(
                f"the output folder and the source folder {source} overlap; "
                "choose an output folder outside the source",
                path=out,
            )
    if out.exists() and not out.is_dir():
        raise DatasetError("exists and is not a folder; choose another output folder", path=out)
    taken = [name for name in (METADATA_FILE, IMAGES_DIR) if (out / name).exists()]
    if taken and not overwrite:
        raise DatasetError(
            f"already holds {' and '.join(taken)}; choose an empty output folder, or pass "
            "--overwrite to replace them",
            path=out,
        )


def write_dataset(
    entries: Sequence[Entry],
    out: Path,
    *,
    link: bool = False,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Copy every image to ``out`` and write ``out/metadata.csv``.

    With ``link`` each image is a hard link to its source instead: a regular file inside
    ``out`` sharing the source's data, so nothing is copied and the dataset passes the path
    rule of :mod:`photoid.data.paths` like a copied one. Where no hard link can be made (the
    source on another file system, or hard links not allowed) the image is copied, and one
    :class:`CopiedNotLinked` warning says how many were.

    Columns: image, identity, the optional native columns present, then other columns in the
    order first met. Entries sharing a destination must share a source (one image, several rows,
    e.g. one box per animal); the file is written once. Returns ``out``.
    """
    if not entries:
        raise DatasetError("no images to convert; check the source folder and format", path=out)
    files = _unique_files(entries)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".photoid-convert-", dir=out))
    refusals: list[tuple[Path, OSError]] = []
    try:
        for done, (image, source) in enumerate(files.items(), start=1):
            target = staging / image
            target.parent.mkdir(parents=True, exist_ok=True)
            if not link:
                shutil.copyfile(source, target)
            elif (refused := link_or_copy(source, target)) is not None:
                refusals.append((source, refused))
            if on_progress is not None:
                on_progress(done, len(files))
        current = out / IMAGES_DIR
        if current.exists() or current.is_symlink():
            # Swapped aside, not deleted first: the old images go only with the staging folder.
            current.rename(staging / "replaced")
        (staging / IMAGES_DIR).rename(current)
        write_metadata_csv(_frame(entries), out / METADATA_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if refusals:
        _warn_copied(refusals, len(files), out)
    return out


def _warn_copied(refusals: Sequence[tuple[Path, OSError]], total: int, out: Path) -> None:
    source, first = refusals[0]
    warnings.warn(
        CopiedNotLinked(
            f"copied {len(refusals)} of {total} image(s) instead of hard-linking them: the "
            f"source is on another file system than {out}, or hard links are not allowed "
            f"there (first: {source}: {first.strerror or first}); the dataset is complete, "
            "the copies take disk space"
        ),
        stacklevel=3,
    )


def _unique_files(entries: Sequence[Entry]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    first_row: dict[str, Entry] = {}
    for entry in entries:
        known = files.setdefault(entry.image, entry.source)
        first_row.setdefault(entry.image, entry)
        if known.resolve() != entry.source.resolve():
            other = first_row[entry.image]
            raise DatasetError(
                f"image {entry.source} would be written to {entry.image}, like {other.source} "
                f"(listed in {other.origin}"
                + (f", row {other.row}" if other.row is not None else "")
                + "); rename one of the files",
                path=entry.origin,
                row=entry.row,
            )
    return files


def _frame(entries: Sequence[Entry]) -> pd.DataFrame:
    columns: list[str] = []
    for entry in entries:
        columns.extend(c for c in entry.cells if c not in columns)
    native = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns]
    order = ["image", *native, *(c for c in columns if c not in native)]
    rows = [[e.image, *(e.cells.get(c, "") for c in order[1:])] for e in entries]
    return pd.DataFrame(rows, columns=order, dtype="object")
