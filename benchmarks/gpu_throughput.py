"""Training and embedding throughput on one GPU: photoid's real pipeline against the same step
fed tensors already on the GPU, and against plain fp32 / bf16 / compiled loops.

    .venv/bin/python benchmarks/gpu_throughput.py [--models resnet50 efficientnet_b0]
        [--size 384] [--batch 128] [--steps 30] [--warmup 10] [--workers 16] [--work DIR]

Smoke test on the CPU (seconds; numbers meaningless):

    .venv/bin/python benchmarks/gpu_throughput.py --device cpu --size 64 --steps 3 --warmup 1
        --models test_resnet --batch 8 --photo-size 128 --individuals 4 --workers 0 --no-compile

A synthetic dataset (``--individuals`` x 6 photos of ``--photo-size`` px longest side, 4:3,
JPEG, with a bbox per photo) is written once under --work. Per model (``pretrained=False``,
512-d embedding, sub-center ArcFace head, AdamW, P x K batches of ``--batch`` = P x 4):

1. fp32 eager, 2. bf16 autocast + channels_last, 3. the same + torch.compile: a plain loop
   (embedder, head, backward, optimizer step) on one batch of random tensors on the device;
4. photoid step: Lightning's Trainer running photoid's MetricLearner (bf16-mixed,
   channels_last, compile unless --no-compile, a CSV logger written every step as in fit) on
   batches already on the device;
5. photoid GPU data path (``decode: gpu``, :func:`photoid.train.gpu_batch.gpu_loader`): the
   same Trainer and module fed JPEG files from disk (workers read bytes; a background thread
   decodes them with nvjpeg, crops, resizes and applies the heavy policy on the device);
6. photoid CPU data path (``decode: cpu``): the same, decoded and augmented in the workers;
7. embedding: the embedder in eval mode under bf16 autocast, no TTA, on tensors on the device
   and on JPEG files through the GPU data path (``none`` policy);
8. gallery embedding with a pretrained-size model (``--pretrained``, default a ViT-L at 384
   px, random weights from a local file) through photoid's inference path, mixed precision and
   fp32, checked against fp32 on the CPU (benchmarks/pretrained_throughput.py).

Timing runs from the end of warm-up step ``--warmup`` to the end of the last step, with the
device synchronised at both ends. The bars: GPU data path >= 0.90 x photoid step, and
photoid step >= 2.5 x fp32 eager.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import timm
import torch
import torchvision
from _machine import describe
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, RandomSampler

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.data.table import Dataset
from photoid.train.config import TrainConfig
from photoid.train.dataset import PhotoDataset, seed_worker
from photoid.train.fit import log_interval
from photoid.train.gpu_batch import gpu_loader, prepare_model
from photoid.train.module import MetricLearner
from photoid.train.sampler import pk_sampler

PER_INDIVIDUAL = 6
K = 4  # photos per identity in a batch


class Repeated:
    """One batch ``times`` times: a training loader whose data are already on the device."""

    def __init__(self, batch: tuple[torch.Tensor, ...], times: int) -> None:
        self.batch, self.times = batch, times

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        return iter([self.batch] * self.times)

    def __len__(self) -> int:
        return self.times


class StepTimer(L.Callback):
    """Seconds from the end of step ``warmup`` - 1 to the end of the last step."""

    def __init__(self, warmup: int, steps: int, sync: Callable[[], None]) -> None:
        self.warmup, self.last, self.sync = warmup, warmup + steps - 1, sync
        self.started = self.seconds = 0.0

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, index: int
    ) -> None:
        if index == self.warmup - 1:
            self.sync()
            self.started = time.perf_counter()
        elif index == self.last:
            self.sync()
            self.seconds = time.perf_counter() - self.started


def prepare(work: Path, individuals: int, photo_size: int) -> Dataset:
    data = work / f"data{photo_size}"
    if not (data / "metadata.csv").is_file():
        started = time.perf_counter()
        workers = os.cpu_count() or 1
        generate(
            data,
            individuals=individuals,
            images_per=PER_INDIVIDUAL,
            seed=0,
            size=photo_size,
            workers=workers,
            overwrite=True,
        )
        print(f"generated the photos in {time.perf_counter() - started:.0f} s", flush=True)
    return load_dataset(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["resnet50", "efficientnet_b0"])
    parser.add_argument("--size", type=int, default=384, help="training image side, px")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1))
    parser.add_argument("--photo-size", type=int, default=1024, help="photo longest side, px")
    parser.add_argument("--individuals", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-gpu-throughput"))
    parser.add_argument(
        "--pretrained",
        default="vit_large_patch16_384",
        help="also embed a gallery with this pretrained-size timm model at 384 px "
        "(benchmarks/pretrained_throughput.py); 'none' to skip",
    )
    parser.add_argument("--pretrained-size", type=int, default=384, help="its input side, px")
    parser.add_argument("--pretrained-photos", type=int, default=512, help="gallery photos")
    args = parser.parse_args()
    if args.batch % K or args.warmup < 1 or args.steps < 1:
        parser.error(f"--batch must be a multiple of {K}; --warmup and --steps at least 1")
    device = torch.device(args.device)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    data = prepare(args.work, args.individuals, args.photo_size)
    bench = Bench(args, device, data)
    rows = [bench.model(name) for name in args.models]
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU only"
    print(
        f"\nCard: {card}. Machine: {describe()}. torch {torch.__version__} (CUDA "
        f"{torch.version.cuda}), torchvision {torchvision.__version__}, timm "
        f"{timm.__version__}, lightning {L.__version__}. Command: `python {' '.join(sys.argv)}`"
        f"\n\nImages per second at {args.size} px, batch {args.batch}, {args.steps} timed steps "
        f"after {args.warmup}; photos {args.photo_size} px JPEG, cropped to their bbox.\n"
    )
    print(
        "| model | fp32 eager | bf16 + channels_last | + compile | photoid step, tensors "
        "| photoid, GPU decode | photoid, CPU decode | GPU decode / step (>= 0.90) "
        "| step / fp32 (>= 2.5) | embed, tensors | embed, GPU decode |"
    )
    print("|---" * 11 + "|")
    for row in rows:
        measured = ("fp32_eager", "bf16_cl", "compiled", "photoid_step", "gpu_data", "cpu_data")
        cells = [
            row["model"],
            *(rate(row.get(k, 0.0)) for k in measured),
            ratio(row["gpu_data"], row["photoid_step"], 0.9),
            ratio(row["photoid_step"], row["fp32_eager"], 2.5),
            *(rate(row[k]) for k in ("embed_tensors", "embed_files")),
        ]
        print("| " + " | ".join(cells) + " |")
    if args.pretrained != "none":
        from pretrained_throughput import measure, photos

        paths = photos(args.work, args.pretrained_photos, args.photo_size)
        size, check = args.pretrained_size, min(16, len(paths))
        embedded = measure(args.pretrained, size, str(device), 64, paths, check, args.work)
        print(f"\nGallery embedding with a pretrained-size model: {json.dumps(embedded)}")
    if bench.failed:
        sys.exit(f"\nFailed (tracebacks above): {', '.join(bench.failed)}")


def ratio(measured: float, reference: float, bar: float) -> str:
    if not measured or not reference:
        return "-"
    return f"{measured / reference:.2f} {'pass' if measured >= bar * reference else 'FAIL'}"


def rate(images_per_second: float) -> str:
    """Whole numbers from 100 up, three significant digits below (CPU smoke runs); "-" for a
    measurement that was skipped or failed (its traceback is in the log)."""
    if not images_per_second:
        return "-"
    if images_per_second >= 100:
        return f"{images_per_second:,.0f}"
    return f"{images_per_second:.3g}"


class Bench:
    """The measurements of one run (one device, one dataset, the command's settings)."""

    def __init__(self, args: argparse.Namespace, device: torch.device, data: Dataset) -> None:
        self.args, self.device, self.data = args, device, data
        self.total = args.warmup + args.steps
        self.failed: list[str] = []

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def config(self, name: str, **changes: Any) -> TrainConfig:
        base = TrainConfig(
            backbone=name,
            image_size=self.args.size,
            identities_per_batch=self.args.batch // K,
            images_per_identity=K,
            workers=self.args.workers,
            compile=self.args.compile,
            policy="heavy",
        )
        return replace(base, **changes)

    def model(self, name: str) -> dict[str, Any]:
        row: dict[str, Any] = {"model": name}
        config = self.config(name)
        plain = self.config(name, channels_last=False, compile=False)
        measures: dict[str, Callable[[], Any]] = {
            "fp32_eager": lambda: self.loop(plain, False),
            "bf16_cl": lambda: self.loop(self.config(name, compile=False), True),
            "compiled": lambda: self.loop(self.config(name, compile=True), True),
            "photoid_step": lambda: self.trainer(config, self.tensor_batches(config)),
            "gpu_data": lambda: self.trainer(config, self.file_loader(config, "gpu")),
            "cpu_data": lambda: self.trainer(config, self.file_loader(config, "cpu")),
            "embed": lambda: self.embedding(config),
        }
        if not self.args.compile:
            del measures["compiled"]
        for key, measure in measures.items():
            started = time.perf_counter()
            try:
                value = measure()
            except Exception:  # one failed measurement must not lose the others
                logging.exception("%s %s failed", name, key)
                self.failed.append(f"{name} {key}")
                value = (0.0, 0.0) if key == "embed" else 0.0
            if key == "embed":
                row["embed_tensors"], row["embed_files"] = value
            else:
                row[key] = value
            # Each figure as soon as it is measured: a run cut short keeps what it measured.
            shown = ", ".join(rate(v) for v in value) if isinstance(value, tuple) else rate(value)
            print(
                f"{name} {key}: {shown} img/s ({time.perf_counter() - started:.0f} s)", flush=True
            )
        print(
            json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}),
            flush=True,
        )
        return row

    def learner(self, config: TrainConfig) -> MetricLearner:
        learner = MetricLearner(config, len(self.data.identities), self.total)
        prepare_model(learner.embedder, config)
        return learner

    def images(self, config: TrainConfig) -> torch.Tensor:
        size = (self.args.batch, 3, config.image_size, config.image_size)
        images = torch.randn(size, device=self.device)
        if config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def labels(self) -> torch.Tensor:
        classes = len(self.data.identities)
        return torch.arange(self.args.batch, device=self.device) // K % classes

    def loop(self, config: TrainConfig, bf16: bool) -> float:
        """Images per second of a plain training loop on one batch already on the device."""
        self.free()
        learner = self.learner(config).to(self.device)
        optimizer = learner.configure_optimizers()["optimizer"]
        images, labels = self.images(config), self.labels()

        def step() -> None:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = learner.head(learner.embedder(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        return self.timed(step)

    def timed(self, step: Callable[[], None]) -> float:
        for _ in range(self.args.warmup):
            step()
        self.sync()
        started = time.perf_counter()
        for _ in range(self.args.steps):
            step()
        self.sync()
        seconds = time.perf_counter() - started
        return self.args.steps * self.args.batch / seconds

    def free(self) -> None:
        """Release the previous measurement's device memory."""
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def trainer(self, config: TrainConfig, loader: Iterable[Any]) -> float:
        """Images per second of photoid's MetricLearner under Lightning's Trainer."""
        self.free()
        learner = self.learner(config)
        timer = StepTimer(self.args.warmup, self.args.steps, self.sync)
        trainer = L.Trainer(
            max_steps=self.total,
            accelerator="gpu" if self.device.type == "cuda" else "cpu",
            devices=1,
            precision="bf16-mixed",
            callbacks=[timer],
            # As fit does: a logger, written as often as fit writes it.
            logger=CSVLogger(self.args.work, name="logs"),
            log_every_n_steps=log_interval(self.total),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            use_distributed_sampler=False,
        )
        trainer.fit(learner, loader)
        return self.args.steps * self.args.batch / timer.seconds

    def tensor_batches(self, config: TrainConfig) -> Repeated:
        """The real path's batch layout (images, labels, indices, species, taxonomy), on the
        device, once per step."""
        labels = self.labels()
        indices = torch.arange(len(labels), device=self.device)
        blank, taxonomy = torch.full_like(labels, -1), labels.new_zeros((len(labels), 0))
        return Repeated((self.images(config), labels, indices, blank, taxonomy), self.total)

    def file_loader(self, config: TrainConfig, decode: str) -> Iterable[Any]:
        photos = PhotoDataset(
            self.data, policy=config.policy, image_size=config.image_size, seed=config.seed
        )
        sampler = pk_sampler(photos.labels, config.identities_per_batch, K, config.seed, self.total)
        if decode == "gpu":
            return gpu_loader(photos, config, sampler, device=self.device)
        return DataLoader(
            photos,
            batch_size=config.batch_size,
            sampler=sampler,
            num_workers=config.workers,
            worker_init_fn=seed_worker,
            drop_last=True,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if config.workers else None,
        )

    @torch.inference_mode()
    def embedding(self, config: TrainConfig) -> tuple[float, float]:
        """Images per second of the embedder (eval, bf16, no TTA): tensors, then files."""
        self.free()
        learner = self.learner(config).to(self.device).eval()
        images = self.images(config)

        def embed(batch: torch.Tensor) -> None:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                learner.embedder(batch)

        tensors = self.timed(lambda: embed(images))
        photos = PhotoDataset(self.data, policy="none", image_size=config.image_size)
        count = self.total * self.args.batch
        sampler = RandomSampler(photos, num_samples=count)
        batches = iter(gpu_loader(photos, config, sampler, train=False, device=self.device))
        files = self.timed(lambda: embed(next(batches)[0]))
        return tensors, files


if __name__ == "__main__":
    main()
