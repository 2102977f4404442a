"""Fit once, identify in seconds: `photoid fit` on a dataset split, then `photoid identify
--engine` on a few query photos (wall time of the whole command, Python start included), and
the same photos' answers from `photoid evaluate`'s code path, which must be identical.

    .venv/bin/python benchmarks/engine_roundtrip.py ../shared/datasets/LionData \\
        --split-column wd_split --method fused --queries 3

Prints one markdown table row per run and exits 1 when the answers differ.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from photoid.benchmark.machine import describe
from photoid.data.selection import select_rows
from photoid.data.table import load_dataset
from photoid.decide.policy import NewIndividualSetting
from photoid.engines.base import EngineOptions
from photoid.evaluation.engine_run import evaluate

PHOTOID = str(Path(sys.executable).with_name("photoid"))


def _timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split-column", default="split")
    parser.add_argument("--method", default="fused")
    parser.add_argument("--queries", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="identify runs (best is kept)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="photoid-roundtrip-"))
    engine = work / "engine"
    fit_seconds = _timed(
        [
            PHOTOID,
            "fit",
            str(args.dataset),
            "--method",
            args.method,
            "--split-column",
            args.split_column,
            "--out",
            str(engine),
            "--force",
        ]
    )
    dataset = load_dataset(args.dataset)
    queries = select_rows(dataset, args.split_column).queries
    paths = [str(p) for p in queries.paths()[: args.queries]]
    answers = work / "answers.json"
    identify = [PHOTOID, "identify", "--engine", str(engine), *paths, "--out", str(answers)]
    seconds = min(_timed(identify) for _ in range(args.repeat))
    saved = json.loads(answers.read_text())
    result = evaluate(
        dataset,
        args.split_column,
        args.method,
        EngineOptions(cache_dir=engine / "features"),
        new_individual=NewIndividualSetting("auto"),
    )
    # evaluate's top 5 after the policy, for the same photos (its first queries, in order).
    from photoid.engines.store import load_engine

    fitted = load_engine(engine)
    expected = fitted.decide(result.identifications[: args.queries])
    same = all(
        [(c["identity"], round(c["score"], 9)) for c in got["candidates"]]
        == [(c.identity, round(c.score, 9)) for c in want.candidates]
        for got, want in zip(saved, expected, strict=True)
    )
    print(
        f"| dataset | method | fit s | identify s (wall, best of {args.repeat}) | queries "
        "| identical to evaluate | machine |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.dataset.name} `{args.split_column}` | {args.method} | {fit_seconds:.0f} | "
        f"{seconds:.1f} | {len(paths)} | {'yes' if same else 'NO'} | {describe()} |"
    )
    if not same:
        for got, want in zip(saved, expected, strict=True):
            print("identify:", [(c["identity"], round(c["score"], 6)) for c in got["candidates"]])
            print("evaluate:", [(c.identity, round(c.score, 6)) for c in want.candidates])
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
