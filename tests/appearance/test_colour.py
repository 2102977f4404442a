"""The colour descriptor and ColourEngine on solid-colour photos, with hand-computed bins.

OpenCV's 8-bit HSV: hue in degrees / 2 (0-179), S and V 0-255. With 8x8x8 bins a hue bin is
22.5 wide and an S or V bin 32 wide, so the flat index of (h, s, v) is
``(h // 22.5) * 64 + (s // 32) * 8 + v // 32``:
red (255, 0, 0) -> HSV (0, 255, 255) -> bin (0, 7, 7) = 63;
green (0, 255, 0) -> (60, 255, 255) -> bin (2, 7, 7) = 191;
blue (0, 0, 255) -> (120, 255, 255) -> bin (5, 7, 7) = 383;
dark red (128, 0, 0) -> (0, 255, 128) -> bin (0, 7, 4) = 60.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from photoid.appearance import BINS, HUE_SATURATION_BINS, ColourEngine, colour_histogram
from photoid.data.table import load_dataset

RED, GREEN, BLUE, DARK_RED = (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 0, 0)
BIN = {RED: 63, GREEN: 191, BLUE: 383, DARK_RED: 60}
HALF = float(np.sqrt(0.5))


def solid(colour: tuple[int, int, int], height: int = 6, width: int = 8) -> np.ndarray:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[...] = colour
    return pixels


def halves(left: tuple[int, int, int], right: tuple[int, int, int]) -> np.ndarray:
    """A 6x8 image: columns 0-3 ``left``, 4-7 ``right``."""
    pixels = solid(left)
    pixels[:, 4:] = right
    return pixels


def write(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


# -- colour_histogram -------------------------------------------------------------------


def test_pure_red_fills_one_bin() -> None:
    histogram = colour_histogram(solid(RED))
    assert histogram.dtype == np.float32
    assert histogram.shape == (512,)
    assert np.flatnonzero(histogram).tolist() == [63]
    assert histogram[63] == pytest.approx(1.0)


@pytest.mark.parametrize("colour", [GREEN, BLUE, DARK_RED])
def test_other_solid_colours_fill_their_bin(colour: tuple[int, int, int]) -> None:
    histogram = colour_histogram(solid(colour))
    assert np.flatnonzero(histogram).tolist() == [BIN[colour]]


def test_half_red_half_blue_splits_the_mass() -> None:
    histogram = colour_histogram(halves(RED, BLUE))
    assert np.flatnonzero(histogram).tolist() == [63, 383]
    np.testing.assert_allclose(histogram[[63, 383]], [HALF, HALF], rtol=1e-6)
    assert float(np.linalg.norm(histogram)) == pytest.approx(1.0)


def test_three_quarters_red() -> None:
    """6 of 8 columns red, 2 green: sqrt(0.75) and sqrt(0.25)."""
    pixels = solid(RED)
    pixels[:, 6:] = GREEN
    histogram = colour_histogram(pixels)
    np.testing.assert_allclose(histogram[[63, 191]], [np.sqrt(0.75), 0.5], rtol=1e-6)


def test_any_histogram_has_unit_norm() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    histogram = colour_histogram(pixels)
    assert float(np.linalg.norm(histogram)) == pytest.approx(1.0, abs=1e-6)
    assert (histogram >= 0).all()


def test_non_contiguous_pixels_are_accepted() -> None:
    pixels = halves(RED, BLUE)[:, ::-1]  # a negative-stride view
    np.testing.assert_array_equal(colour_histogram(pixels), colour_histogram(halves(BLUE, RED)))


def test_empty_image_gives_the_uniform_unit_vector() -> None:
    histogram = colour_histogram(np.zeros((0, 0, 3), np.uint8))
    assert histogram.dtype == np.float32
    np.testing.assert_allclose(histogram, np.full(512, 1 / np.sqrt(512)), rtol=1e-6)
    assert not np.isnan(histogram).any()


def test_other_bin_counts() -> None:
    """4x2x2 bins: red -> (0, 1, 1) = 0*4 + 1*2 + 1 = 3 of 16."""
    histogram = colour_histogram(solid(RED), (4, 2, 2))
    assert histogram.shape == (16,)
    assert np.flatnonzero(histogram).tolist() == [3]
    assert BINS == (8, 8, 8)


def test_hue_saturation_bins_leave_brightness_out() -> None:
    """8x8 (hue, saturation): red (0, 255) and dark red (0, 255, V 128) share bin (0, 7) = 7,
    where 8x8x8 bins part them (63 and 60); blue (120, 255) -> (5, 7) = 47."""
    assert HUE_SATURATION_BINS == (8, 8)
    red = colour_histogram(solid(RED), HUE_SATURATION_BINS)
    assert red.shape == (64,) and red.dtype == np.float32
    assert np.flatnonzero(red).tolist() == [7]
    np.testing.assert_array_equal(colour_histogram(solid(DARK_RED), HUE_SATURATION_BINS), red)
    mixed = colour_histogram(halves(RED, BLUE), HUE_SATURATION_BINS)
    np.testing.assert_allclose(mixed[[7, 47]], [HALF, HALF], rtol=1e-6)


def test_bins_must_be_two_or_three() -> None:
    with pytest.raises(ValueError, match="hue, saturation"):
        colour_histogram(solid(RED), (8,))


def test_engine_with_hue_saturation_bins(tmp_path: Path) -> None:
    """Dark red finds red: same hue and saturation, other brightness."""
    engine = ColourEngine(bins=HUE_SATURATION_BINS)
    paths = [write(tmp_path / f"{i}.png", solid(c)) for i, c in enumerate((RED, BLUE))]
    engine.add(paths, ["r", "b"])
    query = write(tmp_path / "q.png", solid(DARK_RED))
    [answer] = engine.identify([query])
    assert answer.candidates[0].identity == "r"
    assert answer.candidates[0].score == pytest.approx(1.0, abs=1e-6)


# -- ColourEngine ------------------------------------------------------------------------


@pytest.fixture
def gallery_dir(tmp_path: Path) -> Path:
    """red: 2 photos, green: 2, blue: 1, and an ``unknown`` yellow photo; metadata.csv."""
    rows = [
        ("red_a.png", "red", RED),
        ("red_b.png", "red", RED),
        ("green_a.png", "green", GREEN),
        ("green_b.png", "green", GREEN),
        ("blue_a.png", "blue", BLUE),
        ("yellow.png", "unknown", (255, 255, 0)),
    ]
    for name, _, colour in rows:
        write(tmp_path / "photos" / name, solid(colour))
    pd.DataFrame(
        {"image": [f"photos/{r[0]}" for r in rows], "identity": [r[1] for r in rows]}
    ).to_csv(tmp_path / "metadata.csv", index=False)
    return tmp_path


def test_from_dataset_leaves_unknown_out(gallery_dir: Path) -> None:
    engine = ColourEngine.from_dataset(load_dataset(gallery_dir))
    assert len(engine) == 5
    assert engine.identities == ["red", "red", "green", "green", "blue"]
    assert engine.images[0] == "photos/red_a.png"
    assert "unknown" not in engine.identities
    assert engine.skipped == []


def test_same_colour_ranks_its_identity_first(gallery_dir: Path, tmp_path: Path) -> None:
    engine = ColourEngine.from_dataset(load_dataset(gallery_dir))
    query = write(tmp_path / "query" / "q.png", solid(BLUE, 10, 12))
    [answer] = engine.identify([query], names=["q"])
    assert answer.query == "q" and answer.warning is None
    assert answer.candidates[0].identity == "blue"
    assert answer.candidates[0].score == pytest.approx(1.0, abs=1e-6)
    assert answer.candidates[0].best.image == "photos/blue_a.png"
    # The other identities share no bin with blue: Hellinger similarity 0.
    assert sorted(c.identity for c in answer.candidates[1:]) == ["green", "red"]
    assert [c.score for c in answer.candidates[1:]] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_two_colour_query_scores_sqrt_half_for_each(gallery_dir: Path, tmp_path: Path) -> None:
    engine = ColourEngine.from_dataset(load_dataset(gallery_dir))
    query = write(tmp_path / "query" / "rg.png", halves(RED, GREEN))
    [answer] = engine.identify([query])
    assert answer.query == str(query)  # no names: the path
    scores = {c.identity: c.score for c in answer.candidates}
    assert scores == pytest.approx({"red": HALF, "green": HALF, "blue": 0.0}, abs=1e-6)
    assert {c.identity for c in answer.candidates[:2]} == {"red", "green"}


def test_top_limits_the_candidates(tmp_path: Path) -> None:
    engine = ColourEngine(top=2)
    paths = [write(tmp_path / f"{i}.png", solid(c)) for i, c in enumerate((RED, GREEN, BLUE))]
    assert engine.add(paths, ["r", "g", "b"]) == 3
    [answer] = engine.identify([paths[1]])
    assert [c.identity for c in answer.candidates[:1]] == ["g"]
    assert len(answer.candidates) == 2


def test_bbox_crops_before_describing(tmp_path: Path) -> None:
    """The left half of a red|blue photo is pure red; without use_bbox the box is ignored."""
    path = write(tmp_path / "rb.png", halves(RED, BLUE))
    box = (0.0, 0.0, 4.0, 6.0)
    vectors, errors = ColourEngine().embed([path], [box])
    assert errors == [None]
    assert np.flatnonzero(vectors[0]).tolist() == [63]
    whole, _ = ColourEngine(use_bbox=False).embed([path], [box])
    assert np.flatnonzero(whole[0]).tolist() == [63, 383]


def test_unreadable_query_gives_a_warning_answer(gallery_dir: Path, tmp_path: Path) -> None:
    engine = ColourEngine.from_dataset(load_dataset(gallery_dir))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a png")
    good = write(tmp_path / "good.png", solid(RED))
    with pytest.warns(UserWarning, match="broken.png"):
        answers = engine.identify([broken, good], names=["broken", "good"])
    assert answers[0].query == "broken"
    assert answers[0].candidates == []
    assert answers[0].warning is not None and "broken.png" in answers[0].warning
    assert answers[1].candidates[0].identity == "red"


def test_unreadable_gallery_photo_is_skipped(tmp_path: Path) -> None:
    engine = ColourEngine()
    good = write(tmp_path / "red.png", solid(RED))
    missing = tmp_path / "missing.png"
    with pytest.warns(UserWarning, match="missing.png"):
        added = engine.add([good, missing], ["r", "g"], names=["red.png", "missing.png"])
    assert added == 1
    assert engine.identities == ["r"]
    assert engine.skipped == ["missing.png"]


def test_empty_gallery_warns_in_the_answer(tmp_path: Path) -> None:
    query = write(tmp_path / "q.png", solid(RED))
    [answer] = ColourEngine().identify([query], names=["q"])
    assert answer.candidates == []
    assert answer.warning == "the gallery is empty"
