"""The deep engine trained from scratch on the real datasets, each within a wall-time budget.

    .venv/bin/python benchmarks/deep_accuracy.py [--datasets ../shared/datasets] [--out FILE.md]
        [--minutes 15] [--only NAME ...] [--set KEY=VALUE ...] [--work DIR]

For each dataset: train the from-scratch recipe (``photoid.train.recipes.recipe_for``) on the
split's train rows (no validation rows: the test rows stay unseen), stop at ``--minutes`` of
wall time or the recipe's epochs, embed the train rows as the gallery and score the test rows
(top-1, MAP@5).
No pretrained weights are used (none can be downloaded on the machines this ran on); with
ImageNet weights (``--set pretrained=true`` where online) the same script measures fine-tuning.
KoiVideo's bbox column is in video-frame coordinates, so its crops are used whole.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _machine import describe

from photoid.data import load_dataset
from photoid.evaluation import evaluate_deep
from photoid.train.config import resolve_config
from photoid.train.fit import fit
from photoid.train.recipes import FROM_SCRATCH, recipe_for

RUNS = (("LionData", "wd_split"), ("CTai_subset", "wd_split"), ("KoiVideo", "original_split"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--datasets", type=Path, default=here.parent / "shared" / "datasets")
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-deep-accuracy"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], help="training KEY=VALUE"
    )
    args = parser.parse_args()
    rows = []
    for name, column in RUNS:
        if args.only and name not in args.only:
            continue
        settings = [*recipe_for(name, args.minutes), *args.settings]
        config = resolve_config(None, settings)
        data = load_dataset(args.datasets / name)
        train = data.subset((data.table[column] == "train").to_numpy())
        started = time.perf_counter()
        result = fit(train, config, args.work / name, progress=False)
        train_seconds = time.perf_counter() - started
        summary = evaluate_deep(data, column, result.last_checkpoint).summary()
        summary.update(train_seconds=round(train_seconds), epochs=result.epochs)
        print(json.dumps({"dataset": name, **summary}), flush=True)
        rows.append(
            f"| {name} | `{column}` | {summary['gallery']} | {summary['queries']} | "
            f"{result.epochs} | {train_seconds / 60:.1f} | {summary['top1']:.3f} | "
            f"{summary['map5']:.3f} | {summary['top5']:.3f} |"
        )
    table = "\n".join(
        [
            f"Machine: {describe()}. Command: `{' '.join(['python', *sys.argv])}`",
            f"Recipe: `{' '.join([*FROM_SCRATCH, *args.settings])}` (per-dataset changes: "
            "`photoid.train.recipes.DATASET_SETTINGS`)",
            "",
            "| dataset | split | gallery | queries | epochs | train min | top-1 | MAP@5 | top-5 |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
