from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.errors import DatasetError


def test_reads_text_cells_indexed_by_line(tmp_path: Path) -> None:
    path = tmp_path / "metadata.csv"
    path.write_bytes("\ufeffimage,identity\na.jpg,007\n\nb.jpg,Ünal\n".encode())
    frame = read_metadata_csv(path)
    assert frame.columns.tolist() == ["image", "identity"]
    assert frame["identity"].tolist() == ["007", "Ünal"]  # no number guessing, BOM stripped
    assert frame.index.tolist() == [2, 4]  # the blank line 3 is skipped, numbering kept


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"image;identity\na.jpg;A\n", "separated by ';', not commas"),
        (b"image\tidentity\na.jpg\tA\n", "separated by tab"),
        (b"image,name\na.jpg,A\n", "missing required column(s) identity"),
        (b"image,identity\na.jpg,\xe9t\xe9\n", "not valid UTF-8 (byte 0xe9 on line 2)"),
        (b"image,identity\na.jpg,A,10\n", "row 2: has 3 cells but the header has 2"),
        (b"image,identity,image\na.jpg,A,b\n", "column 'image' appears twice"),
        (b"   \n", "the file is empty"),
    ],
)
def test_unreadable_csv_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "metadata.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        read_metadata_csv(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file not found"):
        read_metadata_csv(tmp_path / "metadata.csv")


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "metadata.csv"
    path.write_text("image,identity\nold.jpg,A\n")

    class Boom(pd.DataFrame):
        def to_csv(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_metadata_csv(Boom({"image": ["new.jpg"]}), path)
    assert path.read_text() == "image,identity\nold.jpg,A\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metadata.csv"]
