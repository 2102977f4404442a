"""The deep engine trained from scratch on synthetic photos, within a CPU time budget.

    .venv/bin/python benchmarks/deep_synthetic.py [--work DIR] [--out FILE.md]
        [--individuals 40] [--images-per 50] [--size 384] [--set KEY=VALUE ...]

Makes a synthetic dataset (``photoid synth``), holds out 20% of the individuals as new, trains
the recipe ``photoid.train.recipes.FROM_SCRATCH`` from scratch on the training photos of the
known individuals (no validation rows: nothing of the queries is seen before the test), then
scores two query sets:

- ``known``: the held-out photos of known individuals (top-1, MAP@5);
- ``open``: the same queries plus photos of the unseen individuals, which make up 20% of the
  queries; the new-individual threshold is fitted on the gallery alone (``auto``) and
  ``new_individual`` is inserted into each top 5 (MAP@5, accuracy on known and on new).

Prints a markdown table with the machine, the command and the training time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import describe

from photoid.data import load_dataset
from photoid.data.splits import open_set
from photoid.data.synth import generate
from photoid.data.table import save_metadata
from photoid.evaluation import evaluate_deep
from photoid.train.config import resolve_config
from photoid.train.fit import fit
from photoid.train.recipes import FROM_SCRATCH


def make_splits(dataset_root: Path, seed: int) -> None:
    """Columns ``known_split`` (known-individual queries only) and ``open_split`` (the same
    queries plus photos of unseen individuals, 20% of all queries)."""
    data = load_dataset(dataset_root)
    keys = list(data.table["image"])
    split = open_set(data.labels, unseen_fraction=0.2, n_folds=5, fold=0, seed=seed, keys=keys)
    train = split == "train"
    unseen = ~pd.Series(data.labels).isin(data.labels[train.to_numpy()]).to_numpy()
    known_queries = (split == "test").to_numpy() & ~unseen
    # New-individual queries: as many photos as make them 20% of the queries, spread evenly
    # over the unseen individuals (their first photos in file order).
    wanted = round(known_queries.sum() / 4)
    unseen_rows = np.flatnonzero(unseen)
    per_identity = pd.Series(data.labels[unseen_rows]).groupby(data.labels[unseen_rows]).cumcount()
    order = np.lexsort((unseen_rows, per_identity.to_numpy()))
    new_queries = np.zeros(len(keys), dtype=bool)
    new_queries[unseen_rows[order[:wanted]]] = True
    train_cells = np.where(train.to_numpy(), "train", "")
    table = data.table.copy()
    table["known_split"] = np.where(known_queries, "test", train_cells)
    table["open_split"] = np.where(known_queries | new_queries, "test", train_cells)
    save_metadata(table, dataset_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-deep-synthetic"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--individuals", type=int, default=40)
    parser.add_argument("--images-per", type=int, default=50)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], help="training KEY=VALUE"
    )
    parser.add_argument(
        "--models",
        type=int,
        default=1,
        help="train this many models (seeds 0..N-1), each with 1/N of the epochs and minutes, "
        "and evaluate their ensemble (identity scores averaged)",
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
        make_splits(root, args.seed)
    data = load_dataset(root)
    config = resolve_config(None, [*FROM_SCRATCH, *args.settings])
    train = data.subset((data.table["open_split"] == "train").to_numpy())
    started = time.perf_counter()
    checkpoints = []
    for seed in range(args.models):
        share = [
            f"epochs={max(1, round(config.epochs / args.models))}",
            f"max_minutes={config.max_minutes / args.models:g}",
            f"seed={seed}",
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
