"""``check_dataset``: a clean generated dataset has no finding; each planted problem gives exactly
one finding (code, CSV row, image path); the real datasets get the report verified independently
below with pandas, hashlib and Pillow."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import photoid.data.filecheck as filecheck
from photoid.data.check import check_dataset
from photoid.data.findings import save_json
from photoid.errors import DatasetError

HEADER = ["image", "identity", "bbox", "date", "wd_split"]
# Lines 2..7 of the clean dataset: three identities, two 40x40 images each, closed-set split.
CLEAN = [
    ["images/a1.png", "A", "0,0,40,40", "2020-01-01", "train"],
    ["images/a2.png", "A", "", "", "test"],
    ["images/b1.png", "B", "5,5,10,10", "", "train"],
    ["images/b2.png", "B", "", "", "test"],
    ["images/c1.png", "C", "", "2021-06-30", "train"],
    ["images/c2.png", "C", "", "", "test"],
]
Key = tuple[str, int | None, str | None]


def _write_csv(root: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    with (root / "metadata.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _png(path: Path, value: int, size: tuple[int, int] = (40, 40)) -> Path:
    """A solid ``size`` (width, height) PNG; a distinct ``value`` gives distinct bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, 255 - value, 7)).save(path)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A clean dataset folder; tests edit it to plant one problem each."""
    folder = tmp_path / "ds"
    folder.mkdir()
    for value, row in enumerate(CLEAN):
        _png(folder / row[0], 10 * value)
    _write_csv(folder, [list(r) for r in CLEAN])
    return folder


def _rows() -> list[list[str]]:
    return [list(r) for r in CLEAN]


def _keys(root: Path, **kwargs: int) -> list[Key]:
    return [(f.code, f.row, f.path) for f in check_dataset(root, **kwargs).findings]


def test_clean_dataset_has_no_finding(root: Path) -> None:
    report = check_dataset(root)
    assert report.findings == ()
    assert report.ok
    assert (report.n_rows, report.n_identities, report.n_images) == (6, 3, 6)
    assert report.summary() == "0 errors, 0 warnings in 6 rows (3 identities)"


def test_root_that_is_not_a_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        check_dataset(tmp_path / "absent")


@pytest.mark.parametrize(
    ("content", "row", "words"),
    [
        (b"image;identity\nimages/a1.png;A\n", 1, "separated by ';'"),
        (b"image,name\nimages/a1.png,A\n", 1, "missing required column(s) identity"),
        (b"image,identity\nimages/\xe9.png,A\n", None, "not valid UTF-8 (byte 0xe9 on line 2)"),
        (b"image,identity\nimages/a1.png,A,extra\n", 2, "has 3 cells but the header has 2"),
    ],
)
def test_unreadable_csv_is_one_finding_and_stops_the_check(
    root: Path, content: bytes, row: int | None, words: str
) -> None:
    (root / "metadata.csv").write_bytes(content)
    report = check_dataset(root)
    assert [(f.code, f.row, f.path) for f in report.findings] == [
        ("csv_unreadable", row, "metadata.csv")
    ]
    assert words in report.findings[0].message
    assert (report.n_rows, report.n_images, report.ok) == (0, 0, False)


def test_csv_without_rows(root: Path) -> None:
    _write_csv(root, [])
    report = check_dataset(root)
    assert _keys(root) == [("csv_no_rows", None, "metadata.csv")]
    assert not report.ok


def test_missing_csv(root: Path) -> None:
    (root / "metadata.csv").unlink()
    report = check_dataset(root)
    assert _keys(root) == [("csv_unreadable", None, "metadata.csv")]
    assert "file not found" in report.findings[0].message


def test_missing_image_file(root: Path) -> None:
    (root / "images/b1.png").unlink()
    report = check_dataset(root)
    assert _keys(root) == [("file_missing", 4, "images/b1.png")]  # its bbox is not judged
    assert report.findings[0].message.startswith("no such file")


def test_folder_listed_as_image(root: Path) -> None:
    rows = _rows()
    rows[5][0] = "images"
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("file_missing", 7, "images")]
    assert report.findings[0].message.startswith("a folder")


def test_zero_byte_file(root: Path) -> None:
    (root / "images/a2.png").write_bytes(b"")
    assert _keys(root) == [("file_empty", 3, "images/a2.png")]


def test_truncated_image(root: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    (root / "images/c1.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    report = check_dataset(root)
    assert _keys(root) == [("image_corrupt", 6, "images/c1.png")]
    assert "truncated" in report.findings[0].message


@pytest.mark.parametrize("name", ["images/c2.png", "notes.txt"])
def test_text_file_is_not_an_image(root: Path, name: str) -> None:
    (root / name).write_text("hello, not a photo\n")
    rows = _rows()
    rows[5][0] = name
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("not_an_image", 7, name)]
    assert report.findings[0].message.startswith("not an image file (it starts with b'hello, n')")


def test_header_bomb_is_too_large_and_never_decoded(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = root / "images/c1.png"
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 20_000, 20_000)  # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    opened: list[Path] = []
    original = filecheck.load_image
    monkeypatch.setattr(filecheck, "load_image", lambda p, **kw: opened.append(p) or original(p))
    report = check_dataset(root)
    assert _keys(root) == [("image_too_large", 6, "images/c1.png")]
    assert "20000x20000 = 400,000,000 pixels" in report.findings[0].message
    assert path not in opened


def test_duplicate_row_names_both_lines(root: Path) -> None:
    _write_csv(root, [*_rows(), list(CLEAN[0])])
    report = check_dataset(root)
    assert _keys(root) == [("duplicate_row", 8, "images/a1.png")]
    assert "row 2" in report.findings[0].message


def test_same_image_with_two_boxes_is_read_once_and_not_a_duplicate(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second_box = ["images/a1.png", "A", "20,20,10,10", "", "train"]
    _write_csv(root, [*_rows(), second_box])
    opened: list[Path] = []
    original = filecheck.load_image
    monkeypatch.setattr(filecheck, "load_image", lambda p, **kw: opened.append(p) or original(p))
    report = check_dataset(root)
    assert report.findings == ()
    assert (report.n_rows, report.n_images) == (7, 6)
    assert sorted(p.name for p in opened) == [
        "a1.png",
        "a2.png",
        "b1.png",
        "b2.png",
        "c1.png",
        "c2.png",
    ]


def test_duplicate_content_names_both_rows(root: Path) -> None:
    (root / "images/b2.png").write_bytes((root / "images/a1.png").read_bytes())
    report = check_dataset(root)
    assert _keys(root) == [("duplicate_content", 5, "images/b2.png")]
    assert "row 2 (images/a1.png)" in report.findings[0].message


def test_empty_identity(root: Path) -> None:
    rows = _rows()
    rows[5][1] = "  "
    _write_csv(root, rows)
    # C keeps one image (line 6), which is truthfully a singleton too.
    assert _keys(root) == [
        ("identity_empty", 7, "images/c2.png"),
        ("singleton_identity", 6, "images/c1.png"),
    ]


def test_unparseable_bbox(root: Path) -> None:
    rows = _rows()
    rows[1][2] = "1,2,3"
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("bbox_invalid", 3, "images/a2.png")]
    assert "bbox must be 4 numbers x,y,w,h" in report.findings[0].message


@pytest.mark.parametrize(
    ("box", "outside"),
    [
        ("30,30,10,10", False),  # right edge 40 = image width
        ("30,30,11,10", False),  # 41: within the 1 px tolerance
        ("-1,0,10,10", False),
        ("30,30,11.5,10", True),  # 41.5
        ("-1.5,0,10,10", True),
        ("0,35,10,7", True),  # bottom edge 42
    ],
)
def test_bbox_outside_the_image_with_one_pixel_tolerance(
    root: Path, box: str, outside: bool
) -> None:
    rows = _rows()
    rows[2][2] = box
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == ([("bbox_outside", 4, "images/b1.png")] if outside else [])
    if outside:
        assert "beyond the 40x40 image" in report.findings[0].message


def test_unknown_split_value(root: Path) -> None:
    rows = _rows()
    rows[3][4] = "tset"
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("split_invalid", 5, "images/b2.png")]
    assert "wd_split value 'tset'" in report.findings[0].message


@pytest.mark.parametrize("date", ["2020/01/05", "2020-02-30", "05.01.2020", "yesterday"])
def test_date_that_does_not_parse(root: Path, date: str) -> None:
    rows = _rows()
    rows[0][3] = date
    _write_csv(root, rows)
    assert _keys(root) == [("date_invalid", 2, "images/a1.png")]


@pytest.mark.parametrize("path", ["../outside.png", "images/../../outside.png", "/etc/hostname"])
def test_path_leaving_the_dataset_folder(root: Path, path: str) -> None:
    _png(root.parent / "outside.png", 99)  # exists, so only the path rule can flag it
    rows = _rows()
    rows[4][0] = path
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("path_outside", 6, path)]
    assert report.n_images == 5


def test_empty_image_cell(root: Path) -> None:
    rows = _rows()
    rows[4][0] = " "
    _write_csv(root, rows)
    assert _keys(root) == [("image_cell_empty", 6, None)]


def test_row_findings_without_an_image_cell_have_no_path(root: Path) -> None:
    rows = _rows()[:5]
    rows[4][0] = ""
    rows[4][4] = "tset"
    _write_csv(root, rows)
    assert _keys(root) == [
        ("image_cell_empty", 6, None),
        ("split_invalid", 6, None),
        ("singleton_identity", 6, None),
    ]


def test_singleton_identity_is_a_warning(root: Path) -> None:
    _write_csv(root, _rows()[:5])
    report = check_dataset(root)
    assert _keys(root) == [("singleton_identity", 6, "images/c1.png")]
    assert report.ok
    assert report.summary() == "0 errors, 1 warning in 5 rows (3 identities)"


def test_tiny_image_is_a_warning_with_a_configurable_limit(root: Path) -> None:
    _png(root / "images/c1.png", 200, size=(20, 50))
    report = check_dataset(root)
    assert _keys(root) == [("tiny_image", 6, "images/c1.png")]
    assert "20x50 px, under 32 px" in report.findings[0].message
    assert _keys(root, min_side=20) == []


def test_open_set_split_is_a_warning(root: Path) -> None:
    rows = _rows()
    for name, value in (("d1", 150), ("d2", 160)):
        _png(root / f"images/{name}.png", value)
        rows.append([f"images/{name}.png", "D", "", "", "test"])
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("open_set_split", None, None)]
    assert report.findings[0].message.startswith(
        "wd_split: 1 of 4 test/query identities have no train/gallery image (D)"
    )
    assert report.ok


def test_exif_rotated_image_is_an_info_and_its_bbox_is_upright(root: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    # Stored 64 wide x 40 tall; upright 40 wide x 64 tall, so the box 0,0,40,64 fits.
    Image.new("RGB", (64, 40), (1, 2, 3)).save(root / "images/c1.jpg", exif=exif)
    rows = _rows()
    rows[4][0], rows[4][2] = "images/c1.jpg", "0,0,40,64"
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("exif_rotated", 6, "images/c1.jpg")]
    assert report.findings[0].level == "info"
    assert report.summary() == "0 errors, 0 warnings, 1 info in 6 rows (3 identities)"


def test_unknown_identity_count_is_an_info(root: Path) -> None:
    rows = _rows()
    rows[4][1] = rows[5][1] = "unknown"
    _write_csv(root, rows)
    report = check_dataset(root)
    assert _keys(root) == [("unknown_identity", None, None)]
    assert report.findings[0].message.startswith("2 row(s) have identity 'unknown'")
    assert report.n_identities == 2


def test_every_problem_is_reported_in_one_pass_in_a_fixed_order(root: Path) -> None:
    (root / "images/b1.png").unlink()
    rows = _rows()
    rows[0][3] = "soon"
    rows[5][4] = "tset"
    _write_csv(root, [*rows, list(CLEAN[1])])
    expected = [
        ("date_invalid", 2, "images/a1.png"),
        ("duplicate_row", 8, "images/a2.png"),
        ("file_missing", 4, "images/b1.png"),
        ("split_invalid", 7, "images/c2.png"),
    ]
    assert _keys(root, workers=1) == expected
    assert _keys(root, workers=2) == expected
    assert check_dataset(root).summary() == "4 errors, 0 warnings in 7 rows (3 identities)"


def test_progress_is_called_once_per_image_file(root: Path) -> None:
    calls: list[tuple[int, int]] = []
    check_dataset(root, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 6) for i in range(1, 7)]


def test_save_json_writes_every_finding(root: Path, tmp_path: Path) -> None:
    (root / "images/a2.png").write_bytes(b"")
    report = check_dataset(root)
    save_json(report, tmp_path / "out" / "report.json")
    data = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert data["n_rows"] == 6 and data["n_errors"] == 1 and data["n_warnings"] == 0
    assert data["findings"] == [
        {
            "level": "error",
            "code": "file_empty",
            "message": "the file is empty (0 bytes); re-copy or re-export it",
            "row": 3,
            "path": "images/a2.png",
        }
    ]


# ---- the real datasets: each expectation is recomputed here without photoid's check code ----


def _independent_findings(root: Path) -> tuple[set[tuple[str, int]], pd.DataFrame]:
    """(code, row) of the problems a plain pandas/hashlib/Pillow pass finds, and the frame."""
    frame = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    frame.index = frame.index + 2  # CSV line numbers
    found: set[tuple[str, int]] = set()
    first_of_digest: dict[str, int] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for line, relative in frame["image"].items():
        data = (root / relative).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if first_of_digest.setdefault(digest, int(line)) != line:
            found.add(("duplicate_content", int(line)))
        with Image.open(io.BytesIO(data)) as image:
            assert 0x0112 not in image.getexif()  # no EXIF rotation in these datasets
            sizes[int(line)] = image.size
        if min(image.size) < 32:
            found.add(("tiny_image", int(line)))
    for line in frame.index[frame["image"].duplicated()]:
        found.add(("duplicate_row", int(line)))
    counts = frame["identity"].value_counts()
    for line in frame.index[frame["identity"].map(counts) == 1]:
        found.add(("singleton_identity", int(line)))
    for line, text in frame["bbox"].items():
        if text:
            x, y, w, h = (float(v) for v in text.split(","))
            width, height = sizes[int(line)]
            if x < -1 or y < -1 or x + w > width + 1 or y + h > height + 1:
                found.add(("bbox_outside", int(line)))
    for column in [c for c in frame.columns if c.endswith("split")]:
        queries = set(frame["identity"][frame[column].isin(["test", "query"])])
        references = set(frame["identity"][frame[column].isin(["train", "gallery"])])
        assert set(frame[column]) <= {"", "train", "val", "test", "gallery", "query"}
        if queries - references:
            found.add(("open_set_split", 0))
    assert (frame["identity"].str.strip() != "").all() and (frame["identity"] != "unknown").all()
    return found, frame


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "rows", "identities"),
    [("LionData", 740, 94), ("CTai_subset", 300, 10), ("KoiVideo", 1635, 9)],
)
def test_real_dataset_report_is_truthful(
    shared_datasets: Path, name: str, rows: int, identities: int
) -> None:
    root = shared_datasets / name
    expected, frame = _independent_findings(root)
    report = check_dataset(root)
    assert {(f.code, f.row or 0) for f in report.findings} == expected
    assert len(report.findings) == len(expected)
    assert (report.n_rows, report.n_identities, report.n_images) == (rows, identities, rows)
    if name == "KoiVideo":
        # Every row: the bbox is the crop's box in the 952x540 video frame, not in the crop.
        assert expected == {("bbox_outside", line) for line in range(2, 1637)}
        assert not report.ok
        # Each crop is its box clipped to the frame (two boxes overhang the frame edge).
        x, y, w, h = (frame["bbox"].str.split(",", expand=True)[i].astype(float) for i in range(4))
        clipped_w = np.minimum(x + w, 952) - np.maximum(x, 0)
        clipped_h = np.minimum(y + h, 540) - np.maximum(y, 0)
        assert (clipped_w == frame["width"].astype(float)).all()
        assert (clipped_h == frame["height"].astype(float)).all()
        assert int(((clipped_w != w) | (clipped_h != h)).sum()) == 2
        first = report.findings[0]
        assert (first.row, first.path) == (2, "images/Florence/Florence_frame00001.jpg")
        assert first.message.startswith(
            "bbox 354,259,276,247 spans x 354 to 630, y 259 to 506, beyond the 276x247 image"
        )
    else:
        # LionData and CTai_subset: no duplicates, singletons, tiny images or open-set splits.
        assert expected == set()
        assert report.findings == () and report.ok
