"""Options of the commands that fit or use an engine (fit, identify, evaluate), and the one
function that turns them into :class:`photoid.engines.base.EngineOptions`. Light at import
time: the engine modules load inside :func:`engine_options`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.errors import PhotoidError

if TYPE_CHECKING:
    from photoid.decide.policy import NewIndividualSetting
    from photoid.engines.base import EngineOptions

NewIndividualOption = Annotated[
    str | None,
    typer.Option(
        "--new-individual",
        help="When an answer starts with new_individual: 'auto' (fitted with the engine, on "
        "the split's val rows when it has them, else on the gallery; calibrated engines decide "
        "by the probability of a new individual), 'never', or a number (new_individual goes "
        "first when the best score is below it).",
        show_default=False,
    ),
]
NewThresholdOption = Annotated[
    str | None,
    typer.Option(
        "--new-threshold",
        help="Deprecated: use --new-individual ('none' is now 'never').",
        hidden=True,
    ),
]
NewPriorOption = Annotated[
    str | None,
    typer.Option(
        "--new-prior",
        help="Calibrated engines: the share of new individuals expected among the queries "
        "(a number between 0 and 1), or 'estimate' to re-estimate it from the queries "
        "themselves (EM); default: as fitted (the gallery's share of single-photo "
        "individuals, else 0.2).",
        show_default=False,
    ),
]
EngineFolderOption = Annotated[
    Path | None,
    typer.Option("--engine", help="A fitted engine folder written by `photoid fit`."),
]
SplitColumnOption = Annotated[
    str | None,
    typer.Option(
        "--split-column",
        help="Fit on this split column's train/gallery rows (its val rows calibrate); "
        "default: every labelled row.",
    ),
]

CropMarginOption = Annotated[
    float,
    typer.Option(
        "--crop-margin",
        min=0.0,
        max=2.0,
        help="Grow every box (bbox column, a detector's box) by this share of its width and "
        "height on each side before cropping, in fitting and identifying alike (0.1: 10%); "
        "a fitted engine keeps its own.",
    ),
]
DetectorOption = Annotated[
    Path | None,
    typer.Option(
        "--detector",
        help="Find the animal in each query photo first and identify its box: a run of "
        "`photoid detector train` or a weights file (see photoid detect --help). A photo "
        "without a detected animal is identified whole.",
    ),
]


def new_individual_setting(
    new_individual: str | None,
    new_threshold: str | None,
    default: str | None = "auto",
    prior: str | None = None,
) -> NewIndividualSetting | None:
    """The setting from ``--new-individual`` or the deprecated ``--new-threshold`` (with a
    warning); ``default`` when neither is given (None: the command decides)."""
    from dataclasses import replace

    from photoid.decide.policy import parse_new_individual, parse_prior

    if new_individual is not None and new_threshold is not None:
        raise PhotoidError("give --new-individual only (--new-threshold is its old name)")
    if new_threshold is not None:
        warnings.warn(
            "--new-threshold is deprecated: use --new-individual auto|never|NUMBER",
            DeprecationWarning,
            stacklevel=2,
        )
        typer.echo("note: --new-threshold is deprecated; use --new-individual", err=True)
        new_individual = new_threshold
    chosen = new_individual if new_individual is not None else default
    if chosen is None:
        return None
    return replace(parse_new_individual(chosen), prior=parse_prior(prior))


def engine_options(
    *,
    settings: list[str] | None,
    cache: Path | None,
    no_cache: bool,
    model: list[Path] | None = None,
    tta: list[str] | None = None,
    ensemble: str = "mean",
    new_individual: NewIndividualSetting | None = None,
    device: str = "auto",
    precision: str = "auto",
    crop_margin: float = 0.0,
) -> EngineOptions:
    """Engine options from the command line's values. ``device`` also places the pretrained
    embedder and the learned keypoints, unless ``--set pretrained.device``/``keypoints.device``
    place them otherwise."""
    from dataclasses import replace

    from photoid.cli.options import (
        cache_dir,
        ensemble_mode,
        fused_config,
        keypoint_config,
        local_config,
        pretrained_config,
    )
    from photoid.decide.policy import NewIndividualSetting
    from photoid.devices import check_device_name, check_precision
    from photoid.engines.base import EngineOptions

    check_device_name(device)
    check_precision(precision)
    given = {s.split("=", 1)[0].strip() for s in settings or []}
    keypoints = keypoint_config(settings)
    if "keypoints.device" not in given:
        keypoints = keypoints.with_overrides(device=device)
    pretrained = pretrained_config(settings)
    if "pretrained.device" not in given:
        pretrained = replace(pretrained, device=device)
    return EngineOptions(
        local=local_config(settings),
        keypoints=keypoints,
        fused=fused_config(settings),
        pretrained=pretrained,
        device=device,
        precision=precision,
        cache_dir=cache_dir(cache, no_cache),
        models=tuple(model or ()),
        tta=tuple(tta or ()),
        ensemble=ensemble_mode(ensemble),
        new_individual=new_individual or NewIndividualSetting(),
        crop_margin=crop_margin,
    )
