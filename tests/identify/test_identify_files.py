"""identify_files: the whole gallery dataset against query files."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoid.data.synth import generate
from photoid.decide.policy import NewIndividualSetting
from photoid.engines.base import EngineOptions
from photoid.errors import DatasetError, PhotoidError
from photoid.identify import identify_files
from photoid.local.config import LocalConfig

NEVER = NewIndividualSetting("never")


def test_every_labelled_row_is_the_gallery(tmp_path: Path) -> None:
    root = tmp_path / "animals"
    generate(root, individuals=3, images_per=2, seed=1, size=160)
    query = root / "images" / "finned_0002" / "finned_0002_001.jpg"
    calls: list[tuple[str, int, int]] = []
    options = EngineOptions(local=LocalConfig(max_side=256), new_individual=NEVER)
    answers = identify_files(root, [query], options=options, progress=lambda *a: calls.append(a))
    assert calls[0] == ("gallery", 0, 6)
    assert ("queries", 0, 1) in calls
    assert sum(c[1] for c in calls if c[0] == "gallery") == 6
    assert len(answers) == 1 and answers[0].query == str(query)
    assert answers[0].candidates[0].identity == "finned_0002"
    assert len(answers[0].candidates) == 3


def test_unknown_method_is_refused_before_loading(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match="unknown method 'sift'; choose one of local, deep"):
        identify_files(tmp_path / "nowhere", [], method="sift")
    with pytest.raises(PhotoidError, match="--method deep needs --model CHECKPOINT"):
        identify_files(tmp_path / "nowhere", [], method="deep")


def test_gallery_must_be_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"metadata\.csv"):
        identify_files(tmp_path, [])
