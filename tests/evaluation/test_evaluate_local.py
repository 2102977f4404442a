"""evaluate_local on a tiny open-set split: 4 known individuals, 2 unseen ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.data.synth import generate
from photoid.data.table import Dataset, load_dataset
from photoid.errors import DatasetError
from photoid.evaluation import EvaluationResult, evaluate_local
from photoid.local.config import LocalConfig
from photoid.metrics import NEW_INDIVIDUAL

CONFIG = LocalConfig(max_side=256)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Individuals 0-3: photos 0-2 train, photo 3 test. Individuals 4-5: every photo test."""
    root = tmp_path_factory.mktemp("synth") / "animals"
    csv = generate(root, individuals=6, images_per=4, seed=5, size=192)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    individual = np.repeat(np.arange(6), 4)
    photo = np.tile(np.arange(4), 6)
    cells["split"] = np.where((individual < 4) & (photo < 3), "train", "test")
    cells.to_csv(csv, index=False)
    return load_dataset(root)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def closed(dataset: Dataset, cache: Path) -> EvaluationResult:
    """No new-individual decision: the ranked identities as they are."""
    return evaluate_local(dataset, "split", CONFIG, cache_dir=cache)


def test_truth_marks_unseen_individuals_new(closed: EvaluationResult, dataset: Dataset) -> None:
    test_rows = dataset.table[dataset.table["split"] == "test"]
    assert closed.gallery == 12 and closed.queries == 12
    assert closed.truth == [*test_rows["identity"][:4], *[NEW_INDIVIDUAL] * 8]
    assert len(set(closed.truth[:4])) == 4
    assert [a.query for a in closed.identifications] == list(test_rows["image"])
    assert closed.method == "local" and closed.split_column == "split"
    assert closed.skipped == []


def test_without_a_threshold_nothing_is_called_new(closed: EvaluationResult) -> None:
    assert all(NEW_INDIVIDUAL not in p for p in closed.predictions)
    assert all(len(p) == 4 for p in closed.predictions)  # 4 gallery identities
    right = sum(p[0] == t for p, t in zip(closed.predictions[:4], closed.truth[:4], strict=True))
    assert right >= 3  # measured: 4 of 4
    assert closed.acc_new == 0.0
    assert closed.acc_known == right / 4
    assert closed.top1 == right / 12
    assert closed.oracle_map5 >= closed.map5


def test_infinite_threshold_calls_everyone_new(dataset: Dataset, cache: Path) -> None:
    result = evaluate_local(dataset, "split", CONFIG, cache_dir=cache, new_threshold=float("inf"))
    assert all(p[0] == NEW_INDIVIDUAL for p in result.predictions)
    assert all(len(p) == 5 for p in result.predictions)
    assert result.acc_new == 1.0
    assert result.acc_known == 0.0
    assert result.top1 == 8 / 12
    assert result.new_threshold == float("inf")


def test_summary_is_one_json_object(closed: EvaluationResult) -> None:
    summary = json.loads(json.dumps(closed.summary(), allow_nan=False))
    for key in ("top1", "top5", "map5", "acc_known", "acc_new", "queries", "gallery", "seconds"):
        assert key in summary
    assert summary["queries"] == 12 and summary["gallery"] == 12
    assert summary["top1"] == round(closed.top1, 4)
    assert summary["seconds"] >= 0 and summary["skipped"] == 0


def test_progress_reports_both_stages(dataset: Dataset, cache: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    evaluate_local(dataset, "split", CONFIG, cache_dir=cache, progress=lambda *a: calls.append(a))
    for stage in ("gallery", "queries"):
        mine = [c for c in calls if c[0] == stage]
        assert mine[0] == (stage, 0, 12)
        assert sum(c[1] for c in mine) == 12
    assert calls.index(("queries", 0, 12)) > calls.index(("gallery", 0, 12))


def test_missing_split_column_names_it(dataset: Dataset) -> None:
    with pytest.raises(DatasetError, match=r"no split column 'wd_split'.*\['split'\]"):
        evaluate_local(dataset, "wd_split", CONFIG)


def test_split_without_queries_is_refused(dataset: Dataset) -> None:
    gallery_only = dataset.subset((dataset.table["split"] == "train").to_numpy())
    with pytest.raises(DatasetError, match="has 12 gallery and 0 query rows"):
        evaluate_local(gallery_only, "split", CONFIG)
