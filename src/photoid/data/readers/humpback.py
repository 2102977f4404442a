"""Reader for Kaggle's Humpback Whale Identification (2019): flukes of humpback whales.

Layout: ``ROOT/train.csv`` with columns ``Image`` (file name) and ``Id`` (whale id), images in
``ROOT/train/``. The ``new_whale`` id (a whale outside the catalogue) becomes photoid's unknown
identity. ``ROOT/test/`` and ``sample_submission.csv`` hold the unlabelled competition test set:
they are ignored.
"""

from __future__ import annotations

from pathlib import Path

from photoid.data.readers._csv import read_source_csv
from photoid.data.readers._write import Entry, destination
from photoid.data.schema import UNKNOWN_IDENTITY

SPECIES = "humpback whale (Megaptera novaeangliae)"
NEW_WHALE = "new_whale"


def read_humpback(source: Path) -> list[Entry]:
    """One entry per ``train.csv`` row; destination ``images/<Image>``."""
    csv_path = source / "train.csv"
    rows = read_source_csv(csv_path, ("Image", "Id"), what="a Humpback Whale Identification folder")
    return [
        Entry(
            source=source / "train" / cells["Image"],
            image=destination(cells["Image"]),
            cells={
                "identity": UNKNOWN_IDENTITY if cells["Id"] in (NEW_WHALE, "") else cells["Id"],
                "species": SPECIES,
            },
            origin=csv_path,
            row=line,
        )
        for line, cells in rows
    ]
