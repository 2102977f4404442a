"""convert() and the shared writer: output folder rules, links, progress, options, registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photoid.data import load_dataset
from photoid.data.readers import READERS, convert, reader_options
from photoid.data.readers._write import Entry, destination, write_dataset
from photoid.errors import DatasetError, PhotoidError


def _source(root: Path) -> Path:
    for name, color in (
        ("Ayo/1.png", (255, 0, 0)),
        ("Ayo/2.png", (0, 255, 0)),
        ("Bo/3.png", (0, 0, 255)),
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (3, 2), color).save(root / name)
    return root


def test_refuses_an_output_folder_holding_a_dataset_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.csv").write_text("image,identity\nold.png,x\n", encoding="utf-8")
    (out / "images").mkdir()
    (out / "images" / "old.png").write_bytes(b"old")
    with pytest.raises(DatasetError, match=r"already holds metadata\.csv and images.*--overwrite"):
        convert("folder", _source(tmp_path / "src"), out)
    assert (out / "metadata.csv").read_text(encoding="utf-8") == "image,identity\nold.png,x\n"
    assert (out / "images" / "old.png").read_bytes() == b"old"
    convert("folder", tmp_path / "src", out, overwrite=True)
    assert load_dataset(out).table["image"].tolist() == [
        "images/Ayo/1.png",
        "images/Ayo/2.png",
        "images/Bo/3.png",
    ]
    assert not (out / "images" / "old.png").exists()
    assert sorted(p.name for p in out.iterdir()) == ["images", "metadata.csv"]


def test_a_failed_overwrite_keeps_the_old_dataset(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    out = convert("folder", source, tmp_path / "out")
    before = (out / "metadata.csv").read_bytes()
    bad = tmp_path / "hw"
    bad.mkdir()
    (bad / "train.csv").write_text("Image,Id\nmissing.jpg,w_1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="row 2"):
        convert("humpback", bad, out, overwrite=True)
    assert (out / "metadata.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["images", "metadata.csv"]


def test_other_files_in_the_output_folder_are_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("notes", encoding="utf-8")
    convert("folder", _source(tmp_path / "src"), out)
    assert (out / "README.md").read_text(encoding="utf-8") == "notes"
    assert len(load_dataset(out)) == 3


def test_link_makes_symlinks_to_the_source_files(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    out = convert("folder", source, tmp_path / "out", link=True)
    linked = out / "images" / "Bo" / "3.png"
    assert linked.is_symlink()
    assert linked.readlink() == (source / "Bo" / "3.png").resolve()


def test_progress_is_reported_per_image(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    convert(
        "folder",
        _source(tmp_path / "src"),
        tmp_path / "out",
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_output_inside_the_source_is_refused(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    with pytest.raises(DatasetError, match="overlap"):
        convert("folder", source, source / "native")


def test_unknown_format_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError) as caught:
        convert("kaggle", tmp_path, tmp_path / "out")
    assert str(caught.value) == (
        "unknown format 'kaggle'; choose one of folder, happywhale, humpback, turtle_recall, "
        "wildlife"
    )


def test_options_must_belong_to_the_format(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    with pytest.raises(PhotoidError, match="option 'dataset' does not apply to format 'folder'"):
        convert("folder", source, tmp_path / "out", dataset="LionData")
    with pytest.raises(PhotoidError, match=r"needs the option 'dataset' \(--dataset"):
        convert("wildlife", source, tmp_path / "out")
    out = convert("folder", source, tmp_path / "out", dataset=None, keep_extra_ids=None)
    assert len(load_dataset(out)) == 3


def test_every_reader_declares_its_options() -> None:
    assert {fmt: reader_options(fmt) for fmt in READERS} == {
        "folder": {},
        "humpback": {},
        "happywhale": {},
        "turtle_recall": {"keep_extra_ids": False},
        "wildlife": {"dataset": True},
    }


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nowhere: not found"):
        convert("folder", tmp_path / "nowhere", tmp_path / "out")


def test_two_sources_for_one_destination_are_refused_one_source_twice_is_kept(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path / "src")
    one = source / "Ayo" / "1.png"
    entries = [
        Entry(one, "images/a.png", {"identity": "Ayo", "bbox": "0,0,1,1"}, origin=source, row=2),
        Entry(one, "images/a.png", {"identity": "Bo", "bbox": "1,0,2,2"}, origin=source, row=3),
    ]
    out = write_dataset(entries, tmp_path / "out")
    assert (out / "metadata.csv").read_text(encoding="utf-8").splitlines() == [
        "image,identity,bbox",
        'images/a.png,Ayo,"0,0,1,1"',
        'images/a.png,Bo,"1,0,2,2"',
    ]
    clash = [
        *entries,
        Entry(source / "Bo" / "3.png", "images/a.png", {"identity": "Bo"}, source, 4),
    ]
    with pytest.raises(
        DatasetError, match=r"row 4: image .*3\.png would be written to images/a\.png"
    ):
        write_dataset(clash, tmp_path / "out2")


def test_destination_drops_parent_and_root_parts() -> None:
    assert destination("../a/./b.jpg") == "images/a/b.jpg"
    assert destination("/abs/c.jpg") == "images/abs/c.jpg"
    assert destination("sub\\d.jpg") == "images/sub/d.jpg"


def test_a_failure_while_copying_keeps_the_old_dataset_and_no_staging_folder(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path / "src")
    out = convert("folder", source, tmp_path / "out", link=True)
    before = (out / "metadata.csv").read_bytes()

    def interrupt(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert("folder", source, out, overwrite=True, on_progress=interrupt)
    assert (out / "metadata.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["images", "metadata.csv"]
    assert (out / "images" / "Ayo" / "1.png").is_symlink()
