from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from photoid.data.table import Dataset, load_dataset
from photoid.errors import DatasetError, ImageLoadError, PhotoidError
from photoid.train.augment import IMAGENET_MEAN, IMAGENET_STD
from photoid.train.dataset import PhotoDataset, read_taxonomy, seed_worker, taxonomy_columns

SIZE = 16


def _write(root: Path, rows: list[tuple[str, str, str, str]]) -> Dataset:
    """rows: (image, identity, bbox, species); images not yet on disk get random pixels."""
    rng = np.random.default_rng(0)
    lines = ["image,identity,bbox,species"]
    for image, identity, bbox, species in rows:
        path = root / image
        if not path.exists():
            pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path)
        lines.append(f'{image},{identity},"{bbox}",{species}')
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return load_dataset(root)


def _normalised(rgb: tuple[int, int, int]) -> torch.Tensor:
    return torch.tensor(
        [(v / 255 - m) / s for v, m, s in zip(rgb, IMAGENET_MEAN, IMAGENET_STD, strict=True)]
    )


def test_samples_crop_to_the_bbox(tmp_path: Path) -> None:
    pixels = np.full((30, 40, 3), 90, dtype=np.uint8)
    pixels[5:13, 10:22] = (255, 0, 0)  # the box x=10, y=5, w=12, h=8 is pure red
    Image.fromarray(pixels).save(tmp_path / "a.png")
    data = _write(tmp_path, [("a.png", "ann", "10,5,12,8", "")])

    image, label, index, species, taxonomy = PhotoDataset(data, image_size=8)[0]
    assert image.shape == (3, 8, 8)
    expected = _normalised((255, 0, 0))[:, None, None].expand(3, 8, 8)
    torch.testing.assert_close(image, expected, atol=1e-5, rtol=0)
    assert label.dtype == torch.int64 and label.item() == 0 and index == 0
    assert species.item() == -1 and taxonomy.shape == (0,)  # empty species cell, no taxonomy

    whole, *_ = PhotoDataset(data, image_size=8, use_bbox=False)[0]
    assert whole[1].mean() > expected[1].mean() + 1  # grey background raises the green channel


def test_mirror_as_new_doubles_samples_and_classes(tmp_path: Path) -> None:
    data = _write(
        tmp_path,
        [("a.png", "ann", "", ""), ("b.png", "bob", "", ""), ("c.png", "ann", "", "")],
    )
    plain = PhotoDataset(data, image_size=SIZE)
    mirrored = PhotoDataset(data, image_size=SIZE, mirror_as_new=True)
    assert (len(plain), plain.num_classes) == (3, 2)
    assert (len(mirrored), mirrored.num_classes) == (6, 4)
    assert mirrored.labels.tolist() == [0, 1, 0, 2, 3, 2]
    for row in range(3):
        image, label, *_ = mirrored[row]
        flipped, flipped_label, index, *_ = mirrored[row + 3]
        assert torch.equal(image, plain[row][0])
        expected = torch.from_numpy(np.fliplr(image.permute(1, 2, 0).numpy()).copy())
        assert torch.equal(flipped, expected.permute(2, 0, 1))
        assert flipped_label.item() == label.item() + 2 and index == row + 3


def test_a_broken_file_warns_once_and_yields_the_same_identity(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    rows = [("a.png", "ann", "", ""), ("broken.jpg", "bob", "", ""), ("c.png", "bob", "", "")]
    data = _write(tmp_path, rows)
    dataset = PhotoDataset(data, image_size=SIZE)
    with caplog.at_level(logging.WARNING, logger="photoid.train.dataset"):
        image, label, index, *_ = dataset[1]
        again, *_ = dataset[1]
    assert label.item() == 1 and index == 1
    assert torch.equal(image, dataset[2][0]) and torch.equal(again, image)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "broken.jpg" in warnings[0] and "'bob'" in warnings[0]


def test_an_identity_with_no_readable_photo_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"")
    data = _write(tmp_path, [("a.png", "ann", "", ""), ("broken.jpg", "bob", "", "")])
    with pytest.raises(ImageLoadError, match="no photo of identity 'bob'"):
        PhotoDataset(data, image_size=SIZE)[1]


def test_species_labels_follow_sorted_names(tmp_path: Path) -> None:
    rows = [("a.png", "ann", "", "lion"), ("b.png", "bob", "", "koi"), ("c.png", "cy", "", "")]
    dataset = PhotoDataset(_write(tmp_path, rows), mirror_as_new=True)
    assert dataset.species_names == ("koi", "lion")
    assert dataset.species_labels is not None
    assert dataset.species_labels.tolist() == [1, 0, -1, 1, 0, -1]


def test_unknown_photos_keep_label_minus_one_when_mirrored(tmp_path: Path) -> None:
    data = _write(tmp_path, [("a.png", "ann", "", ""), ("b.png", "unknown", "", "")])
    dataset = PhotoDataset(data, mirror_as_new=True)
    assert dataset.labels.tolist() == [0, -1, 1, -1]


def test_seed_worker_gives_each_worker_its_own_augmentations(tmp_path: Path) -> None:
    data = _write(tmp_path, [("a.png", "ann", "", ""), ("a.png", "ann", "", "")])
    dataset = PhotoDataset(data, policy="heavy", image_size=SIZE, seed=3)
    # without seed_worker both workers would hold the same seeded pipeline: identical images
    loader = DataLoader(dataset, batch_size=1, num_workers=2, worker_init_fn=seed_worker)
    first, second = (batch[0][0] for batch in loader)
    assert not torch.equal(first, second)
    with pytest.raises(PhotoidError, match="worker_init_fn"):
        seed_worker(0)


def _write_taxonomy(root: Path, rows: list[tuple[str, str, str]]) -> Dataset:
    """rows: (identity, family, genus), all on one tiny image; CSV lines 2, 3, ..."""
    Image.fromarray(np.zeros((SIZE, SIZE, 3), dtype=np.uint8)).save(root / "a.png")
    lines = ["image,identity,family,genus"] + [f"a.png,{i},{f},{g}" for i, f, g in rows]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return load_dataset(root)


def test_taxonomy_labels_follow_sorted_names_and_fill_empty_parents(tmp_path: Path) -> None:
    rows = [
        ("ann", "Felidae", "Panthera"),
        ("bob", "Felidae", "Lynx"),
        ("cy", "Canidae", ""),
        ("dan", "", "Panthera"),  # family left empty: Panthera's family is known
        ("unknown", "", ""),
    ]
    dataset = PhotoDataset(
        _write_taxonomy(tmp_path, rows),
        image_size=SIZE,
        mirror_as_new=True,
        taxonomy=("family", "genus"),
    )
    assert dataset.taxonomy is not None
    assert dataset.taxonomy.names == (("Canidae", "Felidae"), ("Lynx", "Panthera"))
    assert dataset.taxonomy.parents == ((), (1, 1))
    expected = [[1, 1], [1, 0], [0, -1], [1, 1], [-1, -1]]
    assert dataset.taxonomy_labels.tolist() == expected + expected
    *_, taxonomy = dataset[7]  # row 2 (cy), mirrored
    assert taxonomy.dtype == torch.int64 and taxonomy.tolist() == [0, -1]


def test_a_missing_taxonomy_column_is_named(tmp_path: Path) -> None:
    data = _write_taxonomy(tmp_path, [("ann", "Felidae", "Panthera")])
    with pytest.raises(DatasetError, match=r"metadata.csv: taxonomy column 'order' is not in"):
        read_taxonomy(data, ("order", "family"))
    with pytest.raises(DatasetError, match="taxonomy column 'genus' is empty in every row"):
        read_taxonomy(_write_taxonomy(tmp_path, [("ann", "Felidae", "")]), ("family", "genus"))


def test_a_genus_under_two_families_is_not_a_tree(tmp_path: Path) -> None:
    rows = [
        ("ann", "Felidae", "Panthera"),
        ("bob", "Canidae", "Panthera"),
        ("cy", "Canidae", "Panthera"),
    ]
    with pytest.raises(
        DatasetError,
        match=r"not a tree: genus 'Panthera' has 2 different family values "
        r"\(family 'Felidae' in row 2; family 'Canidae' in rows 3, 4\)",
    ):
        read_taxonomy(_write_taxonomy(tmp_path, rows), ("family", "genus"))


def test_an_identity_under_two_genera_is_not_a_tree(tmp_path: Path) -> None:
    rows = [("ann", "Felidae", "Panthera"), ("ann", "Felidae", "Lynx"), ("unknown", "", "Lynx")]
    with pytest.raises(DatasetError, match=r"identity 'ann' has 2 different genus values"):
        read_taxonomy(_write_taxonomy(tmp_path, rows), ("family", "genus"))
    # the unknown identity is no individual: it may sit under any genus
    mixed = [("unknown", "Felidae", "Panthera"), ("unknown", "Felidae", "Lynx")]
    _, labels = read_taxonomy(_write_taxonomy(tmp_path, mixed), ("family", "genus"))
    assert labels.tolist() == [[0, 1], [0, 0]]


def test_a_genus_without_any_family_is_an_error(tmp_path: Path) -> None:
    rows = [("ann", "Felidae", "Panthera"), ("bob", "", "Lynx")]
    with pytest.raises(DatasetError, match=r"genus 'Lynx' \(row 3\) has no family in any row"):
        read_taxonomy(_write_taxonomy(tmp_path, rows), ("family", "genus"))


def test_taxonomy_columns_parse_the_setting() -> None:
    assert taxonomy_columns(" family , genus ") == ("family", "genus")
    assert taxonomy_columns("") == ()
    for bad in ("family,,genus", "genus,genus"):
        with pytest.raises(PhotoidError, match="distinct column names"):
            taxonomy_columns(bad)
