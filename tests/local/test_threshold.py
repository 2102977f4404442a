from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_many
from photoid.local.threshold import best_balanced_threshold, fit_new_threshold


def test_best_balanced_threshold_separable() -> None:
    genuine = np.array([5.0, 6.0, 9.0])
    impostor = np.array([1.0, 2.0, 3.0])
    # Distinct values 1,2,3,5,6,9; candidate midpoints include (3+5)/2 = 4, which accepts all
    # genuine (>= 4) and rejects all impostors (< 4): balanced accuracy 1. The smaller
    # candidates 1, 1.5, 2.5 accept some impostors, so 4 is the first perfect one.
    threshold, accuracy = best_balanced_threshold(genuine, impostor)
    assert threshold == 4.0
    assert accuracy == 1.0


def test_best_balanced_threshold_overlapping() -> None:
    genuine = np.array([2.0, 4.0])
    impostor = np.array([1.0, 3.0])
    # t = 1.5: accept 2/2 genuine, reject 1/2 impostors -> 0.75;
    # t = 3.5: accept 1/2, reject 2/2 -> 0.75; ties go to the smallest threshold.
    threshold, accuracy = best_balanced_threshold(genuine, impostor)
    assert (threshold, accuracy) == (1.5, 0.75)


@pytest.fixture(scope="module")
def engine_and_features(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalEngine, list]:
    root = tmp_path_factory.mktemp("synth")
    generate(root, individuals=4, images_per=3, seed=5, size=192)
    dataset = load_dataset(root)
    config = LocalConfig(max_side=256)
    engine = LocalEngine.from_dataset(dataset, config)
    table = dataset.table
    extracted = extract_many([root / p for p in table["image"]], list(table["bbox"]), config, None)
    return engine, [e.features for e in extracted]


def test_fit_new_threshold_uses_leave_one_out(engine_and_features: tuple) -> None:
    engine, features = engine_and_features
    fit = fit_new_threshold(engine, features)
    assert fit is not None
    assert fit.genuine.shape == fit.impostor.shape == (12,)
    # A photo's own identity, with its other photos, must outscore other identities on average,
    # and the fitted threshold lies between the two groups' medians.
    assert np.median(fit.genuine) > np.median(fit.impostor)
    assert np.median(fit.impostor) <= fit.threshold <= np.median(fit.genuine)
    assert fit.balanced_accuracy >= 0.75


def test_fit_new_threshold_needs_two_identities(tmp_path: Path) -> None:
    generate(tmp_path, individuals=1, images_per=3, seed=1, size=160)
    dataset = load_dataset(tmp_path)
    engine = LocalEngine.from_dataset(dataset, LocalConfig(max_side=192))
    assert fit_new_threshold(engine, [None] * 3) is None  # type: ignore[list-item]
