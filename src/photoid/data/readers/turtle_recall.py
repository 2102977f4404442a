"""Reader for Zindi's Turtle Recall (2022, Local Ocean Conservation / DeepMind): sea turtle heads.

Layout: ``ROOT/train.csv`` and, optionally, ``ROOT/extra_images.csv``, both with columns
``image_id``, ``image_location`` (top, left or right: the ``viewpoint``) and ``turtle_id``;
images at ``ROOT/images/<image_id>.JPG`` (the extension is matched in any letter case).
``test.csv`` (unlabelled) is ignored.

The competition's target turtles are the ``turtle_id`` values of ``train.csv`` (100 of them).
Ids met only in ``extra_images.csv`` become the unknown identity, the way the competition scored
them ("new_turtle"); with ``keep_extra_ids`` they stay distinct identities instead, as the
winning solution trained on all 2265 ids. Both are valid: the first gives the competition's
open-set task, the second more identities to train on. A ``source`` column says which file
each row came from (``train`` or ``extra``).
"""

from __future__ import annotations

from pathlib import Path

from photoid.data.readers._csv import read_source_csv
from photoid.data.readers._write import Entry, destination
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.errors import DatasetError

COLUMNS = ("image_id", "image_location", "turtle_id")
WHAT = "a Turtle Recall folder"


def read_turtle_recall(source: Path, *, keep_extra_ids: bool = False) -> list[Entry]:
    """One entry per row of ``train.csv`` then ``extra_images.csv``; destination
    ``images/<image file name as found>``. An image id listed twice is a DatasetError."""
    train_csv = source / "train.csv"
    extra_csv = source / "extra_images.csv"
    tables = [("train", train_csv, read_source_csv(train_csv, COLUMNS, what=WHAT))]
    if extra_csv.exists():
        tables.append(("extra", extra_csv, read_source_csv(extra_csv, COLUMNS, what=WHAT)))
    targets = {cells["turtle_id"] for _, cells in tables[0][2]}
    files = _files_by_lower_name(source / "images")
    seen: dict[str, tuple[Path, int]] = {}
    entries: list[Entry] = []
    for name, csv_path, rows in tables:
        for line, cells in rows:
            image_id = cells["image_id"]
            if image_id in seen:
                first_path, first_line = seen[image_id]
                raise DatasetError(
                    f"image_id {image_id!r} is listed again (first in {first_path}, row "
                    f"{first_line}); remove the duplicate row",
                    path=csv_path,
                    row=line,
                )
            seen[image_id] = (csv_path, line)
            file_name = files.get(f"{image_id}.jpg".lower(), f"{image_id}.JPG")
            turtle = cells["turtle_id"]
            if not turtle or (turtle not in targets and not keep_extra_ids):
                turtle = UNKNOWN_IDENTITY
            entries.append(
                Entry(
                    source=source / "images" / file_name,
                    image=destination(file_name),
                    cells={
                        "identity": turtle,
                        "viewpoint": cells["image_location"].lower(),
                        "source": name,
                    },
                    origin=csv_path,
                    row=line,
                )
            )
    return entries


def _files_by_lower_name(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.name.lower(): p.name for p in folder.iterdir()}
