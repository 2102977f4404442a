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


@pytest.mark.parametrize(
    ("content", "row", "words"),
    [
        # An unclosed quote used to swallow every following row into one cell.
        (b'image,identity\na.jpg,"A\nb.jpg,B\nc.jpg,C\n', 2, "a quote opened on line 2"),
        (b'image,identity\na.jpg,A\n\nb.jpg,"B', 4, "a quote opened on line 4"),
        (b'image,identity\na.jpg,"A\nb.jpg,B\nc.jpg,C"\n', 2, "runs over lines 2 to 4"),
        (b'image,identity\na.jpg,"A"x\n', 2, "a stray quote on line 2"),
        (b'image,identity\na.jpg,"A\nb.jpg,B"x\n', 2, "line 3, closing a quote opened on line 2"),
        (b"image,identity,bbox\na.jpg,A,1,2,3,4\n", 2, "has 6 cells but the header has 3"),
        (b"image,identity,bbox\na.jpg,A\n", 2, "has 2 cells but the header has 3"),
        (b"image,identity\na.jpg,A\nb.jpg,B\x00\n", 3, "a NUL byte (0x00) on line 3"),
        ("image,identity\na.jpg,A\n".encode("utf-16-le"), 1, "looks like UTF-16"),
        ("image,identity\na.jpg,A\n".encode("utf-16"), None, "the file is UTF-16"),
        (b"image,identity\r\na.jpg,A\r\nb.jpg,\xff\r\n", None, "(byte 0xff on line 3)"),
        (b'image,identity\na.jpg,"A\n' + b"b.jpg,B\n" * 20_000, 2, "is never closed"),
    ],
)
def test_strict_parsing_names_the_line_and_the_fix(
    tmp_path: Path, content: bytes, row: int | None, words: str
) -> None:
    path = tmp_path / "metadata.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        read_metadata_csv(path)
    assert info.value.row == row
    assert words in str(info.value)
    assert str(info.value).startswith(str(path))


def test_line_numbers_are_the_editor_lines(tmp_path: Path) -> None:
    path = tmp_path / "metadata.csv"
    path.write_bytes(b'image, identity,bbox\r\n\r\na.jpg, A,"1,2,3,4"\r\n   \r\nb.jpg,B,\r\n')
    frame = read_metadata_csv(path)
    assert frame.index.tolist() == [3, 5]  # blank and blank-looking lines counted, skipped
    assert frame["bbox"].tolist() == ["1,2,3,4", ""]
    assert frame["identity"].tolist() == [" A", "B"]  # cells kept as written


def test_a_space_before_a_quote_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "metadata.csv"
    path.write_text('image,identity,bbox\na.jpg,A, "1,2,3,4"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"row 2: has 6 cells .* a space before an opening"):
        read_metadata_csv(path)
