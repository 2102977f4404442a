"""Photos an evaluation cannot read: counted with their reasons in the result, and past
``max_skipped`` of the gallery or of the queries the run fails instead of reporting numbers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from photoid.core import Identification
from photoid.data.synth import generate
from photoid.data.table import Dataset, load_dataset
from photoid.engines.base import EngineOptions
from photoid.errors import PhotoidError
from photoid.evaluation.engine_run import evaluate
from photoid.evaluation.skips import (
    SkippedPhoto,
    Skips,
    check_skips,
    gallery_skips,
    query_skips,
)
from photoid.local.config import LocalConfig

OUTSIDE = (1000.0, 1000.0, 10.0, 10.0)  # far beyond the 128x96 synthetic photos


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """4 individuals x 4 photos: photos 0-2 train (12 gallery photos), photo 3 test (4 queries)."""
    root = tmp_path_factory.mktemp("synth") / "animals"
    csv = generate(root, individuals=4, images_per=4, seed=2, size=128)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    cells["split"] = np.where(np.tile(np.arange(4), 4) < 3, "train", "test")
    cells.to_csv(csv, index=False)
    return load_dataset(root)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> EngineOptions:
    return EngineOptions(local=LocalConfig(max_side=256), cache_dir=tmp_path_factory.mktemp("c"))


def _edited(dataset: Dataset, column: str, rows: list[int], value: object) -> Dataset:
    """A copy with ``value`` in ``column`` at row positions ``rows``."""
    table = dataset.table.copy()
    for row in rows:
        table.iat[row, table.columns.get_loc(column)] = value
    return replace(dataset, table=table)


def test_too_many_unreadable_gallery_photos_fail_with_the_reason_and_the_fix(
    dataset: Dataset, options: EngineOptions
) -> None:
    broken = _edited(dataset, "bbox", [0, 1], OUTSIDE)  # 2 of 12 gallery photos: 16.7%
    with pytest.raises(PhotoidError) as info:
        evaluate(broken, "split", "local", options)
    message = str(info.value)
    first = dataset.table["image"].iloc[0]
    assert message.startswith("2 of 12 gallery photos (16.7%): bbox_outside 2 (e.g. row 2, ")
    assert f"{first}: bbox 1000,1000,10,10 (x,y,w,h) lies outside the 128x96 image" in message
    assert "more than --max-skipped 5% allows" in message
    assert "--set use_bbox=false" in message and "raise --max-skipped" in message


def test_under_the_limit_the_result_says_how_many_and_why(
    dataset: Dataset, options: EngineOptions
) -> None:
    broken = _edited(dataset, "bbox", [0, 1], OUTSIDE)
    broken = _edited(broken, "image", [3], "images/absent.jpg")  # the first query
    result = evaluate(broken, "split", "local", options, max_skipped=0.5)
    summary = result.summary()
    assert summary["skipped"] == 3
    assert summary["skipped_reasons"] == {
        "gallery": {"bbox_outside": 2},
        "queries": {"file_missing": 1},
    }
    assert result.skipped == [*dataset.table["image"].iloc[:2], "images/absent.jpg"]
    assert summary["gallery"] == 10 and summary["queries"] == 4
    assert result.predictions[0] == []  # the unread query is a miss, not left out


def test_too_many_unreadable_queries_fail(dataset: Dataset, options: EngineOptions) -> None:
    broken = _edited(dataset, "image", [3], "images/absent.jpg")
    with pytest.raises(PhotoidError, match=r"^1 of 4 queries \(25\.0%\): file_missing 1"):
        evaluate(broken, "split", "local", options)


def test_boxes_are_not_read_when_the_engine_ignores_them(
    dataset: Dataset, options: EngineOptions
) -> None:
    broken = _edited(dataset, "bbox", list(range(len(dataset))), OUTSIDE)
    no_boxes = replace(options, local=LocalConfig(max_side=256, use_bbox=False))
    summary = evaluate(broken, "split", "local", no_boxes).summary()
    assert summary["skipped"] == 0
    assert summary["skipped_reasons"] == {"gallery": {}, "queries": {}}


def test_max_skipped_must_be_a_share(dataset: Dataset) -> None:
    with pytest.raises(PhotoidError, match=r"--max-skipped 5\.0: give a share between 0 and 1"):
        evaluate(dataset, "split", "local", max_skipped=5.0)


def test_engine_outcomes_are_not_skips(dataset: Dataset) -> None:
    queries = dataset.subset(dataset.table["split"] == "test")
    answers = [
        Identification(q, warning="no keypoints found in the image") for q in queries.table["image"]
    ]
    assert query_skips(queries, answers).photos == ()
    # A name the gallery does not hold is ignored; one the engine could read is "unreadable".
    gallery = dataset.subset(dataset.table["split"] == "train")
    named = gallery_skips(gallery, ["elsewhere.jpg", str(gallery.table["image"].iloc[0])])
    assert [(p.row, p.code) for p in named.photos] == [(2, "unreadable")]


def test_the_limit_is_a_share_of_each_side() -> None:
    check_skips(Skips("gallery", 20), 0.0)
    check_skips(Skips("queries", 0), 0.0)
    one = Skips("queries", 20, (SkippedPhoto(2, "a.jpg", "file_missing", "gone"),))
    check_skips(one, 0.05)
    with pytest.raises(PhotoidError, match="fix or remove these rows"):
        check_skips(one, 0.0)
