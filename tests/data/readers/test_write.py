"""convert() and the shared writer: output folder rules, hard links, progress, options, registry."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PIL import Image

from photoid.data import load_dataset
from photoid.data.check import check_dataset
from photoid.data.readers import READERS, CopiedNotLinked, convert, reader_options
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


def test_link_makes_hard_links_that_pass_the_path_rule(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    out = convert("folder", source, tmp_path / "out", link=True)
    for name in ("Ayo/1.png", "Ayo/2.png", "Bo/3.png"):
        linked = out / "images" / name
        assert not linked.is_symlink() and linked.is_file()
        assert os.stat(linked).st_ino == os.stat(source / name).st_ino
    assert len(load_dataset(out)) == 3
    assert check_dataset(out).errors == []


def test_link_to_a_symlinked_source_links_the_file_behind_it(tmp_path: Path) -> None:
    real = _source(tmp_path / "real")
    source = tmp_path / "src"
    (source / "Ayo").mkdir(parents=True)
    (source / "Ayo" / "1.png").symlink_to(real / "Ayo" / "1.png")
    out = convert("folder", source, tmp_path / "out", link=True)
    linked = out / "images" / "Ayo" / "1.png"
    assert not linked.is_symlink()
    assert os.stat(linked).st_ino == os.stat(real / "Ayo" / "1.png").st_ino
    assert len(load_dataset(out)) == 1


def test_link_copies_where_no_hard_link_can_be_made_with_one_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path / "src")

    def cross_device(src: object, dst: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", cross_device)
    with pytest.warns(CopiedNotLinked) as caught:
        out = convert("folder", source, tmp_path / "out", link=True)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith("copied 3 of 3 image(s) instead of hard-linking them")
    assert "another file system" in message and os.strerror(errno.EXDEV) in message
    copied = out / "images" / "Bo" / "3.png"
    assert not copied.is_symlink()
    assert os.stat(copied).st_ino != os.stat(source / "Bo" / "3.png").st_ino
    assert copied.read_bytes() == (source / "Bo" / "3.png").read_bytes()
    assert check_dataset(out).errors == []


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
    kept = out / "images" / "Ayo" / "1.png"
    assert os.stat(kept).st_ino == os.stat(source / "Ayo" / "1.png").st_ino
