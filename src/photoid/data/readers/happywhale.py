"""Reader for Kaggle's Happywhale (2022): 30 species of whales and dolphins, ids per individual.

Layout: ``ROOT/train.csv`` with columns ``image``, ``species``, ``individual_id``; images in
``ROOT/train_images/``. The unlabelled ``test_images/`` folder is ignored.

The competition's ``species`` column had misspelt and duplicated labels; they are normalised as
the competition discussion (and the top solutions) did: ``bottlenose_dolpin`` ->
``bottlenose_dolphin``, ``kiler_whale`` -> ``killer_whale``, and ``globis`` and ``pilot_whale``
-> ``short_finned_pilot_whale``. Other species labels are kept as written.
"""

from __future__ import annotations

from pathlib import Path

from photoid.data.readers._csv import read_source_csv
from photoid.data.readers._write import Entry, destination
from photoid.data.schema import UNKNOWN_IDENTITY

SPECIES_FIXES: dict[str, str] = {
    "bottlenose_dolpin": "bottlenose_dolphin",
    "kiler_whale": "killer_whale",
    "globis": "short_finned_pilot_whale",
    "pilot_whale": "short_finned_pilot_whale",
}


def read_happywhale(source: Path) -> list[Entry]:
    """One entry per ``train.csv`` row; destination ``images/<image>``; species fixed up."""
    csv_path = source / "train.csv"
    rows = read_source_csv(
        csv_path, ("image", "species", "individual_id"), what="a Happywhale folder"
    )
    return [
        Entry(
            source=source / "train_images" / cells["image"],
            image=destination(cells["image"]),
            cells={
                "identity": cells["individual_id"] or UNKNOWN_IDENTITY,
                "species": SPECIES_FIXES.get(cells["species"], cells["species"]),
            },
            origin=csv_path,
            row=line,
        )
        for line, cells in rows
    ]
