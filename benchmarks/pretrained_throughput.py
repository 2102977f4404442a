"""Embedding a gallery with a pretrained-size model (the way a MegaDescriptor-L-384 user runs
photoid zero-shot): photos per second through photoid's own path (photos decoded from JPEG in
threads, the pretrained embedder's preprocessing, batched inference), on ``--device`` with
mixed precision (``auto``) and float32, and how far the device's mixed-precision embeddings
lie from float32 on the CPU.

    .venv/bin/python benchmarks/pretrained_throughput.py [--model vit_large_patch16_384]
        [--size 384] [--batch 64] [--photos 512] [--check 16] [--device auto] [--work DIR]

CPU smoke test (seconds; numbers meaningless):

    .venv/bin/python benchmarks/pretrained_throughput.py --model test_vit --size 32 \\
        --photos 16 --batch 8 --check 4 --device cpu

No weights are downloaded: the model's own architecture with random weights is written to a
``.safetensors`` file once under ``--work`` and loaded through ``pretrained.weights``, as a
user's MegaDescriptor file would be; speed does not depend on the weights' values. The photos
are a synthetic dataset of ``--photo-size`` px JPEGs (written once). Also run from
``benchmarks/gpu_throughput.py`` (its ``--pretrained`` option).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch
from _machine import describe
from safetensors.torch import save_file

from photoid.data.synth import generate
from photoid.deep.embed import embed_images, load_pretrained_embedder
from photoid.devices import resolve_device
from photoid.engines.pretrained_config import PretrainedConfig


def weights_file(model: str, work: Path) -> Path:
    """``model`` with random weights saved once as ``work/<model>.safetensors``."""
    path = work / f"{model}.safetensors"
    if not path.is_file():
        work.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        network = timm.create_model(model, pretrained=False, num_classes=0)
        save_file({k: v.contiguous() for k, v in network.state_dict().items()}, str(path))
    return path


def photos(work: Path, count: int, photo_size: int) -> list[Path]:
    """``count`` synthetic JPEG photos (6 per individual), written once under ``work``."""
    individuals = max(1, -(-count // 6))
    root = work / f"photos-{individuals}x6-{photo_size}px"
    if not (root / "metadata.csv").is_file():
        generate(root, individuals=individuals, images_per=6, seed=0, size=photo_size)
    found = sorted(p for p in (root / "images").rglob("*") if p.is_file())
    return found[:count]


def measure(
    model: str,
    size: int,
    device: str,
    batch: int,
    paths: list[Path],
    check: int,
    work: Path,
) -> dict[str, Any]:
    """Photos per second for each precision, and the check against float32 on the CPU."""
    config = PretrainedConfig(
        model=model,
        weights=str(weights_file(model, work)),
        image_size=size,
        device=device,
        batch=batch,
    )
    target = resolve_device(device)
    embedder = load_pretrained_embedder(config)
    result: dict[str, Any] = {
        "model": model,
        "image_size": size,
        "parameters_m": round(sum(p.numel() for p in embedder.parameters()) / 1e6, 1),
        "device": str(target),
        "batch": batch,
        "photos": len(paths),
    }
    on_device: dict[str, np.ndarray] = {}
    for precision in ("auto", "fp32") if target.type == "cuda" else ("fp32",):
        embed_images(
            embedder, paths[:batch], image_size=size, batch_size=batch, precision=precision
        )  # warm-up
        if target.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        vectors, errors = embed_images(
            embedder, paths, image_size=size, batch_size=batch, precision=precision
        )
        if target.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        assert not any(errors), errors
        on_device[precision] = vectors[:check]
        result[f"photos_per_s_{precision}"] = round(len(paths) / seconds, 1)
    cpu = load_pretrained_embedder(replace(config, device="cpu"))
    exact, _ = embed_images(cpu, paths[:check], image_size=size, batch_size=batch, precision="fp32")
    for precision, vectors in on_device.items():
        result[f"max_abs_diff_{precision}_vs_cpu_fp32"] = float(np.abs(vectors - exact).max())
        result[f"min_cosine_{precision}_vs_cpu_fp32"] = float(np.sum(vectors * exact, 1).min())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="vit_large_patch16_384")
    parser.add_argument("--size", type=int, default=384, help="input side, px")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--photos", type=int, default=512, help="gallery photos embedded")
    parser.add_argument("--photo-size", type=int, default=1024, help="photo longest side, px")
    parser.add_argument("--check", type=int, default=16, help="photos compared with CPU fp32")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-pretrained-throughput"))
    args = parser.parse_args()
    paths = photos(args.work, args.photos, args.photo_size)
    result = measure(args.model, args.size, args.device, args.batch, paths, args.check, args.work)
    print(json.dumps({"machine": describe(), "command": " ".join(sys.argv), **result}))


if __name__ == "__main__":
    main()
