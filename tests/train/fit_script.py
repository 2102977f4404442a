"""Run photoid.train.fit.fit in a process of its own, for the kill-and-resume test.

Usage: ``python fit_script.py DATASET OUT [--resume] [--pause-at-step N] KEY=VALUE...`` (the
training settings), on one thread. Prints ``step S`` (flushed) after each optimiser step's
``last.ckpt`` handling; with ``--pause-at-step N`` it prints ``paused`` after step N and
sleeps, mid-epoch, until killed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from photoid.data import load_dataset
from photoid.train import checkpointing
from photoid.train.config import resolve_config
from photoid.train.fit import fit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--pause-at-step", type=int, default=-1)
    parser.add_argument("settings", nargs="*")
    args = parser.parse_intermixed_args()
    torch.set_num_threads(1)
    original = checkpointing.LastCheckpoint.on_train_batch_end

    def report(self: checkpointing.LastCheckpoint, trainer: Any, *rest: Any) -> None:
        original(self, trainer, *rest)
        print(f"step {trainer.global_step}", flush=True)
        if trainer.global_step == args.pause_at_step:
            print("paused", flush=True)
            time.sleep(600)

    checkpointing.LastCheckpoint.on_train_batch_end = report  # type: ignore[method-assign]
    config = resolve_config(None, args.settings)
    fit(load_dataset(args.dataset), config, args.out, resume=args.resume, progress=False)


if __name__ == "__main__":
    main()
