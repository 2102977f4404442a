"""Readers of other photo-ID dataset formats, and :func:`convert` into photoid's native format.

Each reader takes the source folder (and its own keyword options) and returns one
:class:`Entry` per image. ``READERS`` maps the format name to its reader; adding a format is
one module and one line here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from photoid.data.readers._write import (
    CopiedNotLinked,
    Entry,
    ProgressCallback,
    check_output,
    keep_existing,
    write_dataset,
)
from photoid.data.readers.folder import read_folder
from photoid.data.readers.happywhale import read_happywhale
from photoid.data.readers.humpback import read_humpback
from photoid.data.readers.turtle_recall import read_turtle_recall
from photoid.data.readers.wildlife import read_wildlife
from photoid.errors import DatasetError, PhotoidError

Reader = Callable[..., list[Entry]]

READERS: dict[str, Reader] = {
    "folder": read_folder,
    "humpback": read_humpback,
    "happywhale": read_happywhale,
    "turtle_recall": read_turtle_recall,
    "wildlife": read_wildlife,
}


def reader_options(fmt: str) -> dict[str, bool]:
    """The keyword options the reader of ``fmt`` takes, each with whether it is required."""
    parameters = inspect.signature(_reader(fmt)).parameters.values()
    return {
        p.name: p.default is inspect.Parameter.empty
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def convert(
    fmt: str,
    source: Path | str,
    out: Path | str,
    *,
    link: bool = False,
    overwrite: bool = False,
    skip_missing: bool = False,
    on_progress: ProgressCallback | None = None,
    **options: Any,
) -> Path:
    """Convert the ``fmt`` dataset at ``source`` into a native dataset folder ``out``.

    Images go to ``out/images/...``, copied, or hard-linked to the source files when ``link``
    (for big datasets: no data copied; where the file system refuses a hard link the image is
    copied, with one warning saying how many were). ``options`` are the reader's
    own (``dataset=`` for wildlife, ``keep_extra_ids=`` for turtle_recall); ``None`` values are
    dropped, so unset CLI options keep the reader's defaults. Refuses an ``out`` that already
    holds metadata.csv or images/ unless ``overwrite``. A listed image that does not exist is a
    DatasetError unless ``skip_missing`` (then skipped with a warning). ``on_progress(done,
    total)`` is called after each image. Returns ``out``, which loads with
    :func:`photoid.data.load_dataset`.
    """
    source, out = Path(source), Path(out)
    reader = _reader(fmt)
    given = {name: value for name, value in options.items() if value is not None}
    accepted = reader_options(fmt)
    for name in given:
        if name not in accepted:
            takes = f"takes {', '.join(accepted)}" if accepted else "takes no options"
            raise PhotoidError(f"option {name!r} does not apply to format {fmt!r}; it {takes}")
    for name, required in accepted.items():
        if required and name not in given:
            flag = "--" + name.replace("_", "-")
            raise PhotoidError(
                f"format {fmt!r} needs the option {name!r} ({flag} on the command line)"
            )
    if not source.exists():
        raise DatasetError("not found; give the folder of the dataset to convert", path=source)
    check_output(out, [source], overwrite=overwrite)
    entries = keep_existing(reader(source, **given), skip_missing=skip_missing)
    return write_dataset(entries, out, link=link, on_progress=on_progress)


def _reader(fmt: str) -> Reader:
    if fmt not in READERS:
        raise PhotoidError(f"unknown format {fmt!r}; choose one of {', '.join(sorted(READERS))}")
    return READERS[fmt]


__all__ = ["READERS", "CopiedNotLinked", "Entry", "convert", "reader_options"]
