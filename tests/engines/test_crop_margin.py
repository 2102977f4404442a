"""``crop_margin``: every engine crops to the box grown by the margin, in fitting and in
identifying, exactly as if the boxes had been grown in the dataset; a fitted engine keeps its
margin (saved, and applied to what it identifies later)."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoid.data import load_dataset
from photoid.data.boxes import with_margin
from photoid.data.synth import generate
from photoid.engines import create_engine
from photoid.engines.base import EngineOptions
from photoid.engines.store import load_engine, save_engine
from photoid.fusion.config import Queries


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    root = tmp_path_factory.mktemp("margin") / "data"
    generate(root, individuals=4, images_per=3, seed=3, size=160)
    data = load_dataset(root)
    last = data.table["image"].str.endswith("_002.jpg").to_numpy()
    return data.subset(~last), data.subset(last)


def _answers(engine, queries) -> list[list[tuple[str, float]]]:  # type: ignore[no-untyped-def]
    ranked, _ = engine.answer(Queries.of(queries))
    return [[(c.identity, round(c.score, 6)) for c in r.candidates] for r in ranked]


def _points(engine, queries) -> list:  # type: ignore[no-untyped-def]
    ranked, _ = engine.answer(Queries.of(queries))
    return [r.candidates[0].best.query_points.tolist() for r in ranked]


def test_a_margin_crops_as_boxes_grown_in_the_dataset(split: tuple, tmp_path: Path) -> None:
    gallery, queries = split
    margined = create_engine("local", EngineOptions(crop_margin=0.25, cache_dir=tmp_path))
    margined.fit(gallery)
    by_hand = create_engine("local", EngineOptions(cache_dir=tmp_path))
    by_hand.fit(with_margin(gallery, 0.25))
    assert _answers(margined, queries) == _answers(by_hand, with_margin(queries, 0.25))
    assert _points(margined, queries) == _points(by_hand, with_margin(queries, 0.25))
    plain = create_engine("local", EngineOptions(cache_dir=tmp_path)).fit(gallery)
    # Without the margin the crops are smaller: other keypoints, other matches.
    assert _points(plain, queries) != _points(margined, queries)


def test_a_saved_engine_keeps_its_margin(split: tuple, tmp_path: Path) -> None:
    gallery, queries = split
    options = EngineOptions(crop_margin=0.5, cache_dir=tmp_path / "cache")
    engine = create_engine("local", options).fit(gallery)
    save_engine(engine, tmp_path / "engine", gallery)
    again = load_engine(tmp_path / "engine")
    assert again.options.crop_margin == 0.5
    assert again.options.describe()["crop_margin"] == 0.5
    assert "crop_margin" not in EngineOptions().describe()  # older engines stay valid
    assert _answers(again, queries) == _answers(engine, queries)
    boxes = Queries.of(queries).bboxes
    assert boxes is not None and again.cropped(Queries.of(queries)).bboxes != boxes
