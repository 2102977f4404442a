"""evaluate_deep with an ``auto`` new-individual threshold and with ensembles."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from checkpoint_support import random_checkpoint
from photoid.data.synth import generate
from photoid.data.table import Dataset, load_dataset
from photoid.decide.threshold import fit_thresholds
from photoid.deep import DeepEngine
from photoid.evaluation import evaluate_deep
from photoid.metrics import NEW_INDIVIDUAL


def _checkpoint(path: Path, seed: int) -> Path:
    return random_checkpoint(path, seed, use_bbox=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, list[Path]]:
    """``split``: individuals 0-2: photos 0-1 train, 2 test; 3: photo 0 train, 1-2 test; 4: all
    test. ``val_split``: 0-2: photo 0 train, 1 val, 2 test; 3: photo 0 val, 1-2 test; 4: all
    test."""
    root = tmp_path_factory.mktemp("deep_auto")
    csv = generate(root / "data", individuals=5, images_per=3, seed=2, size=64)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    individual, photo = np.repeat(np.arange(5), 3), np.tile(np.arange(3), 5)
    train = ((individual < 3) & (photo < 2)) | ((individual == 3) & (photo == 0))
    cells["split"] = np.where(train, "train", "test")
    val = ((individual < 3) & (photo == 1)) | ((individual == 3) & (photo == 0))
    cells["val_split"] = np.where(
        val, "val", np.where((individual < 3) & (photo == 0), "train", "test")
    )
    cells.to_csv(csv, index=False)
    return load_dataset(root / "data"), [_checkpoint(root / f"m{i}.ckpt", i) for i in range(2)]


def test_auto_threshold_is_fitted_on_the_gallery_by_leave_one_out(
    setup: tuple[Dataset, list[Path]],
) -> None:
    dataset, models = setup
    result = evaluate_deep(dataset, "split", models[0], new_threshold="auto")
    gallery = dataset.subset((dataset.table["split"] == "train").to_numpy())
    # The gallery's own photos, each ranked without itself; identity 3's only photo is new.
    engine = DeepEngine.from_checkpoint(models[0], gallery)
    ranked, scores = engine.leave_one_out(6)
    counts = Counter(engine.identities)
    truth = [NEW_INDIVIDUAL if counts[n] == 1 else n for n in engine.identities]
    assert truth.count(NEW_INDIVIDUAL) == 1
    rest = [
        [n for n in names if n != own][:5] if t == NEW_INDIVIDUAL else names[:5]
        for names, own, t in zip(ranked, engine.identities, truth, strict=True)
    ]
    rows = [
        [s for n, s in zip(names, row.tolist(), strict=False) if t != NEW_INDIVIDUAL or n != own]
        for names, row, own, t in zip(ranked, scores, engine.identities, truth, strict=True)
    ]
    matrix = np.array([(r + [-np.inf] * 5)[:5] for r in rows])
    fit = SimpleNamespace(thresholds=fit_thresholds(truth, rest, matrix))
    assert result.new_threshold == fit.thresholds.global_threshold
    summary = json.loads(json.dumps(result.summary(), allow_nan=False))
    # 7 gallery photos; identity 3 has one, so leaving it out makes it a new individual.
    assert summary["new_threshold_fit"]["source"] == "gallery"
    assert summary["new_threshold_fit"]["queries"] == 7
    assert summary["new_threshold_fit"]["new"] == 1
    assert summary["new_threshold_fit"]["map5"]["global"] == round(fit.thresholds.map5[""], 4)
    threshold = fit.thresholds.global_threshold
    for answer, predicted in zip(result.identifications, result.predictions, strict=True):
        assert (predicted[0] == NEW_INDIVIDUAL) == (answer.candidates[0].score < threshold)
    assert result.truth.count(NEW_INDIVIDUAL) == 3  # identity 4's photos


def test_an_ensemble_evaluates_with_a_given_threshold(setup: tuple[Dataset, list[Path]]) -> None:
    dataset, models = setup
    for combine in ("mean", "concat"):
        result = evaluate_deep(dataset, "split", models, ensemble=combine, new_threshold=2.0)  # type: ignore[arg-type]
        summary = result.summary()
        assert summary["new_threshold"] == 2.0
        assert summary["new_threshold_fit"] == {
            "rule": "threshold",
            "source": "given",
            "threshold": 2.0,
        }
        assert summary["gallery"] == 7 and summary["queries"] == 8
        assert all(p[0] == NEW_INDIVIDUAL for p in result.predictions)
        assert (summary["acc_known"], summary["acc_new"]) == (0.0, 1.0)


def test_auto_threshold_is_fitted_on_validation_rows_when_the_split_has_them(
    setup: tuple[Dataset, list[Path]],
) -> None:
    dataset, models = setup
    result = evaluate_deep(dataset, "val_split", models[0], new_threshold="auto")
    gallery = dataset.subset((dataset.table["val_split"] == "train").to_numpy())
    validation = dataset.subset((dataset.table["val_split"] == "val").to_numpy())
    engine = DeepEngine.from_checkpoint(models[0], gallery)
    answers = engine.identify(validation.paths(), bboxes=validation.cells("bbox"), top=6)
    # Validation photos as they are: the one whose individual the gallery lacks is new.
    known = set(engine.identities)
    truth = [n if n in known else NEW_INDIVIDUAL for n in validation.table["identity"]]
    fitted = fit_thresholds(
        truth,
        [[c.identity for c in a.candidates][:5] for a in answers],
        np.array([[c.score for c in a.candidates][:5] for a in answers]),
    )
    assert result.new_threshold == fitted.global_threshold
    summary = result.summary()
    # Four validation photos: individuals 0-2 are in the gallery, 3 is not (a new one).
    assert summary["new_threshold_fit"]["source"] == "val"
    assert (summary["new_threshold_fit"]["queries"], summary["new_threshold_fit"]["new"]) == (4, 1)
    assert summary["gallery"] == 3 and summary["queries"] == 8  # val rows are neither
