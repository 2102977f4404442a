"""Accuracy and speed of the local-feature engine on the real datasets.

    .venv/bin/python benchmarks/local_accuracy.py [--datasets ../shared/datasets] [--out FILE.md]
        [--only NAME ...] [--set KEY=VALUE ...]

Prints a markdown table (top-1, MAP@5, queries per second) and each run's JSON summary.
KoiVideo's bbox column holds boxes in the video frame, not in the stored crops (see
`photoid data check`), so its crops are used whole (use_bbox=false).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _machine import describe

from photoid.data import load_dataset
from photoid.evaluation import evaluate_local
from photoid.local.config import LocalConfig, parse_overrides

RUNS = (
    ("LionData", "wd_split", {}),
    ("CTai_subset", "wd_split", {}),
    ("KoiVideo", "original_split", {"use_bbox": False}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--datasets", type=Path, default=here.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/photoid-bench-cache"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], help="engine KEY=VALUE, repeatable"
    )
    args = parser.parse_args()
    rows = []
    for name, column, overrides in RUNS:
        if args.only and name not in args.only:
            continue
        overrides = {**overrides, **parse_overrides(args.settings)}
        config = LocalConfig().with_overrides(**overrides)
        started = time.perf_counter()
        result = evaluate_local(
            load_dataset(args.datasets / name), column, config, cache_dir=args.cache
        )
        summary = result.summary()
        summary["wall_seconds"] = round(time.perf_counter() - started, 1)
        summary["overrides"] = overrides
        print(json.dumps(summary), flush=True)
        rows.append(
            f"| {name} | `{column}` | {summary['gallery']} | {summary['queries']} | "
            f"{summary['top1']:.3f} | {summary['map5']:.3f} | {summary['top5']:.3f} | "
            f"{summary['queries_per_second']:.2f} | {summary['gallery_seconds']:.0f} |"
        )
    table = "\n".join(
        [
            f"Machine: {describe()}. Command: `{' '.join(['python', *sys.argv])}`",
            "",
            "| dataset | split | gallery | queries | top-1 | MAP@5 | top-5 | queries/s "
            "| gallery build s |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
