"""The deep engine trained from scratch on synthetic photos, within a CPU time budget.

    .venv/bin/python benchmarks/deep_synthetic.py [--work DIR] [--out FILE.md]
        [--individuals 48] [--images-per 55] [--new 8] [--val-new 8] [--test-per 10]
        [--val-per 5] [--size 384] [--set KEY=VALUE ...] [--models N]

Makes a synthetic dataset (``photoid synth``) and splits it by identity (:func:`make_splits`):
32 known individuals with 40 training, 5 validation and 10 test photos each, 8 unseen test
individuals and 8 unseen validation individuals. Trains the recipe
``photoid.train.recipes.FROM_SCRATCH`` from scratch on the known individuals' training photos
(validation photos are never trained on), then scores two query sets against the training
photos as the gallery:

- ``known``: the 320 test photos of known individuals (top-1, MAP@5);
- ``open``: the same queries plus 80 photos of the 8 unseen individuals (20% of the queries);
  the new-individual threshold is fitted on the validation rows (``auto``: 160 photos of known
  individuals and 40 of unseen ones, MAP@5-optimal) and ``new_individual`` is inserted into
  each top 5 (MAP@5, accuracy on known and on new).

Prints a markdown table with the machine, the command and the training time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe

from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.data.table import Dataset, save_metadata
from photoid.evaluation import evaluate_deep
from photoid.train.config import resolve_config
from photoid.train.fit import fit
from photoid.train.recipes import FROM_SCRATCH


def make_splits(data: Dataset, args: argparse.Namespace) -> None:
    """Columns ``known_split`` and ``open_split``, drawn with ``args.seed``.

    Identities: ``args.new`` are unseen test individuals, ``args.val_new`` unseen validation
    individuals, the rest known. Each known individual gives ``args.test_per`` test photos,
    ``args.val_per`` validation photos and its other photos for training; each unseen test
    individual ``args.test_per`` test photos, each unseen validation one ``args.val_per``.
    ``known_split`` has the known individuals' test photos as its test rows, ``open_split``
    the unseen individuals' too (20% of the queries with the defaults); both have the same
    train and val rows (val: 20% new individuals with the defaults)."""
    rng = np.random.default_rng(args.seed)
    names = sorted(set(data.labels.tolist()))
    order = [names[i] for i in rng.permutation(len(names))]
    new, val_new = set(order[: args.new]), set(order[args.new : args.new + args.val_new])
    known = np.full(len(data.labels), "", dtype=object)
    opened = np.full(len(data.labels), "", dtype=object)
    for name in names:
        rows = np.flatnonzero(data.labels == name)
        rows = rows[rng.permutation(len(rows))]
        if name in new:
            opened[rows[: args.test_per]] = "test"
        elif name in val_new:
            known[rows[: args.val_per]] = opened[rows[: args.val_per]] = "val"
        else:
            test, val = rows[: args.test_per], rows[args.test_per : args.test_per + args.val_per]
            known[test] = opened[test] = "test"
            known[val] = opened[val] = "val"
            train = rows[args.test_per + args.val_per :]
            known[train] = opened[train] = "train"
    table = data.table.copy()
    table["known_split"], table["open_split"] = known, opened
    save_metadata(table, data.root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-deep-synthetic"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--individuals", type=int, default=48)
    parser.add_argument("--images-per", type=int, default=55)
    parser.add_argument("--new", type=int, default=8, help="unseen individuals among the queries")
    parser.add_argument("--val-new", type=int, default=8, help="unseen validation individuals")
    parser.add_argument("--test-per", type=int, default=10, help="test photos per individual")
    parser.add_argument("--val-per", type=int, default=5, help="validation photos per individual")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], help="training KEY=VALUE"
    )
    parser.add_argument(
        "--models",
        type=int,
        default=1,
        help="train this many models (training seeds S..S+N-1, S the recipe's seed), each "
        "with 1/N of the epochs and minutes, and evaluate their ensemble (scores averaged)",
    )
    args = parser.parse_args()
    root = args.work / f"synth_{args.individuals}x{args.images_per}_{args.size}_s{args.seed}"
    if not (root / "metadata.csv").is_file():
        generate(
            root,
            individuals=args.individuals,
            images_per=args.images_per,
            seed=args.seed,
            size=args.size,
            workers=2,
            overwrite=True,
        )
    data = load_dataset(root)
    if "open_split" not in data.split_columns:
        make_splits(data, args)
        data = load_dataset(root)
    config = resolve_config(None, [*FROM_SCRATCH, *args.settings])
    train = data.subset((data.table["open_split"] == "train").to_numpy())
    started = time.perf_counter()
    checkpoints = []
    for seed in range(args.models):
        share = [
            f"epochs={max(1, round(config.epochs / args.models))}",
            f"max_minutes={config.max_minutes / args.models:g}",
            f"seed={config.seed + seed}",
        ]
        member = resolve_config(None, [*FROM_SCRATCH, *args.settings, *share])
        name = "run" if args.models == 1 else f"run{seed}"
        result = fit(train, member, args.work / name, progress=False)
        checkpoints.append(result.last_checkpoint)
    train_seconds = time.perf_counter() - started
    known = evaluate_deep(data, "known_split", checkpoints).summary()
    opened = evaluate_deep(data, "open_split", checkpoints, new_threshold="auto").summary()
    print(json.dumps({"train_seconds": round(train_seconds), "known": known, "open": opened}))
    table = "\n".join(
        [
            f"Machine: {describe()}. Command: `{' '.join(['python', *sys.argv])}`",
            f"Recipe: `{' '.join([*FROM_SCRATCH, *args.settings])}`",
            "",
            "| data | train photos | epochs | train s | known queries | top-1 known "
            "| MAP@5 known | open queries (20% new) | MAP@5 open | acc known | acc new |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            f"| synthetic {args.individuals} ids x {args.images_per} @ {args.size}px "
            f"| {len(train)} | {result.epochs}{'' if args.models == 1 else f' x {args.models}'} "
            f"| {train_seconds:.0f} | {known['queries']} "
            f"| {known['top1']:.3f} | {known['map5']:.3f} | {opened['queries']} "
            f"| {opened['map5']:.3f} | {opened['acc_known']:.3f} | {opened['acc_new']:.3f} |",
        ]
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
