from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.errors import PhotoidError
from photoid.train.checkpointing import LastCheckpoint
from photoid.train.config import resolve_config
from photoid.train.dataset import PhotoDataset
from photoid.train.fit import fit
from photoid.train.resumable import ResumableLoader
from photoid.train.sampler import pk_sampler

SCRIPT = Path(__file__).with_name("fit_script.py")
# identity: 0 0 0 1 1 1 2 2 3 3, plus one unknown (-1) photo
LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, -1], dtype=np.int64)


def test_sampler_state_round_trip_resumes_at_the_saved_batch() -> None:
    sampler = pk_sampler(LABELS, p=2, k=2, seed=5, num_batches=5)
    epoch0 = list(sampler)
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert sampler.state_dict() == {"epoch": 1, "batch": 0}
    sampler.load_state_dict({"epoch": 0, "batch": 2})
    fresh = pk_sampler(LABELS, p=2, k=2, seed=5, num_batches=5)
    fresh.load_state_dict(sampler.state_dict())
    assert fresh.state_dict() == {"epoch": 0, "batch": 2}
    assert list(fresh) == epoch0[2 * 4 :]  # batches 2, 3, 4 of 4 indices each
    assert list(fresh) == epoch0  # only the resumed pass skips
    # Lightning sets the resumed epoch again before iterating: the position must survive that.
    fresh.load_state_dict({"epoch": 1, "batch": 3})
    fresh.set_epoch(1)
    assert list(fresh) == epoch1[3 * 4 :]
    # A saved complete epoch then moving on to the next one starts it at batch 0.
    fresh.load_state_dict({"epoch": 0, "batch": 5})
    fresh.set_epoch(1)
    assert list(fresh) == epoch1


def test_sampler_state_out_of_range_is_an_error() -> None:
    sampler = pk_sampler(LABELS, p=2, k=2, seed=5, num_batches=5)
    with pytest.raises(PhotoidError, match="an epoch has 5 batches"):
        sampler.load_state_dict({"epoch": 0, "batch": 6})


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    generate(root, individuals=4, images_per=4, seed=2, size=48)
    return root


def _loader(root: Path, workers: int = 0) -> ResumableLoader:
    images = PhotoDataset(load_dataset(root), policy="heavy", image_size=16, seed=0)
    sampler = pk_sampler(images.labels, 2, 2, seed=0)
    return ResumableLoader(images, sampler, num_workers=workers, seed=0)


def _draws() -> tuple[torch.Tensor, float, float]:
    return torch.rand(3), float(np.random.rand()), random.random()


def test_loader_resumes_at_the_next_batch_with_the_same_augmentations(synthetic: Path) -> None:
    # 16 photos in batches of 2 x 2: 4 batches per epoch.
    reference = _loader(synthetic)
    batches = iter(reference)
    head = [next(batches), next(batches)]
    state = reference.state_dict()
    assert (state["epoch"], state["batch"]) == (0, 2)
    tail = list(batches)
    after = _draws()  # what the global generators give right after the epoch
    assert len(head) + len(tail) == 4
    assert reference.state_dict()["epoch"] == 1 and reference.state_dict()["batch"] == 0
    reference.pk.set_epoch(1)
    next_epoch = list(reference)

    resumed = _loader(synthetic)
    resumed.load_state_dict(state)
    # Other global random states in between: the loader puts the saved ones back.
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    resumed_tail = list(resumed)
    _same(_draws(), after)
    assert len(resumed_tail) == len(tail)
    for ours, theirs in zip(resumed_tail, tail, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)  # same photos, same augmentation draws, bit for bit
    resumed.pk.set_epoch(1)
    for ours, theirs in zip(list(resumed), next_epoch, strict=True):
        assert torch.equal(ours[0], theirs[0])


def test_loader_with_workers_resumes_with_the_same_photos(synthetic: Path) -> None:
    # A worker runs ahead of the trainer (it prefetches), so the position counts the batches
    # handed out, not the ones the sampler gave the worker.
    reference = _loader(synthetic, workers=1)
    batches = iter(reference)
    head = [next(batches)]
    state = reference.state_dict()
    assert (state["epoch"], state["batch"]) == (0, 1)
    assert state["random"]["augment"] is None  # the worker's augmentations start afresh
    tail = [batch[2] for batch in batches]
    resumed = _loader(synthetic, workers=1)
    resumed.load_state_dict(state)
    resumed_tail = [batch[2] for batch in resumed]
    assert len(head) + len(resumed_tail) == 4
    assert all(torch.equal(a, b) for a, b in zip(resumed_tail, tail, strict=True))


def _same(
    ours: tuple[torch.Tensor, float, float], theirs: tuple[torch.Tensor, float, float]
) -> None:
    assert torch.equal(ours[0], theirs[0]) and ours[1:] == theirs[1:]


def test_a_failed_save_leaves_the_previous_checkpoint_whole(tmp_path: Path) -> None:
    last = tmp_path / "last.ckpt"
    last.write_bytes(b"previous checkpoint")

    def killed_mid_write(path: Path, weights_only: bool) -> None:
        Path(path).write_bytes(b"half a ch")
        raise KeyboardInterrupt  # stands for the process dying during the write

    trainer: Any = SimpleNamespace(
        save_checkpoint=killed_mid_write, is_global_zero=True, global_step=3, callback_metrics={}
    )
    with pytest.raises(KeyboardInterrupt):
        LastCheckpoint(last).save(trainer)
    assert last.read_bytes() == b"previous checkpoint"

    trainer.save_checkpoint = lambda path, weights_only: Path(path).write_bytes(b"new one")
    LastCheckpoint(last).save(trainer)
    assert last.read_bytes() == b"new one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_saves_only_right_after_every_nth_optimiser_step_inside_an_epoch(tmp_path: Path) -> None:
    # Gradients accumulated over 2 batches, 6 batches an epoch: the optimiser steps after
    # batches 1, 3 and 5 (global steps 1, 2, 3); every step is due, but batch 5 ends the epoch
    # (the epoch-end save follows) and the other batches end without a step.
    saved: list[int] = []
    trainer: Any = SimpleNamespace(
        global_step=0, num_training_batches=6, is_global_zero=False, callback_metrics={}
    )
    trainer.save_checkpoint = lambda path, weights_only: saved.append(trainer.global_step)
    callback = LastCheckpoint(tmp_path / "last.ckpt", every_n_steps=1)
    callback.on_train_start(trainer, None)
    for batch in range(6):
        trainer.global_step = (batch + 1) // 2
        callback.on_train_batch_end(trainer, None, None, None, batch)
    assert saved == [1, 2]
    # Resumed at step 6, after batch 3 of 8: batch 4 takes no step (no save, though step 6 is
    # due), batch 5 steps to 7 (saved), batch 7 steps to 8 but ends the epoch.
    saved.clear()
    trainer.global_step, trainer.num_training_batches = 6, 8
    callback = LastCheckpoint(tmp_path / "last.ckpt", every_n_steps=1)
    callback.on_train_start(trainer, None)
    for batch, step in [(4, 6), (5, 7), (6, 7), (7, 8)]:
        trainer.global_step = step
        callback.on_train_batch_end(trainer, None, None, None, batch)
    assert saved == [7]
    callback.on_train_epoch_end(trainer, None)
    assert saved == [7, 8]


def _start(*args: str | Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), *map(str, args)], stdout=out, stderr=subprocess.STDOUT
        )


def _wait_for(line: str, log: Path, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while line not in log.read_text().splitlines():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no {line!r} in {seconds} s: {log.read_text()[-3000:]}"
        time.sleep(0.2)


def _checkpoint(run: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    return loaded


SETTINGS = [
    "backbone=test_resnet",
    "image_size=32",
    "embedding_size=8",
    "epochs=3",
    "identities_per_batch=2",
    "images_per_identity=2",
    "workers=0",
    "policy=heavy",
    "head=arcface",
    "checkpoint_every_steps=2",
]


class _Stopped(Exception):
    """Stands for the process dying right after the end of an epoch."""


def _fit_here(data: Path, out: Path, *, resume: bool = False) -> None:
    """Train in this process on one thread, like fit_script.py; ``resume`` through
    ``photoid train --resume``."""
    from photoid.cli.app import app  # every command module: only this test needs them

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if not resume:
            fit(load_dataset(data), resolve_config(None, SETTINGS), out, progress=False)
            return
        args = ["train", str(data), "--out", str(out), "--resume"]
        result = CliRunner().invoke(app, args + [x for s in SETTINGS for x in ("--set", s)])
        assert result.exit_code == 0, result.output
    finally:
        torch.set_num_threads(threads)


def _assert_same_training_state(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert (ours["global_step"], ours["epoch"]) == (theirs["global_step"], theirs["epoch"])
    assert ours["state_dict"].keys() == theirs["state_dict"].keys()
    for name, tensor in theirs["state_dict"].items():
        assert torch.equal(ours["state_dict"][name], tensor), name
    moments = [s.values() for s in (ours, theirs) for s in [s["optimizer_states"][0]["state"]]]
    for our_moments, their_moments in zip(*moments, strict=True):
        assert all(torch.equal(our_moments[k], their_moments[k]) for k in their_moments)


@pytest.mark.slow
def test_runs_stopped_mid_epoch_or_between_epochs_resume_to_the_same_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 photos, batches of 2 x 2 (4 steps an epoch), 3 epochs, last.ckpt every 2 steps;
    heavy augmentation, so a resume that replays other random draws ends elsewhere."""
    data = tmp_path / "ds"
    generate(data, individuals=4, images_per=4, seed=2, size=64)
    killed = _start(
        data, tmp_path / "run", "--pause-at-step", "6", *SETTINGS, log=tmp_path / "run.log"
    )
    # Meanwhile, here: the uninterrupted run, and one stopped after epoch 0's checkpoint.
    _fit_here(data, tmp_path / "full")
    full = _checkpoint(tmp_path / "full")
    assert (full["global_step"], full["epoch"]) == (12, 2)
    save_at_epoch_end = LastCheckpoint.on_train_epoch_end

    def stop_after_epoch_0(self: LastCheckpoint, trainer: Any, module: Any) -> None:
        save_at_epoch_end(self, trainer, module)
        if trainer.current_epoch == 0:
            raise _Stopped

    monkeypatch.setattr(LastCheckpoint, "on_train_epoch_end", stop_after_epoch_0)
    with pytest.raises(_Stopped):
        _fit_here(data, tmp_path / "between")
    assert _checkpoint(tmp_path / "between")["global_step"] == 4
    _fit_here(data, tmp_path / "between", resume=True)
    _assert_same_training_state(_checkpoint(tmp_path / "between"), full)

    _wait_for("paused", tmp_path / "run.log", killed, seconds=240)
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    # Step 6 is batch 2 of epoch 1 (steps 5-8): the checkpoint is a mid-epoch one.
    interrupted = _checkpoint(tmp_path / "run")
    assert (interrupted["global_step"], interrupted["epoch"]) == (6, 1)
    loader_state = interrupted["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]
    assert (loader_state["epoch"], loader_state["batch"]) == (1, 2)
    resumed = _start(data, tmp_path / "run", "--resume", *SETTINGS, log=tmp_path / "resumed.log")
    assert resumed.wait(timeout=240) == 0, (tmp_path / "resumed.log").read_text()[-3000:]
    steps = [s for s in (tmp_path / "resumed.log").read_text().splitlines() if s[:5] == "step "]
    assert steps == [f"step {n}" for n in range(7, 13)]  # the rest of epoch 1, then epoch 2
    _assert_same_training_state(_checkpoint(tmp_path / "run"), full)
