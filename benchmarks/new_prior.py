"""P(new individual) when the share of new individuals among the queries is not the one assumed
when P(new) was fitted, and what re-estimating that share from the query batch gives.

    .venv/bin/python benchmarks/new_prior.py [--datasets ../shared/datasets] [--only NAME ...]
        [--unseen 0.5] [--new-share 0.55] [--cache DIR] [--out FILE.md]

Per dataset, an open split (photoid.benchmark.splits.open_split_values on the dataset's own
split) where ``--unseen`` of the identities never reach the gallery and ``--new-share`` of the
queries show them. The fused engine (local + colour, no deep model; P(new) fitted on gallery
leave-one-out for the share of singleton identities in the gallery, else 0.2) answers the
queries once; then P(new) is moved to three priors (photoid.decide.adjust_prior, the same
log-odds shift as NewIndividualModel.with_prior): (a) the fitted one, as is; (b) the one
photoid.decide.estimate_prior finds on the query batch (EM, no labels); (c) the true share.
``new_individual`` is placed by expected MAP@5 (photoid.decide.policy, the probability
rule). Columns: ECE of
P(new) against "the query is new" (15 uniform bins), top-1 accuracy on known and on new
queries, MAP@5, and the largest sum of one query's top-5 probabilities.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe

from photoid.benchmark.splits import open_split_values, own_column
from photoid.data import load_dataset
from photoid.data.table import Dataset
from photoid.decide import adjust_prior, estimate_prior
from photoid.decide.policy import NewIndividualPolicy, predictions_of
from photoid.fusion.run import evaluate_fused
from photoid.metrics import NEW_INDIVIDUAL, expected_calibration_error, map_at_k
from photoid.metrics.openset import known_new_accuracy

DATASETS = ("CTai_subset", "LionData")
COLUMN = "new_prior_open_split"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--datasets", type=Path, default=here.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/photoid-bench-cache"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument("--unseen", type=float, default=0.5, help="identities kept out")
    parser.add_argument("--new-share", type=float, default=0.55, help="share of new queries")
    args = parser.parse_args()
    rows = []
    for name in DATASETS:
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        dataset = _open(load_dataset(args.datasets / name), args.unseen, args.new_share)
        result = evaluate_fused(dataset, COLUMN, cache_dir=args.cache, new_threshold="auto")
        assert result.calibration is not None
        fitted = float(result.calibration["new_fraction"])
        is_new = np.asarray([t == NEW_INDIVIDUAL for t in result.truth])
        answered = np.asarray([a.warning is None for a in result.identifications])
        p_fitted = np.asarray(result.new_probability, np.float64)
        priors = {
            "(a) fitted": fitted,
            "(b) estimated (EM)": estimate_prior(p_fitted[answered], fitted),
            "(c) true": float(is_new[answered].mean()),
        }
        policy = NewIndividualPolicy("probability", None, {"prior": fitted})
        for label, prior in priors.items():
            p = adjust_prior(p_fitted, fitted, prior)
            decided = policy.decide(result.identifications, prior=prior)
            predictions = predictions_of(decided)
            probabilities = [[c.probability or 0.0 for c in d.candidates] for d in decided]
            acc_known, acc_new = known_new_accuracy(result.truth, predictions)
            numbers = {
                "dataset": name,
                "prior": label,
                "value": round(prior, 3),
                "ece": round(expected_calibration_error(p[answered], is_new[answered]), 3),
                "acc_known": round(acc_known, 3),
                "acc_new": round(acc_new, 3),
                "map5": round(map_at_k(result.truth, predictions, 5), 3),
                "max_sum": round(max(sum(v) for v in probabilities), 6),
            }
            print(json.dumps(numbers), flush=True)
            rows.append(
                f"| {name} | {result.gallery} | {int(is_new.sum())} / {len(is_new)} | {label} | "
                + " | ".join(
                    f"{numbers[key]:.3f}" for key in ("value", "ece", "acc_known", "acc_new")
                )
                + f" | {numbers['map5']:.3f} | {numbers['max_sum']:.6f} |"
            )
        summary = {"dataset": name, "wall_seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps({**summary, "calibration": result.calibration}), flush=True)
    table = "\n".join(
        [
            f"Machine: {describe()}. Command: `{' '.join(['python', *sys.argv])}`",
            "",
            "| dataset | gallery photos | new / queries | prior | value | ECE P(new) | acc known "
            "| acc new | MAP@5 | max top-5 sum |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


def _open(dataset: Dataset, unseen: float, new_share: float) -> Dataset:
    """``dataset`` with the open split in column :data:`COLUMN`."""
    column = own_column(dataset)
    own = None if column is None else dataset.table[column].to_numpy(dtype=str)
    values = open_split_values(
        dataset.labels,
        list(dataset.table["image"]),
        own,
        unseen_fraction=unseen,
        new_share=new_share,
    )
    return Dataset(dataset.root, dataset.table.assign(**{COLUMN: values}), dataset.identities)


if __name__ == "__main__":
    main()
