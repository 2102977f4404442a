"""Run every engine on every dataset, on its own split and on an open-set split.

For each dataset (:mod:`photoid.benchmark.sources`) and each split
(:mod:`photoid.benchmark.splits`), in this order: ``local`` (the local-feature engine),
``deep`` (trained from scratch with :func:`photoid.train.recipes.recipe_for` within a time
budget on the split's train rows less 20% of each identity's photos, kept for calibration; then
evaluated with every train row as its gallery), ``fused`` (:func:`photoid.fusion.evaluate_fused`:
local engines and colour, calibrated on the gallery by leave-one-out) and ``fused+deep`` (the
same with that deep model and its pair verifier, calibrated on the photos the model was not
trained on, which leave the gallery for it). Every method goes through the engine registry
(:func:`photoid.evaluation.engine_run.evaluate`) with the default new-individual decision:
fitted (``auto``) on open splits, where some queries' individuals are absent from the gallery;
never inserted on closed ones.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from photoid.benchmark.machine import describe
from photoid.benchmark.records import BenchmarkReport, RunRecord
from photoid.benchmark.settings import local_settings
from photoid.benchmark.sources import SYNTHETIC, BenchmarkDataset, resolve_dataset
from photoid.benchmark.splits import (
    BenchmarkSplit,
    closed_split,
    open_split,
    with_calibration_rows,
)
from photoid.data.selection import GALLERY_VALUES
from photoid.data.table import Dataset
from photoid.demo import DemoSettings
from photoid.engines.base import EngineOptions
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.errors import PhotoidError
from photoid.evaluation.engine_run import evaluate
from photoid.fusion.config import FusedConfig
from photoid.keypoints.config import KeypointConfig
from photoid.progress import StageProgress
from photoid.train.config import resolve_config
from photoid.train.fit import fit
from photoid.train.recipes import FROM_SCRATCH, recipe_for

Method = Literal[
    "local", "keypoints", "pretrained", "deep", "fused", "fused+keypoints", "fused+deep"
]
METHODS: tuple[Method, ...] = (
    "local",
    "keypoints",
    "pretrained",
    "deep",
    "fused",
    "fused+keypoints",
    "fused+deep",
)
DEFAULT_METHODS: tuple[Method, ...] = ("local", "deep", "fused", "fused+deep")
"""Learned keypoints run only when asked for (``--methods``): slow without a GPU."""


@dataclass(frozen=True)
class BenchmarkOptions:
    """``methods`` to run (always in the order of :data:`METHODS`); ``train_minutes``: the deep
    engine's wall-time budget per dataset and split; ``train_settings``: ``key=value`` training
    settings applied after the recipe; ``synthetic``: size and seed of the ``synthetic``
    dataset; ``pretrained``: the model of the ``pretrained`` method (``pretrained_settings``:
    its ``--set pretrained.KEY=VALUE`` texts, for the command line); ``device``,
    ``precision``: where and how networks run (:mod:`photoid.devices`)."""

    methods: tuple[Method, ...] = DEFAULT_METHODS
    train_minutes: float = 5.0
    train_settings: tuple[str, ...] = ()
    synthetic: DemoSettings = field(default_factory=DemoSettings)
    pretrained: PretrainedConfig = field(default_factory=PretrainedConfig)
    pretrained_settings: tuple[str, ...] = ()
    device: str = "auto"
    precision: str = "auto"

    def engine(self, **chosen: Any) -> EngineOptions:
        """Engine options with this benchmark's device and precision; the learned keypoints
        and the pretrained embedder run there too unless their own device is set."""
        keypoints: KeypointConfig = chosen.pop("keypoints", KeypointConfig())
        pretrained: PretrainedConfig = chosen.pop("pretrained", PretrainedConfig())
        return EngineOptions(
            keypoints=keypoints.with_overrides(device=self._placed(keypoints.device)),
            pretrained=replace(pretrained, device=self._placed(pretrained.device)),
            device=self.device,
            precision=self.precision,
            **chosen,
        )

    def _placed(self, own: str) -> str:
        return self.device if own == "auto" else own


def parse_methods(text: str) -> tuple[Method, ...]:
    """``"local,deep"`` -> ``("local", "deep")``; unknown or repeated names are an error."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in METHODS]
    if unknown or not names or len(set(names)) != len(names):
        raise PhotoidError(
            f"--methods {text!r}: give a comma-separated list of distinct methods from "
            f"{', '.join(METHODS)}"
        )
    if "fused+deep" in names and "deep" not in names:
        raise PhotoidError(f"--methods {text!r}: fused+deep needs deep (its trained model)")
    return tuple(cast(Method, name) for name in names)


def command_line(arguments: Sequence[str], options: BenchmarkOptions) -> str:
    """The ``photoid benchmark`` command that repeats these runs (work and output paths left
    out: they do not change the numbers)."""
    words = ["photoid", "benchmark", *arguments, "--methods", ",".join(options.methods)]
    if "deep" in options.methods:
        words += ["--train-minutes", f"{options.train_minutes:g}"]
    for setting in (*options.train_settings, *options.pretrained_settings):
        words += ["--set", setting]
    return shlex.join(words)


def run_benchmark(
    arguments: Sequence[str],
    work: Path,
    options: BenchmarkOptions | None = None,
    *,
    on_result: Callable[[RunRecord], None] | None = None,
    progress: StageProgress | None = None,
) -> BenchmarkReport:
    """Resolve each dataset argument (:func:`resolve_dataset`; none means ``synthetic``), run
    :func:`run_dataset` on each, and return the report with the machine and the command.
    ``work``: folder for the synthetic data, the feature cache and the training runs.
    ``on_result`` is called with each record as its run finishes."""
    options = options or BenchmarkOptions()
    if "pretrained" in options.methods and not options.pretrained.model:
        raise PhotoidError(
            "--methods pretrained needs a model: --set pretrained.model=NAME (a timm name) and, "
            "offline, --set pretrained.weights=FILE"
        )
    work.mkdir(parents=True, exist_ok=True)
    names = list(arguments) or [SYNTHETIC]
    records: list[RunRecord] = []
    notes: list[str] = []
    for name in names:
        step = _stage(progress, f"{name}: rendering synthetic photos", options, name)
        data = resolve_dataset(name, work, options.synthetic, progress=step)
        notes.append(f"{data.name}: {data.note}")
        records += run_dataset(data, work, options, on_result=on_result, progress=progress)
    recipe = FROM_SCRATCH if "deep" in options.methods else ()
    return BenchmarkReport(
        describe(), command_line(arguments, options), tuple(records), tuple(notes), recipe
    )


def run_dataset(
    data: BenchmarkDataset,
    work: Path,
    options: BenchmarkOptions,
    *,
    on_result: Callable[[RunRecord], None] | None = None,
    progress: StageProgress | None = None,
) -> list[RunRecord]:
    """Every method of ``options`` on the dataset's own split, then on its open split; deep
    models are trained under ``work/deep/<dataset>/<split>``."""
    records = []
    for split in (closed_split(data.dataset), open_split(data.dataset)):
        checkpoint: Path | None = None
        calibrated = with_calibration_rows(split)
        for method in [m for m in METHODS if m in options.methods]:
            label = f"{data.name} · {split.label} · {method}"
            staged = _prefixed(progress, label)
            if method == "local":
                record = _local(data.name, split, work, options, staged)
            elif method == "keypoints":
                record = _keypoints(data.name, split, work, options, staged)
            elif method == "pretrained":
                record = _pretrained(data.name, split, options, staged)
            elif method == "deep":
                record, checkpoint = _deep(data.name, split, calibrated, work, options, staged)
            elif method in ("fused", "fused+keypoints"):
                keypoints = method == "fused+keypoints"
                record = _fused(data.name, split, work, None, options, staged, keypoints)
            else:
                record = _fused(data.name, calibrated, work, checkpoint, options, staged)
            records.append(record)
            if on_result is not None:
                on_result(record)
    return records


def _local(
    name: str,
    split: BenchmarkSplit,
    work: Path,
    chosen: BenchmarkOptions,
    progress: StageProgress | None,
) -> RunRecord:
    config, changed = local_settings(name)
    options = chosen.engine(local=config, cache_dir=work / "cache")
    result = evaluate(split.dataset, split.column, "local", options, progress=progress)
    return RunRecord(name, split.label, "local", result.summary(), changed)


def _keypoints(
    name: str,
    split: BenchmarkSplit,
    work: Path,
    chosen: BenchmarkOptions,
    progress: StageProgress | None,
) -> RunRecord:
    """Learned keypoints over the local engine's short list, cropping as the local engine."""
    config, changed = local_settings(name)
    keypoints = KeypointConfig(use_bbox=config.use_bbox)
    options = chosen.engine(local=config, keypoints=keypoints, cache_dir=work / "cache")
    result = evaluate(split.dataset, split.column, "keypoints", options, progress=progress)
    return RunRecord(name, split.label, "keypoints", result.summary(), changed)


def _pretrained(
    name: str, split: BenchmarkSplit, chosen: BenchmarkOptions, progress: StageProgress | None
) -> RunRecord:
    """The pretrained embedder used as it is (zero-shot), cropping as the local engine."""
    config, changed = local_settings(name)
    given = chosen.pretrained
    model = replace(given, use_bbox=given.use_bbox and config.use_bbox)
    options = chosen.engine(local=config, pretrained=model)
    result = evaluate(split.dataset, split.column, "pretrained", options, progress=progress)
    weights = (f"weights={Path(model.weights).name}",) if model.weights else ()
    described = (f"model={model.model}", *weights)
    return RunRecord(name, split.label, "pretrained", result.summary(), (*changed, *described))


def _deep(
    name: str,
    split: BenchmarkSplit,
    calibrated: BenchmarkSplit,
    work: Path,
    options: BenchmarkOptions,
    progress: StageProgress | None,
) -> tuple[RunRecord, Path]:
    """Train on ``calibrated``'s train rows (its ``val`` rows left for calibration), evaluate
    on ``split`` (every train row in the gallery)."""
    train = _train_rows(calibrated)
    settings = [*recipe_for(name, options.train_minutes), *options.train_settings]
    config = resolve_config(None, settings)
    identities = len(set(train.labels[train.labels >= 0].tolist()))
    if identities < config.identities_per_batch:
        # Fewer training identities than a batch wants (a small dataset minus its unseen 20%).
        settings.append(f"identities_per_batch={identities}")
        config = resolve_config(None, settings)
    if progress is not None:
        progress(f"train ({options.train_minutes:g} min at most)", 0, 1)
    started = time.perf_counter()
    trained = fit(train, config, work / "deep" / _slug(name) / _slug(split.label), progress=False)
    seconds = time.perf_counter() - started
    if progress is not None:
        progress(f"train ({options.train_minutes:g} min at most)", 1, 1)
    engine = options.engine(models=(trained.last_checkpoint,))
    result = evaluate(split.dataset, split.column, "deep", engine, progress=progress)
    changed = tuple(settings[len(FROM_SCRATCH) :])
    record = RunRecord(
        name, split.label, "deep", result.summary(), changed, seconds, trained.epochs
    )
    return record, trained.last_checkpoint


def _fused(
    name: str,
    split: BenchmarkSplit,
    work: Path,
    checkpoint: Path | None,
    chosen: BenchmarkOptions,
    progress: StageProgress | None,
    keypoints: bool = False,
) -> RunRecord:
    """The fused engine: with the deep run's ``checkpoint`` (``fused+deep``) or with the
    learned-keypoint engine as one more input (``fused+keypoints``), cropping as the local
    engine."""
    config, changed = local_settings(name)
    models = () if checkpoint is None else (checkpoint,)
    options = chosen.engine(
        local=config,
        keypoints=KeypointConfig(use_bbox=config.use_bbox),
        fused=FusedConfig(keypoints=keypoints),
        cache_dir=work / "cache",
        models=models,
    )
    result = evaluate(split.dataset, split.column, "fused", options, progress=progress)
    model = () if checkpoint is None else ("model=deep run of this split",)
    method = "fused+deep" if checkpoint is not None else "fused+keypoints" if keypoints else "fused"
    return RunRecord(name, split.label, method, result.summary(), (*changed, *model))


def _train_rows(split: BenchmarkSplit) -> Dataset:
    values = split.dataset.table[split.column]
    return split.dataset.subset(values.isin(list(GALLERY_VALUES)).to_numpy())


def _prefixed(progress: StageProgress | None, label: str) -> StageProgress | None:
    """``progress`` with each stage named ``"<label>: <stage>"`` (one bar per run and stage)."""
    if progress is None:
        return None
    report = progress

    def staged(stage: str, done: int, total: int) -> None:
        report(f"{label}: {stage}", done, total)

    return staged


def _stage(
    progress: StageProgress | None, stage: str, options: BenchmarkOptions, name: str
) -> Callable[[int], None] | None:
    """A counter of photos rendered for the synthetic data (its bar appears only when photos
    are rendered; other datasets report nothing)."""
    if progress is None or name != SYNTHETIC:
        return None
    report = progress
    total = options.synthetic.individuals * options.synthetic.images_per

    def step(count: int) -> None:
        report(stage, count, total)

    return step


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"
