"""The ECE experiment on a tiny synthetic set: calibrators fitted on the local engine's gallery
by leave-one-out, measured on held-out queries of the same individuals."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.calibrate import (
    ENGINE_TRANSFORMS,
    ScorePairs,
    local_gallery_pairs,
    local_leave_one_out,
    pairs_from_identifications,
)
from photoid.calibrate.evaluate import HeldOutCalibration, evaluate_calibration
from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.errors import PhotoidError
from photoid.local import LocalConfig, LocalEngine
from photoid.local.features import Features


@pytest.fixture(scope="module")
def experiment(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[LocalEngine, ScorePairs, dict[str, HeldOutCalibration]]:
    root = tmp_path_factory.mktemp("synth")
    generate(root, individuals=16, images_per=5, seed=3, size=192)
    dataset = load_dataset(root)
    photo = dataset.table.groupby("identity").cumcount().to_numpy()
    gallery, queries = dataset.subset(photo < 3), dataset.subset(photo >= 3)
    engine = LocalEngine.from_dataset(gallery, LocalConfig(max_side=256), keep_descriptors=True)
    gallery_pairs = local_gallery_pairs(engine)
    answers = engine.identify(
        queries.paths(), bboxes=queries.cells("bbox"), names=list(queries.table["image"])
    )
    query_pairs = pairs_from_identifications(list(queries.table["identity"]), answers)
    results = evaluate_calibration(gallery_pairs, query_pairs, ENGINE_TRANSFORMS["local"])
    return engine, gallery_pairs, results


def test_gallery_pairs_come_from_leave_one_out(experiment: tuple) -> None:
    engine, pairs, _ = experiment
    # 48 gallery photos, each answered with the top 5 of the 16 identities; the own identity
    # (two photos left) is among them at most once.
    assert len(engine) == 48 and len(pairs) == 240
    assert np.bincount(pairs.query, weights=pairs.same).max() == 1
    assert pairs.same.sum() >= 40


def test_calibration_holds_on_held_out_queries(experiment: tuple) -> None:
    _, _, results = experiment
    assert set(results) == {"isotonic", "logistic"}
    for result in results.values():
        # Loose bounds for 240 gallery pairs and 160 query pairs (measured: ECE 0.02, Brier 0.01).
        assert result.fit.ece < 0.15
        assert result.ece < 0.15
        assert result.brier < 0.1
        probabilities = result.fit.out_of_fold
        same = experiment[1].same
        assert probabilities[same].mean() > 0.6 > 0.2 > probabilities[~same].mean()


def test_leave_one_out_needs_the_gallery_descriptors(experiment: tuple) -> None:
    engine = experiment[0]
    with pytest.raises(PhotoidError, match="1 feature sets for a gallery of 48"):
        local_leave_one_out(engine, engine.gallery_features[:1])
    bare = Features(np.zeros((3, 2), np.float32), np.zeros((0, 128), np.float32), 1.0, (0.0, 0.0))
    with pytest.raises(PhotoidError, match="keep_descriptors=True"):
        local_leave_one_out(engine, [bare] * len(engine))
