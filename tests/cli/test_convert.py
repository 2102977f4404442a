from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data import load_dataset


def _folder_source(root: Path) -> Path:
    for name in ("Ayo/1.png", "Ayo/2.png", "Bo/3.png", "unknown/4.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (3, 2), (9, 9, 9)).save(root / name)
    return root


def _run(*args: str | Path) -> tuple[int, str]:
    # A wide terminal, so that error messages are not wrapped or cut.
    result = CliRunner().invoke(app, ["data", "convert", *map(str, args)], env={"COLUMNS": "2000"})
    return result.exit_code, result.output


def test_convert_prints_counts_and_path(tmp_path: Path) -> None:
    source = _folder_source(tmp_path / "src")
    code, output = _run(source, tmp_path / "out", "--from", "folder")
    assert code == 0, output
    assert output.strip().endswith(
        f"Wrote 4 images of 2 identities (1 of unknown identity) to {tmp_path / 'out'}"
    )
    assert not (tmp_path / "out" / "images" / "Ayo" / "1.png").is_symlink()


def test_link_and_overwrite(tmp_path: Path) -> None:
    source = _folder_source(tmp_path / "src")
    assert _run(source, tmp_path / "out", "--from", "folder")[0] == 0
    code, output = _run(source, tmp_path / "out", "--from", "folder", "--link")
    assert code == 2
    assert "already holds metadata.csv and images" in output
    assert "Traceback" not in output
    code, output = _run(source, tmp_path / "out", "--from", "folder", "--link", "--overwrite")
    assert code == 0, output
    linked = tmp_path / "out" / "images" / "Ayo" / "1.png"
    assert not linked.is_symlink()
    assert os.stat(linked).st_ino == os.stat(source / "Ayo" / "1.png").st_ino


def _distinct_source(root: Path) -> Path:
    """Images of distinct content and a usable size, so that `data check` finds no error."""
    for value, name in enumerate(("Ayo/1.png", "Ayo/2.png", "Bo/3.png", "Bo/4.png")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), (value * 60, 9, 9)).save(root / name)
    return root


def test_a_linked_dataset_is_read_and_checked_by_the_other_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHOTOID_FOLLOW_LINKS", raising=False)
    source = _distinct_source(tmp_path / "src")
    code, output = _run(source, tmp_path / "out", "--from", "folder", "--link")
    assert code == 0, output
    assert "note:" not in output
    assert len(load_dataset(tmp_path / "out")) == 4
    result = CliRunner().invoke(app, ["data", "check", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_link_falls_back_to_copies_with_one_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_permitted(src: object, dst: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", not_permitted)
    source = _distinct_source(tmp_path / "src")
    code, output = _run(source, tmp_path / "out", "--from", "folder", "--link")
    assert code == 0, output
    assert output.count("note: copied 4 of 4 image(s) instead of hard-linking them") == 1
    assert "warning:" not in output
    copied = tmp_path / "out" / "images" / "Bo" / "3.png"
    assert copied.read_bytes() == (source / "Bo" / "3.png").read_bytes()
    assert os.stat(copied).st_ino != os.stat(source / "Bo" / "3.png").st_ino


def test_unknown_format_lists_the_choices(tmp_path: Path) -> None:
    code, output = _run(tmp_path, tmp_path / "out", "--from", "kaggle")
    assert code == 2
    for name in ("folder", "happywhale", "humpback", "turtle_recall", "wildlife"):
        assert name in output


def test_skip_missing_prints_a_warning(tmp_path: Path) -> None:
    source = tmp_path / "hw"
    (source / "train").mkdir(parents=True)
    Image.new("RGB", (3, 2)).save(source / "train" / "a.jpg")
    (source / "train.csv").write_text("Image,Id\na.jpg,w_1\nb.jpg,new_whale\n", encoding="utf-8")
    code, output = _run(source, tmp_path / "out", "--from", "humpback")
    assert code == 2
    assert "row 3" in output
    code, output = _run(source, tmp_path / "out", "--from", "humpback", "--skip-missing")
    assert code == 0, output
    assert "warning: skipped 1 listed image(s)" in output
    assert "Wrote 1 images of 1 identities (0 of unknown identity)" in output


def test_keep_extra_ids_reaches_the_turtle_reader(tmp_path: Path) -> None:
    source = tmp_path / "tr"
    (source / "images").mkdir(parents=True)
    header = "image_id,image_location,turtle_id\n"
    (source / "train.csv").write_text(header + "ID_1,top,t_A\n", encoding="utf-8")
    (source / "extra_images.csv").write_text(header + "ID_2,left,t_B\n", encoding="utf-8")
    for name in ("ID_1.JPG", "ID_2.JPG"):
        Image.new("RGB", (3, 2)).save(source / "images" / name, format="JPEG")
    code, output = _run(source, tmp_path / "a", "--from", "turtle_recall")
    assert code == 0, output
    assert "Wrote 2 images of 1 identities (1 of unknown identity)" in output
    code, output = _run(source, tmp_path / "b", "--from", "turtle_recall", "--keep-extra-ids")
    assert code == 0, output
    assert load_dataset(tmp_path / "b").identities == ("t_A", "t_B")
    code, output = _run(source, tmp_path / "c", "--from", "folder", "--keep-extra-ids")
    assert code == 2
    assert "option 'keep_extra_ids' does not apply to format 'folder'" in output


def test_wildlife_needs_dataset(tmp_path: Path) -> None:
    source = _folder_source(tmp_path / "src")
    code, output = _run(source, tmp_path / "out", "--from", "wildlife")
    assert code == 2
    assert "needs the option 'dataset' (--dataset" in output
    code, output = _run(
        source, tmp_path / "out", "--from", "wildlife", "--dataset", "Dataset_Folder"
    )
    assert code == 0, output
    assert "Wrote 4 images of 0 identities (4 of unknown identity)" in output
