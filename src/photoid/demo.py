"""The demo: synthetic photo-ID data, an open-set split, local-feature identification, a report.

Everything is generated, so it runs on a fresh machine offline with no trained weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from photoid.data import load_dataset
from photoid.data.schema import METADATA_FILE
from photoid.data.splits_apply import SplitRequest, add_split_column
from photoid.data.synth import generate
from photoid.evaluation import EvaluationResult, evaluate_local
from photoid.evaluation.report import write_report
from photoid.local.config import LocalConfig


@dataclass(frozen=True)
class DemoSettings:
    """Size of the demo: 40 individuals x 5 photos; 20% of the individuals are never in the
    gallery, so their photos must come back as new individuals."""

    individuals: int = 40
    images_per: int = 5
    seed: int = 0
    size: int = 256
    unseen_fraction: float = 0.2


@dataclass(frozen=True)
class DemoResult:
    dataset: Path
    report: Path
    evaluation: EvaluationResult


def run_demo(
    out: Path,
    settings: DemoSettings | None = None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoResult:
    """Generate (once) the dataset under ``out/data``, evaluate, and write ``out/report.html``."""
    settings = settings or DemoSettings()
    data = out / "data"
    if not (data / METADATA_FILE).is_file():
        generate(
            data,
            individuals=settings.individuals,
            images_per=settings.images_per,
            seed=settings.seed,
            size=settings.size,
        )
        request = SplitRequest(
            kind="open", seed=settings.seed, unseen_fraction=settings.unseen_fraction
        )
        add_split_column(data, request, column="split")
    result = evaluate_local(
        load_dataset(data),
        "split",
        LocalConfig(),
        cache_dir=out / "cache",
        new_threshold="auto",
        progress=progress,
    )
    report = write_report(result, out / "report.html")
    return DemoResult(data, report, result)
