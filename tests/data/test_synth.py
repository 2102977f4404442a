"""Synthetic datasets: deterministic by seed, prefix-stable, loadable, honest boxes, sides.

Counts stay tiny (a few individuals x a few photos at 96-128 px) so the file runs in seconds.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from photoid.data import load_dataset
from photoid.data.images import load_image, read_info
from photoid.data.synth import SynthConfig, generate, make_individual, render_example
from photoid.data.synth.body import FinShape
from photoid.errors import DatasetError

SMALL = {"size": 96}


def _images(root: Path) -> dict[str, np.ndarray]:
    table = pd.read_csv(root / "metadata.csv", dtype=str)
    return {name: load_image(root / name) for name in table["image"]}


def test_same_seed_gives_identical_files_and_pixels(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", individuals=3, images_per=2, seed=7, **SMALL)
    b = generate(tmp_path / "b", individuals=3, images_per=2, seed=7, **SMALL)
    assert a.read_bytes() == b.read_bytes()
    pixels_a, pixels_b = _images(a.parent), _images(b.parent)
    assert pixels_a.keys() == pixels_b.keys()
    for name, image in pixels_a.items():
        assert np.array_equal(image, pixels_b[name]), name
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes()


def test_different_seed_differs(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", individuals=2, images_per=2, seed=1, **SMALL)
    b = generate(tmp_path / "b", individuals=2, images_per=2, seed=2, **SMALL)
    assert a.read_bytes() != b.read_bytes()
    pixels_a, pixels_b = _images(a.parent), _images(b.parent)
    assert all(not np.array_equal(pixels_a[n], pixels_b[n]) for n in pixels_a)


def test_first_individuals_do_not_depend_on_how_many_follow(tmp_path: Path) -> None:
    few = generate(tmp_path / "few", individuals=2, images_per=3, seed=5, **SMALL)
    many = generate(tmp_path / "many", individuals=5, images_per=3, seed=5, **SMALL)
    few_lines = few.read_text("utf-8").splitlines()
    many_lines = many.read_text("utf-8").splitlines()
    assert len(few_lines) == 1 + 2 * 3 and len(many_lines) == 1 + 5 * 3
    assert few_lines == many_lines[: len(few_lines)]
    for name in pd.read_csv(few, dtype=str)["image"]:
        assert (few.parent / name).read_bytes() == (many.parent / name).read_bytes()


def test_two_worker_processes_give_the_same_dataset(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", individuals=3, images_per=2, seed=3, workers=1, **SMALL)
    two = generate(tmp_path / "two", individuals=3, images_per=2, seed=3, workers=2, **SMALL)
    assert one.read_bytes() == two.read_bytes()
    for name in pd.read_csv(one, dtype=str)["image"]:
        assert (one.parent / name).read_bytes() == (two.parent / name).read_bytes()


def test_counts_names_species_and_encounters(tmp_path: Path) -> None:
    calls: list[int] = []
    path = generate(tmp_path, individuals=4, images_per=5, seed=0, progress=calls.append, **SMALL)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns) == [
        "image", "identity", "species", "viewpoint", "bbox", "date", "encounter",
    ]  # fmt: skip
    assert calls == [5, 5, 5, 5]
    expected = ["spotted_0000", "striped_0001", "finned_0002", "spotted_0003"]
    assert table["identity"].drop_duplicates().tolist() == expected
    assert (table.groupby("identity").size() == 5).all()
    assert table.loc[table.identity == "finned_0002", "species"].unique().tolist() == [
        "dolphin dorsal fin (synthetic)"
    ]
    assert set(table["viewpoint"]) == {"left"}
    for identity, rows in table.groupby("identity"):
        assert 2 <= rows["encounter"].nunique() <= 4, identity
        assert rows.groupby("encounter")["date"].nunique().eq(1).all()  # one date per sighting
        assert rows["date"].nunique() == rows["encounter"].nunique()
        assert rows["date"].is_monotonic_increasing
        assert rows["encounter"].str.startswith(f"{identity}_e").all()
    for image in table["image"]:
        assert (tmp_path / image).is_file()
        assert image.startswith("images/") and image.endswith(".jpg")


def test_metadata_loads_with_load_dataset(tmp_path: Path) -> None:
    generate(tmp_path, individuals=3, images_per=2, seed=11, **SMALL)
    dataset = load_dataset(tmp_path)
    assert len(dataset) == 6
    assert dataset.identities == ("finned_0002", "spotted_0000", "striped_0001")
    assert dataset.labels.tolist() == [1, 1, 2, 2, 0, 0]
    assert dataset.table["date"].notna().all()
    first = dataset.table.iloc[0]
    info = read_info(dataset.image_path(0))
    assert (info.width, info.height) == (96, 72)  # longest side = size, 4:3 landscape
    x, y, w, h = first["bbox"]
    assert min(x, y) >= 0 and x + w <= 96 and y + h <= 72


@pytest.mark.parametrize(("individual", "photo"), [(0, 0), (1, 3), (2, 1), (3, 2), (5, 4)])
def test_bbox_is_the_tight_box_of_the_animal_mask(individual: int, photo: int) -> None:
    config = replace(SynthConfig(), size=128, truncation_prob=0.5)
    shot = render_example(9, individual, photo, 5, config)
    assert shot.image.shape == (96, 128, 3) and shot.image.dtype == np.uint8
    assert shot.mask.shape == (96, 128) and shot.mask.dtype == bool
    x, y, w, h = shot.bbox
    assert 0 <= x < x + w <= 128 and 0 <= y < y + h <= 96
    inside = shot.mask[y : y + h, x : x + w].sum()
    assert inside == shot.mask.sum()  # every animal pixel lies in the box
    rows, cols = np.nonzero(shot.mask)
    assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
    assert inside > 0.25 * w * h  # the box hugs an animal, not a sliver


@pytest.mark.parametrize("photo", range(4))
def test_an_animal_pushed_off_the_frame_gets_a_box_clipped_to_the_frame(photo: int) -> None:
    config = replace(SynthConfig(), size=128, truncation_prob=1.0, truncation_max=0.5)
    shot = render_example(3, photo, photo, 4, config)
    x, y, w, h = shot.bbox
    assert x == 0 or y == 0 or x + w == 128 or y + h == 96
    assert 0 <= x < x + w <= 128 and 0 <= y < y + h <= 96


def test_written_bbox_matches_the_rendered_mask(tmp_path: Path) -> None:
    path = generate(tmp_path, individuals=2, images_per=3, seed=4, **SMALL)
    table = load_dataset(tmp_path).table
    config = replace(SynthConfig(), **SMALL)
    for position in range(len(table)):
        shot = render_example(4, position // 3, position % 3, 3, config)
        assert table["bbox"].iloc[position] == tuple(float(v) for v in shot.bbox), path


def test_asymmetric_shows_both_flanks_with_different_markings(tmp_path: Path) -> None:
    path = generate(
        tmp_path / "asym", individuals=3, images_per=6, seed=2, asymmetric=True, **SMALL
    )
    plain = generate(tmp_path / "plain", individuals=3, images_per=6, seed=2, **SMALL)
    asym, sym = pd.read_csv(path, dtype=str), pd.read_csv(plain, dtype=str)
    assert set(asym["viewpoint"]) == {"left", "right"}
    assert set(sym["viewpoint"]) == {"left"}
    for (_, a), (_, s) in zip(asym.iterrows(), sym.iterrows(), strict=True):
        same = (path.parent / a["image"]).read_bytes() == (plain.parent / s["image"]).read_bytes()
        assert same == (a["viewpoint"] == "left")  # a left photo is the same photo either way


def test_right_flank_has_own_pattern_in_the_same_palette() -> None:
    config = replace(SynthConfig(), asymmetric=True, size=128)
    for index in range(3):
        animal = make_individual(config, 1, index, 4)
        left, right = animal.coats["left"], animal.coats["right"]
        assert np.abs(left.mean(axis=(0, 1)) - right.mean(axis=(0, 1))).max() < 0.06
        assert _correlation(left, right) < 0.3
        assert _correlation(left, left[:, ::-1]) < 0.3  # a mirror image is no substitute


def test_individuals_of_a_species_share_palette_but_not_pattern() -> None:
    config = replace(SynthConfig(), size=128)
    for first, second in [(0, 3), (1, 4), (2, 5)]:
        a, b = make_individual(config, 0, first, 3), make_individual(config, 0, second, 3)
        assert a.species is b.species
        assert (
            np.abs(a.coats["left"].mean(axis=(0, 1)) - b.coats["left"].mean(axis=(0, 1))).max()
            < 0.06
        )
        assert _correlation(a.coats["left"], b.coats["left"]) < 0.3
    fins = [make_individual(config, 0, i, 3).shape for i in (2, 5, 8)]
    assert all(isinstance(f, FinShape) for f in fins)
    assert len({f.notches for f in fins if isinstance(f, FinShape)}) == 3


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the markings: grey levels minus their smooth shading (blur, sigma 3 px)."""
    details = [g - cv2.GaussianBlur(g, (0, 0), 3.0) for g in (a.mean(axis=2), b.mean(axis=2))]
    return float(np.corrcoef(details[0].ravel(), details[1].ravel())[0, 1])


def test_refuses_to_overwrite_an_existing_dataset(tmp_path: Path) -> None:
    path = generate(tmp_path, individuals=2, images_per=1, seed=0, **SMALL)
    before = path.read_bytes()
    with pytest.raises(DatasetError, match=r"already holds a dataset.*overwrite"):
        generate(tmp_path, individuals=1, images_per=1, seed=0, **SMALL)
    assert path.read_bytes() == before
    generate(tmp_path, individuals=1, images_per=1, seed=0, overwrite=True, **SMALL)
    assert len(pd.read_csv(path)) == 1


def test_png_format_and_species_subset(tmp_path: Path) -> None:
    config = SynthConfig(image_format="png", species=("striped",))
    generate(tmp_path, individuals=2, images_per=1, seed=0, config=config, **SMALL)
    dataset = load_dataset(tmp_path)
    assert dataset.identities == ("striped_0000", "striped_0001")
    assert read_info(dataset.image_path(1)).format == "PNG"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 16}, "size"),
        ({"species": ("spotted", "winged")}, "species"),
        ({"animal_scale": (0.9, 0.5)}, "animal_scale"),
        ({"occlusion_prob": 1.5}, "occlusion_prob"),
        ({"first_date": "2020-13-01"}, "first_date"),
        ({"image_format": "gif"}, "image_format"),
    ],
)
def test_config_rejects_bad_values_by_name(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SynthConfig(**change)  # type: ignore[arg-type]


def test_generate_rejects_bad_counts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="images_per"):
        generate(tmp_path, individuals=1, images_per=0, seed=0)
    assert not (tmp_path / "metadata.csv").exists()


@pytest.mark.slow
def test_identity_is_recoverable_from_markings_but_not_from_colour(tmp_path: Path) -> None:
    """The difficulty the defaults are tuned for: SIFT + RANSAC 1-NN well above a colour
    histogram 1-NN, and below perfect (20 individuals x 5 photos at 256 px, crops by bbox)."""
    generate(tmp_path, individuals=20, images_per=5, seed=0, workers=2)
    dataset = load_dataset(tmp_path)
    crops = [
        load_image(dataset.image_path(i), dataset.table["bbox"].iloc[i])
        for i in range(len(dataset))
    ]
    sift, matcher = cv2.SIFT_create(), cv2.BFMatcher(cv2.NORM_L2)
    features = [sift.detectAndCompute(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY), None) for c in crops]
    hists = [
        cv2.calcHist([cv2.cvtColor(c, cv2.COLOR_RGB2HSV)], [0, 1, 2], None, [8] * 3,
                     [0, 180, 0, 256, 0, 256]).ravel()
        for c in crops
    ]  # fmt: skip
    n = len(crops)
    inliers, distance = np.full((n, n), -1.0), np.full((n, n), np.inf)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            distance[i, j] = cv2.compareHist(hists[i], hists[j], cv2.HISTCMP_BHATTACHARYYA)
            if j < i:
                continue
            (kp_i, des_i), (kp_j, des_j) = features[i], features[j]
            pairs = [
                a for a, b in matcher.knnMatch(des_i, des_j, k=2) if a.distance < 0.8 * b.distance
            ]
            if len(pairs) >= 4:
                src = np.float32([kp_i[m.queryIdx].pt for m in pairs])
                dst = np.float32([kp_j[m.trainIdx].pt for m in pairs])
                _, keep = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
                inliers[i, j] = inliers[j, i] = 0 if keep is None else keep.sum()
    labels = dataset.labels
    sift_top1 = np.mean(labels[inliers.argmax(axis=1)] == labels)
    colour_top1 = np.mean(labels[distance.argmin(axis=1)] == labels)
    assert 0.6 <= sift_top1 <= 0.97, sift_top1
    assert colour_top1 <= 0.3, colour_top1  # chance is 4/99; the species alone gives ~0.12
    assert sift_top1 - colour_top1 >= 0.4
