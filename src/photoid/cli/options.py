"""Options shared by the identification commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.constants import COMBINES, SHORTLIST
from photoid.errors import PhotoidError

if TYPE_CHECKING:
    from photoid.deep.ensemble import Combine
    from photoid.local.config import LocalConfig

MethodOption = Annotated[
    str,
    typer.Option(
        "--method",
        help="Identification engine: local, deep, or fused (local + colour [+ --model], "
        "calibrated probabilities).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Engine setting KEY=VALUE, repeatable (e.g. --set shortlist=50 --set clahe=true).",
    ),
]
CacheOption = Annotated[
    Path | None,
    typer.Option(help="Feature cache folder (default: $PHOTOID_CACHE or ~/.cache/photoid)."),
]
ModelOption = Annotated[
    list[Path] | None,
    typer.Option(
        help="deep: a checkpoint written by `photoid train`, a run folder (its "
        "checkpoints/best-*.ckpt, else last.ckpt), or a folder of runs such as the fold0/, "
        "fold1/ of `photoid train --folds` (one model each). Repeatable: several models are "
        "an ensemble.",
    ),
]
EnsembleOption = Annotated[
    str,
    typer.Option(
        help="deep, several models: 'mean' averages each model's identity scores (an identity "
        f"outside a model's {SHORTLIST}-identity shortlist counts with its lowest shortlisted "
        "score); 'concat' joins the models' unit embeddings into one (meta-embedding).",
    ),
]
TtaOption = Annotated[
    list[str] | None,
    typer.Option(help="deep: test-time views flip, rot90, rot180, rot270 (repeatable)."),
]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")]


def local_config(settings: list[str] | None) -> LocalConfig:
    """The default local-engine config with ``--set`` overrides applied."""
    from photoid.local.config import LocalConfig, parse_overrides

    return LocalConfig().with_overrides(**parse_overrides(settings or []))


def cache_dir(cache: Path | None, no_cache: bool) -> Path | None:
    if no_cache:
        return None
    from photoid.local.config import default_cache_dir

    return cache if cache is not None else default_cache_dir()


def ensemble_mode(text: str) -> Combine:
    """``--ensemble`` checked: ``mean`` or ``concat``."""
    if text == "mean":
        return "mean"
    if text == "concat":
        return "concat"
    raise PhotoidError(f"--ensemble {text!r}: choose one of {', '.join(COMBINES)}")
