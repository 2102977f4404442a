"""The detector on wide synthetic scenes: recall at IoU 0.5 on held-out photos, training time,
detection speed, and identification on detected crops against whole frames.

    .venv/bin/python benchmarks/detector.py [--work DIR] [--run RUN] [--set KEY=VALUE ...]
        [--methods local appearance] [--margins 0 0.1] [--device auto] [--out FILE.md]

Renders (once, into ``--work``) ``photoid synth --preset wide`` scenes: a training set (200
individuals x 4 photos, seed 0; 15% of its individuals held out for validation) and an
evaluation set of other individuals (60 x 5, seed 1) the detector never sees. Trains a detector
with ``photoid detector train``'s defaults and the ``--set`` overrides (or takes ``--run``),
measures its recall on the evaluation set and its speed in photos per second (decoding
included, ``--workers`` loader processes), then identifies the evaluation set's later
encounters against its earlier ones (the field split) three ways: whole frames, the detected
boxes (each ``--margins``), and the true boxes (the ceiling). Prints a markdown table and one
JSON line per run. Runs unchanged on a GPU machine (``--device cuda``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _machine import describe

TRAIN = (200, 4, 0)  # individuals, photos each, seed
EVAL = (60, 5, 1)


def _rendered(folder: Path, individuals: int, images_per: int, seed: int) -> None:
    from photoid.data.schema import METADATA_FILE
    from photoid.data.synth import generate
    from photoid.data.synth.presets import PRESETS

    if not (folder / METADATA_FILE).is_file():
        generate(
            folder,
            individuals=individuals,
            images_per=images_per,
            seed=seed,
            workers=2,
            config=PRESETS["wide"],
        )


def _train_split(folder: Path) -> None:
    """A ``split`` column holding 15% of the individuals out (validation), once."""
    from photoid.data import load_dataset
    from photoid.data.splits import disjoint
    from photoid.data.table import save_metadata

    dataset = load_dataset(folder)
    if "split" in dataset.table.columns:
        return
    table = dataset.table.copy()
    table["split"] = disjoint(dataset.labels, test_fraction=0.15, seed=0).to_numpy()
    save_metadata(table, folder)


def _train(work: Path, settings: list[str], device: str) -> tuple[Path, float]:
    from photoid.data import load_dataset
    from photoid.detect.config import resolve_detector_config
    from photoid.detect.train import train_detector
    from photoid.train.config import device_settings

    run = work / "run"
    config = resolve_detector_config(None, [*device_settings(device), *settings])
    started = time.perf_counter()
    train_detector(load_dataset(work / "train"), config, run, split_column="split", progress=False)
    return run, time.perf_counter() - started


def _identify(dataset: Any, method: str, boxes: list[Any], margin: float, cache: Path) -> Any:
    from photoid.benchmark.splits import ENCOUNTER_COLUMN, with_encounter_split
    from photoid.engines.base import EngineOptions
    from photoid.evaluation.engine_run import evaluate

    table = dataset.table.copy()
    table["bbox"] = pd.Series(boxes, index=table.index, dtype=object)
    split = with_encounter_split(replace(dataset, table=table))
    options = EngineOptions(cache_dir=cache, crop_margin=margin)
    return evaluate(split, ENCOUNTER_COLUMN, method, options).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-detector"))
    parser.add_argument("--run", type=Path, default=None, help="a trained detector to reuse")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    parser.add_argument("--methods", nargs="*", default=["local"])
    parser.add_argument("--margins", nargs="*", type=float, default=[0.0, 0.1])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from photoid.data import load_dataset
    from photoid.data.synth.presets import PRESETS
    from photoid.detect.run import Detector
    from photoid.metrics.detection import corners, detection_recall

    _rendered(args.work / "train", *TRAIN)
    _train_split(args.work / "train")
    _rendered(args.work / "eval", *EVAL)
    trained = None
    run = args.run
    if run is None:
        run, trained = _train(args.work, args.settings, args.device)
    detector = Detector.load(run).use_device(args.device)
    dataset = load_dataset(args.work / "eval")
    truth = list(dataset.table["bbox"])
    paths = dataset.paths()
    detector.find(paths[:8], workers=0)  # warm-up: first-call allocations are not speed
    started = time.perf_counter()
    found = detector.find(paths, workers=args.workers)
    seconds = time.perf_counter() - started
    boxes = [f.box for f in found]
    recall = detection_recall([corners([t]) for t in truth], [corners([b]) for b in boxes])
    areas = [b[2] * b[3] for b in truth]
    head = {
        "detector": detector.description,
        "config": {k: v for k, v in detector.config.to_dict().items() if k in _SHOWN},
        "train_minutes": None if trained is None else round(trained / 60, 1),
        "recall_iou50": round(recall, 4),
        "photos": len(paths),
        "photos_per_second": round(len(paths) / seconds, 2),
        "no_animal": sum(f.flag == "no_animal" for f in found),
        "several": sum(f.flag == "several" for f in found),
        "largest_animal_share": round(max(areas) / np.prod(PRESETS["wide"].scene_shape), 3),
        "machine": describe(),
    }
    print(json.dumps(head), flush=True)
    rows = []
    cache = args.work / "features"
    for method in args.methods:
        variants: list[tuple[str, list[Any], float]] = [("whole frames", [None] * len(boxes), 0.0)]
        variants += [(f"detected boxes, margin {m:g}", boxes, m) for m in args.margins]
        variants += [("true boxes (ceiling)", truth, 0.0)]
        for name, cells, margin in variants:
            summary = _identify(dataset, method, cells, margin, cache)
            print(json.dumps({"method": method, "crop": name, **summary}), flush=True)
            rows.append(
                f"| {method} | {name} | {summary['top1']:.3f} | {summary['map5']:.3f} | "
                f"{summary['queries']} | {summary['gallery']} |"
            )
    table = "\n".join(
        [
            f"Detector: {head['detector']}; recall at IoU 0.5 {head['recall_iou50']:.3f} on "
            f"{head['photos']} held-out photos; {head['photos_per_second']} photos/s; trained "
            f"in {head['train_minutes']} min; {describe()}",
            "",
            "| engine | crop | top-1 | MAP@5 | queries | gallery |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n")


_SHOWN = ("architecture", "backbone", "image_size", "fpn_channels", "epochs", "score_threshold")


if __name__ == "__main__":
    main()
