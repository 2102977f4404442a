"""Speed of the learned-keypoint engine's two network stages: extraction (photos/s) and
LightGlue matching (pairs/s), plus mutual-nearest-neighbour matching for comparison.

    .venv/bin/python benchmarks/keypoint_speed.py [--device auto|cpu|cuda] \
        [--sides 512,1024] [--keypoints 512,1024] [--photos 16] [--batch 16] [--threads N]

Photos are synthetic field scenes rendered at each side (no dataset needed); extraction runs in
batches of --batch same-sized photos, LightGlue matches one query against --batch gallery
photos per call. Prints a markdown table and the machine; the same command runs unchanged on a
GPU machine (--device auto picks CUDA there).
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from _machine import describe

from photoid.keypoints.config import KeypointConfig
from photoid.keypoints.extract import describe as extract_batch
from photoid.keypoints.extract import resized
from photoid.keypoints.match import lightglue_pairs, mutual_pairs
from photoid.keypoints.models import resolve_device


def photos(count: int, side: int) -> list[np.ndarray]:
    """``count`` field-scene photos (RGB uint8) resized to ``side`` px on the longest side."""
    import tempfile

    from photoid.data.images import load_image
    from photoid.data.synth import generate
    from photoid.data.synth.presets import PRESETS
    from photoid.data.table import load_dataset

    with tempfile.TemporaryDirectory() as folder:
        individuals = max(1, count // 2)
        generate(
            Path(folder), individuals=individuals, images_per=2, seed=0, config=PRESETS["field"]
        )
        data = load_dataset(folder)
        return [resized(load_image(p), side)[0] for p in data.paths()[:count]]


def timed(step: object, repeat: int = 1) -> float:
    """Seconds of the best of ``repeat`` calls of ``step`` (CUDA synchronised)."""
    best = float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()  # type: ignore[operator]
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def measure(images: list[np.ndarray], config: KeypointConfig) -> tuple[float, float, float]:
    """Extraction photos/s, LightGlue pairs/s and mutual-NN pairs/s (first photo against the
    others)."""
    extract_batch(images[:2], config)  # load the network, warm up
    seconds = timed(partial(extract_batch, images, config))
    features = extract_batch(images, config)
    query, gallery = features[0], features[1:]
    lightglue_pairs(query, gallery[:2], config)  # warm up
    glue = timed(partial(lightglue_pairs, query, gallery, config))

    def mutual() -> None:
        for other in gallery:
            mutual_pairs(query.descriptors, other.descriptors, 0.95)

    return len(images) / seconds, len(gallery) / glue, len(gallery) / timed(mutual)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sides", default="512,1024")
    parser.add_argument("--keypoints", default="512,1024")
    parser.add_argument("--extractor", default="aliked-n16")
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = str(resolve_device(args.device))
    rows = []
    for side in [int(s) for s in args.sides.split(",")]:
        images = photos(args.photos, side)
        for budget in [int(k) for k in args.keypoints.split(",")]:
            config = KeypointConfig(
                extractor=args.extractor,
                side=side,
                max_keypoints=budget,
                device=device,
                batch=args.batch,
                matcher="lightglue",
            )
            rows.append((side, budget, *measure(images, config)))
            print(rows[-1], flush=True)
    print(
        f"\n{args.extractor} on {device}, batch {args.batch}, torch threads "
        f"{torch.get_num_threads()}; {describe()}\n"
    )
    print("| side px | keypoints | extraction photos/s | LightGlue pairs/s | mutual NN pairs/s |")
    print("|---|---|---|---|---|")
    for side, budget, extract_rate, glue_rate, mutual_rate in rows:
        print(f"| {side} | {budget} | {extract_rate:.2f} | {glue_rate:.2f} | {mutual_rate:.1f} |")


if __name__ == "__main__":
    main()
