from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from photoid.data.synth import generate


@pytest.mark.slow
def test_ddp_trains_two_cpu_processes_over_gloo(tmp_path: Path) -> None:
    """`photoid train --set strategy=ddp --set devices=2` on the CPU: Lightning starts a second
    process running the same command, the two join over gloo and train together."""
    generate(tmp_path / "ds", individuals=4, images_per=4, seed=2, size=96)
    photoid = Path(sys.executable).parent / "photoid"
    settings = [
        "backbone=test_resnet", "image_size=32", "embedding_size=8", "epochs=1",
        "identities_per_batch=2", "images_per_identity=2", "workers=0", "policy=none",
        "strategy=ddp", "devices=2",
    ]  # fmt: skip
    command = [str(photoid), "train", str(tmp_path / "ds"), "--out", str(tmp_path / "run")]
    command += [x for s in settings for x in ("--set", s)]
    env = {**os.environ, "PL_DISABLE_FORK": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    output = done.stdout + done.stderr
    assert "distributed_backend=gloo" in output
    assert "Starting with 2 processes" in output
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    # 16 photos, batches of 2 x 2 = 4: each process runs ceil(16 / 4) = 4 steps per epoch.
    assert state["global_step"] == 4
