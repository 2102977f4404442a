"""Options shared by the identification commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.constants import COMBINES, SHORTLIST
from photoid.errors import PhotoidError

if TYPE_CHECKING:
    from photoid.deep.ensemble import Combine
    from photoid.engines.pretrained_config import PretrainedConfig
    from photoid.fusion.config import FusedConfig
    from photoid.keypoints.config import KeypointConfig
    from photoid.local.config import LocalConfig

MethodOption = Annotated[
    str,
    typer.Option(
        "--method",
        help="Identification engine: local, deep, fused (local + colour [+ --model], "
        "calibrated probabilities), keypoints, or pretrained (a timm model with no training: "
        "--set pretrained.model=NAME --set pretrained.weights=PATH).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Engine setting KEY=VALUE, repeatable (e.g. --set shortlist=50 --set clahe=true); "
        "keypoints.KEY sets the learned-keypoint engine (--set keypoints.matcher=lightglue "
        "--set keypoints.device=cuda), fused.KEY the fused engine (--set fused.keypoints=true), "
        "pretrained.KEY the pretrained embedder (--set pretrained.model=hf-hub:BVRA/"
        "MegaDescriptor-L-384 --set pretrained.weights=mega.safetensors "
        "--set pretrained.device=cuda).",
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


def _device(name: str) -> str:
    from photoid.devices import check_device_name

    return check_device_name(name)


def _precision(name: str) -> str:
    from photoid.devices import check_precision

    return check_precision(name)


DeviceOption = Annotated[
    str,
    typer.Option(
        "--device",
        callback=_device,
        help="Where networks run (deep and pretrained embedders, learned keypoints): auto (a "
        "CUDA GPU when there is one), cpu, cuda or cuda:N. Engines without a network ignore it.",
    ),
]
PrecisionOption = Annotated[
    str,
    typer.Option(
        "--precision",
        callback=_precision,
        help="Embedding arithmetic: auto (mixed bfloat16/float16 on a GPU, float32 on the "
        "CPU), fp32, bf16 or fp16 (GPU only).",
    ),
]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the cache.")]


def local_config(settings: list[str] | None) -> LocalConfig:
    """The default local-engine config with ``--set`` overrides applied (those without the
    ``keypoints.`` prefix)."""
    from photoid.engines.pretrained_config import PREFIX as PRETRAINED_PREFIX
    from photoid.keypoints.config import PREFIX
    from photoid.local.config import LocalConfig, parse_overrides

    prefixes = (PREFIX, FUSED_PREFIX, PRETRAINED_PREFIX)
    plain = [s for s in settings or [] if not s.strip().startswith(prefixes)]
    return LocalConfig().with_overrides(**parse_overrides(plain))


FUSED_PREFIX = "fused."
"""``--set fused.NAME=VALUE`` sets the fused engine's NAME (e.g. ``fused.keypoints=true``)."""


def fused_config(settings: list[str] | None) -> FusedConfig:
    """The fused engine's config with the ``--set fused.NAME=VALUE`` overrides."""
    from dataclasses import replace

    from photoid.fusion.config import FusedConfig
    from photoid.local.config import parse_overrides

    mine = [
        s.strip()[len(FUSED_PREFIX) :] for s in settings or [] if s.strip().startswith(FUSED_PREFIX)
    ]
    defaults = FusedConfig()
    return replace(defaults, **parse_overrides(mine, defaults))


def keypoint_config(settings: list[str] | None) -> KeypointConfig:
    """The learned-keypoint engine's config with the ``--set keypoints.NAME=VALUE`` overrides."""
    from photoid.keypoints.config import PREFIX, KeypointConfig
    from photoid.local.config import parse_overrides

    mine = [s.strip()[len(PREFIX) :] for s in settings or [] if s.strip().startswith(PREFIX)]
    defaults = KeypointConfig()
    return defaults.with_overrides(**parse_overrides(mine, defaults))


def pretrained_config(settings: list[str] | None) -> PretrainedConfig:
    """The pretrained embedder's config with the ``--set pretrained.NAME=VALUE`` overrides."""
    from dataclasses import replace

    from photoid.engines.pretrained_config import PREFIX, PretrainedConfig
    from photoid.local.config import parse_overrides

    mine = [s.strip()[len(PREFIX) :] for s in settings or [] if s.strip().startswith(PREFIX)]
    defaults = PretrainedConfig()
    return replace(defaults, **parse_overrides(mine, defaults))


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
