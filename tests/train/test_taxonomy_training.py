"""Training with species and hierarchical taxonomy heads on a tiny synthetic dataset."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.errors import DatasetError, PhotoidError
from photoid.train.config import resolve_config
from photoid.train.dataset import PhotoDataset, taxonomy_columns
from photoid.train.module import MetricLearner

SETTINGS = [
    "backbone=test_resnet",
    "image_size=32",
    "embedding_size=16",
    "identities_per_batch=4",
    "images_per_identity=2",
    "workers=0",
    "policy=none",
    "head=softmax",
    "lr=0.003",
    "warmup_epochs=0",
    "epochs=1",
    "species_weight=0.5",
    "taxonomy=family,genus",
    "taxonomy_weight=1.0",
    "focal_gamma=2.0",
]
STEPS = 6


def _add_taxonomy(root: Path, genus_of: dict[str, str], family_of: dict[str, str]) -> None:
    """Add ``family`` and ``genus`` columns to root/metadata.csv, by identity."""
    path = root / "metadata.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0], "family", "genus"])
        writer.writeheader()
        for row in rows:
            genus = genus_of[row["identity"]]
            writer.writerow({**row, "family": family_of[genus], "genus": genus})


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 individuals x 2 photos; in file order their genera are G0, G0, G1, G1, G2, G2 (CSV
    lines 2-5, 6-9, 10-13); G0 and G1 are in family F0, G2 in F1."""
    root = tmp_path_factory.mktemp("taxonomy")
    generate(root, individuals=6, images_per=2, seed=5, size=48)
    identities = list(dict.fromkeys(load_dataset(root).table["identity"]))
    genus_of = {identity: f"G{i // 2}" for i, identity in enumerate(identities)}
    _add_taxonomy(root, genus_of, {"G0": "F0", "G1": "F0", "G2": "F1"})
    return root


class _Losses(L.Callback):
    def __init__(self) -> None:
        self.values: list[float] = []

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, *args: Any
    ) -> None:
        self.values.append(float(outputs["loss"]))


def test_losses_fall_on_a_fixed_batch_and_each_level_is_logged(
    synthetic: Path, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    config = resolve_config(None, SETTINGS)
    images = PhotoDataset(
        load_dataset(synthetic),
        policy=config.policy,
        image_size=config.image_size,
        taxonomy=taxonomy_columns(config.taxonomy),
    )
    assert images.taxonomy is not None and images.species_names is not None
    assert images.taxonomy.names == (("F0", "F1"), ("G0", "G1", "G2"))
    assert images.taxonomy.parents == ((), (0, 0, 1))
    every_row = list(range(len(images)))
    loader = DataLoader(images, batch_sampler=[every_row] * STEPS)  # the same batch each step
    batch = next(iter(loader))
    assert batch[3].shape == (12,) and batch[4].shape == (12, 2)
    model = MetricLearner(
        config,
        num_classes=images.num_classes,
        steps_per_epoch=STEPS,
        num_species=len(images.species_names),
        taxonomy=images.taxonomy,
    )
    assert model.hparams["taxonomy"] == images.taxonomy.to_dict()
    assert model.taxonomy_head is not None and model.species_head is not None
    family_before = model.taxonomy_head.classifiers[0].weight.detach().clone()
    losses = _Losses()
    trainer = L.Trainer(
        max_steps=STEPS,
        accelerator="cpu",
        callbacks=[losses],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, loader)
    assert len(losses.values) == STEPS
    assert all(torch.isfinite(torch.tensor(losses.values)))
    assert losses.values[-1] < 0.8 * losses.values[0]
    logged = trainer.logged_metrics
    for name in ("species", "family", "genus"):
        assert torch.isfinite(logged[f"train_{name}_loss_step"])
        assert 0.0 <= float(logged[f"train_{name}_acc_step"]) <= 1.0
    changed = model.taxonomy_head.classifiers[0].weight.detach()
    assert not torch.equal(changed, family_before)


def test_heads_on_without_their_labels_is_an_error(synthetic: Path) -> None:
    config = resolve_config(None, SETTINGS)
    images = PhotoDataset(load_dataset(synthetic), image_size=32, taxonomy=("family", "genus"))
    model = MetricLearner(config, num_classes=6, steps_per_epoch=1, taxonomy=images.taxonomy)
    batch = next(iter(DataLoader(images, batch_size=4)))
    with pytest.raises(PhotoidError, match="taxonomy head is on but the batches carry no"):
        model.training_step(batch[:3], 0)


def test_a_genus_in_two_families_stops_the_dataset(synthetic: Path, tmp_path: Path) -> None:
    lines = (synthetic / "metadata.csv").read_text().splitlines()
    # The last photo's genus G2 now also sits in family F0 (G2 is in F1 on lines 10-13).
    lines[-1] = lines[-1].replace(",F1,G2", ",F0,G2")
    (tmp_path / "metadata.csv").write_text("\n".join(lines) + "\n")
    data = load_dataset(tmp_path)
    with pytest.raises(
        DatasetError,
        match=r"genus 'G2' has 2 different family values \(family 'F1' in rows 10, 11, 12; "
        r"family 'F0' in row 13\)",
    ):
        PhotoDataset(data, taxonomy=("family", "genus"))
