from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Timer

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.errors import PhotoidError
from photoid.train.config import resolve_config
from photoid.train.fit import fit, log_interval, precision_for
from photoid.train.module import MetricLearner, leave_one_out_map5, warmup_cosine

TINY = [
    "backbone=test_resnet",
    "image_size=32",
    "embedding_size=16",
    "epochs=2",
    "identities_per_batch=4",
    "images_per_identity=2",
    "workers=0",
    "policy=light",
    "head=arcface",
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    generate(root, individuals=6, images_per=4, seed=3, size=96)
    return root


def test_fit_writes_config_checkpoints_and_logs(synthetic: Path, tmp_path: Path) -> None:
    dataset = load_dataset(synthetic)
    config = resolve_config(None, TINY)
    result = fit(dataset, config, tmp_path / "run", val=dataset, progress=False)
    assert result.last_checkpoint.is_file()
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert result.best_map5 is not None and 0.0 <= result.best_map5 <= 1.0
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["backbone"] == "test_resnet" and saved["epochs"] == 2
    metrics = next((tmp_path / "run" / "logs").rglob("metrics.csv"))
    rows = list(csv.DictReader(metrics.open()))
    assert any(row.get("train_loss_step") for row in rows)
    assert sum(1 for row in rows if row.get("val_map5")) == 2  # one validation per epoch
    # The checkpoint carries the resolved config and rebuilds the same model.
    state = torch.load(result.last_checkpoint, map_location="cpu", weights_only=False)
    assert state["hyper_parameters"]["config"]["embedding_size"] == 16
    assert state["epoch"] == 1


def test_resume_continues_from_last_checkpoint(synthetic: Path, tmp_path: Path) -> None:
    dataset = load_dataset(synthetic)
    first = resolve_config(None, [*TINY, "epochs=1"])
    fit(dataset, first, tmp_path / "run", progress=False)
    more = resolve_config(None, [*TINY, "epochs=2"])
    result = fit(dataset, more, tmp_path / "run", resume=True, progress=False)
    state = torch.load(result.last_checkpoint, map_location="cpu", weights_only=False)
    assert state["epoch"] == 1  # epoch 0 came from the first run, epoch 1 from the resumed one
    assert state["global_step"] == 2 * (24 // 8)


def test_too_few_identities_is_a_clear_error(synthetic: Path, tmp_path: Path) -> None:
    dataset = load_dataset(synthetic)
    config = resolve_config(None, [*TINY, "identities_per_batch=7"])
    with pytest.raises(PhotoidError, match="identities_per_batch=7"):
        fit(dataset, config, tmp_path / "run", progress=False)


def test_warmup_then_cosine() -> None:
    # warmup 2 of 10 steps: 1/2, 2/2, then cosine from 1 at step 2 to 0 at step 10.
    assert warmup_cosine(0, 2, 10) == 0.5
    assert warmup_cosine(1, 2, 10) == 1.0
    assert warmup_cosine(2, 2, 10) == 1.0
    assert warmup_cosine(6, 2, 10) == pytest.approx(0.5)
    assert warmup_cosine(10, 2, 10) == pytest.approx(0.0)


def test_a_wall_time_budget_moves_the_schedule_on() -> None:
    class HalfSpent(Timer):
        def time_elapsed(self, stage: str = "train") -> float:
            return 0.5 * 60.0  # half of a one-minute budget

    config = resolve_config(None, [*TINY, "max_minutes=1"])
    learner = MetricLearner(config, 6, steps_per_epoch=10)  # 2 epochs: 20 steps, warmup 10
    assert learner.schedule_position(12, 10, 20) == 12  # no trainer yet: the step count
    learner._trainer = SimpleNamespace(callbacks=[HalfSpent()])  # type: ignore[assignment]
    # Half the budget spent: halfway through the 10 steps after warm-up, position 15, where
    # the cosine is at 0.5; steps beyond that, and warm-up steps, keep their own position.
    assert learner.schedule_position(12, 10, 20) == 15.0
    assert learner.schedule_position(18, 10, 20) == 18.0
    assert learner.schedule_position(4, 10, 20) == 4
    factor = learner.configure_optimizers()["lr_scheduler"]["scheduler"].lr_lambdas[0]
    assert factor(12) == pytest.approx(0.5)
    without_budget = MetricLearner(resolve_config(None, TINY), 6, steps_per_epoch=10)
    without_budget._trainer = SimpleNamespace(callbacks=[HalfSpent()])  # type: ignore[assignment]
    assert without_budget.schedule_position(12, 10, 20) == 12


def test_leave_one_out_map5_by_hand() -> None:
    import numpy as np

    embeddings = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    # Photos 0,1 are identity 0 and photos 2,3 identity 1: every photo's nearest other photo
    # is its own identity's -> MAP@5 = 1.
    assert leave_one_out_map5(embeddings, np.array([0, 0, 1, 1])) == 1.0
    # Swap: 0 with 2 (identity 0), 1 with 3 (identity 1): nearest is always the other identity,
    # which comes first and the right one second -> 1/2 for each query.
    assert leave_one_out_map5(embeddings, np.array([0, 1, 0, 1])) == 0.5


def test_cpu_precision_is_fp32() -> None:
    config = resolve_config(None, TINY)
    assert precision_for(config) == ("bf16-mixed" if torch.cuda.is_available() else "32-true")
    assert isinstance(MetricLearner, type)


def test_log_interval_logs_five_steps_per_epoch_and_at_most_every_50() -> None:
    assert [log_interval(n) for n in (0, 3, 9, 10, 100, 250, 251, 10_000)] == [
        1,
        1,
        1,
        2,
        20,
        50,
        50,
        50,
    ]
