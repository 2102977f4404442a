"""An evaluation of a re-ranking engine traces each miss to retrieval or verification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.engines.base import EngineOptions
from photoid.evaluation.engine_run import evaluate
from photoid.keypoints.config import KeypointConfig


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 individuals x 3 photos: photos 0-1 of each the gallery, photo 2 the query."""
    folder = tmp_path_factory.mktemp("trace")
    csv_path = generate(folder / "data", individuals=6, images_per=3, seed=11, size=128)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    cells["split"] = np.where(np.tile(np.arange(3), 6) < 2, "train", "test")
    cells.to_csv(csv_path, index=False)
    return folder / "data"


def _summary(root: Path, shortlist: int) -> dict:
    options = EngineOptions(
        keypoints=KeypointConfig(side=160, max_keypoints=128, shortlist=shortlist)
    )
    result = evaluate(load_dataset(root), "split", "keypoints", options)
    return result.summary()


def test_a_short_list_of_the_whole_gallery_never_misses_by_retrieval(root: Path) -> None:
    summary = _summary(root, shortlist=12)  # 12 gallery photos: every one is re-ranked
    assert summary["shortlist"]["queries"] == 6
    assert summary["shortlist"]["recall"] == 1.0
    assert summary["shortlist"]["missed_retrieval"] == 0
    wrong = round((1.0 - summary["top1"]) * 6)
    assert summary["shortlist"]["missed_verification"] == wrong


def test_every_top1_miss_is_traced_once(root: Path) -> None:
    summary = _summary(root, shortlist=1)  # only RootSIFT's best photo is re-ranked
    trace = summary["shortlist"]
    wrong = round((1.0 - summary["top1"]) * 6)
    assert trace["missed_retrieval"] + trace["missed_verification"] == wrong
    # A query outside its short list is wrong unless RootSIFT's order behind puts it first.
    assert trace["missed_retrieval"] <= round((1.0 - trace["recall"]) * 6)
