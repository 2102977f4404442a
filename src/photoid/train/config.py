"""Every training setting in one frozen dataclass (defaults), YAML files holding only what
differs, ``key=value`` overrides from the command line, and the resolved config saved with each
run and checkpoint (the DINOv2 layout: defaults, experiment file, overrides)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from photoid.errors import PhotoidError

S = TypeVar("S")


@dataclass(frozen=True)
class TrainConfig:
    """Deep metric-learning training settings.

    Learning rates are per optimiser step; ``head_params`` are the head's keyword arguments
    (empty: the head's own defaults; margins in radians); ``image_size`` is the square side in
    pixels fed to the backbone. ``taxonomy`` names metadata columns, coarse to fine and comma
    separated (``family,genus``), each getting a focal-loss classification head weighted by
    ``taxonomy_weight`` (0: off). ``checkpoint_every_steps`` also writes ``last.ckpt`` inside
    an epoch (0: at epoch ends only). ``max_minutes`` stops training after that much wall time
    (0: no limit; the last checkpoint is written when it stops). ``decode`` ``gpu`` decodes
    JPEGs and augments on the GPU (nvjpeg); ``channels_last`` and ``compile`` are throughput
    switches for the backbone.
    """

    backbone: str = "tf_efficientnetv2_s"
    pretrained: bool = False
    weights: str | None = None
    embedding_size: int = 512
    pooling: str = "gem"
    head: str = "subcenter_arcface"
    head_params: dict[str, float] = field(default_factory=dict)
    species_weight: float = 0.0
    taxonomy: str = ""
    taxonomy_weight: float = 0.0
    focal_gamma: float = 2.0
    image_size: int = 384
    policy: str = "heavy"
    rot45: bool = False
    mirror_as_new: bool = False
    use_bbox: bool = True
    identities_per_batch: int = 16
    images_per_identity: int = 4
    epochs: int = 30
    lr: float = 1e-3
    head_lr_multiplier: float = 10.0
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    accumulate: int = 1
    precision: str = "auto"
    accelerator: str = "auto"
    devices: str = "auto"
    strategy: str = "auto"
    workers: int = 2
    seed: int = 0
    patience: int = 5
    checkpoint_every_steps: int = 50
    max_minutes: float = 0.0
    decode: str = "cpu"
    channels_last: bool = True
    compile: bool = False

    def __post_init__(self) -> None:
        for name in ("embedding_size", "image_size", "identities_per_batch", "epochs"):
            if getattr(self, name) < 1:
                raise PhotoidError(f"training setting {name} must be at least 1")
        if self.images_per_identity < 2:
            raise PhotoidError("training setting images_per_identity must be at least 2")
        if self.accumulate < 1:
            raise PhotoidError("training setting accumulate must be at least 1")
        if self.checkpoint_every_steps < 0:
            raise PhotoidError("training setting checkpoint_every_steps must be 0 (off) or more")
        if self.decode not in ("cpu", "gpu"):
            raise PhotoidError(f"training setting decode must be cpu or gpu, got {self.decode!r}")
        if self.max_minutes < 0:
            raise PhotoidError("training setting max_minutes must be 0 (no limit) or more")
        if self.taxonomy_weight > 0 and not self.taxonomy.strip():
            raise PhotoidError(
                "training setting taxonomy_weight > 0 needs taxonomy=COLUMN[,COLUMN...] "
                "(coarse to fine metadata columns)"
            )
        if self.focal_gamma < 0:
            raise PhotoidError("training setting focal_gamma must be 0 or more")

    @property
    def batch_size(self) -> int:
        """Images per step: identities_per_batch x images_per_identity."""
        return self.identities_per_batch * self.images_per_identity

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self) -> str:
        """Short hash of every setting: names a model trained with this config."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def device_settings(device: str) -> list[str]:
    """``photoid train --device`` as Lightning settings: ``cpu`` -> the CPU accelerator,
    ``cuda`` -> every GPU, ``cuda:N`` -> GPU N alone (``devices=N,``, Lightning's list of
    indices); ``auto`` changes nothing."""
    from photoid.devices import check_device_name

    check_device_name(device)
    if device == "auto":
        return []
    if device == "cpu":
        return ["accelerator=cpu"]
    index = device.partition(":")[2]
    return ["accelerator=gpu", *([f"devices={index},"] if index else [])]


def resolve_config(path: Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Defaults, then the YAML file at ``path`` (only the keys that differ), then ``key=value``
    overrides (``head_params.margin=0.4`` sets one entry of a dict). Unknown keys are an error."""
    return build_config(read_settings(path, overrides, dotted=("head_params",)), _source(path))


def build_config(values: dict[str, Any], source: str = "config") -> TrainConfig:
    """A TrainConfig from a plain dict; names the unknown keys and mistyped values."""
    return build_settings(TrainConfig, values, source, "training")


def read_settings(
    path: Path | None, overrides: list[str] | None, dotted: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The values of the YAML file at ``path`` updated by ``key=value`` ``overrides`` (values
    parsed as YAML; ``NAME.KEY=VALUE`` sets one entry of the dict setting ``NAME`` when
    ``NAME`` is in ``dotted``)."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_yaml(path))
    for text in overrides or []:
        key, sep, raw = text.partition("=")
        if not sep:
            raise PhotoidError(f"bad override {text!r}: use KEY=VALUE")
        _assign(values, key.strip(), yaml.safe_load(raw) if raw.strip() else None, dotted)
    return values


def build_settings(kind: type[S], values: dict[str, Any], source: str, what: str) -> S:
    """A frozen dataclass ``kind`` from its defaults and a plain dict: unknown keys and
    mistyped values are named (``what``: the settings' name in messages). A dict-valued field
    takes a mapping of names to numbers."""
    known = {f.name: f for f in fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise PhotoidError(
            f"{source}: unknown {what} setting(s) {', '.join(unknown)}; known: {sorted(known)}"
        )
    hints = typing.get_type_hints(kind)
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if typing.get_origin(hints[name]) is dict and isinstance(value, dict):
            checked[name] = {str(k): float(v) for k, v in value.items()}
            continue
        checked[name] = _coerce(name, value, hints[name], source)
    made: S = dataclasses.replace(kind(), **checked)  # type: ignore[type-var]
    return made


def _source(path: Path | None) -> str:
    return str(path) if path else "overrides"


def save_config(config: TrainConfig, path: Path) -> Path:
    """Write the resolved config as YAML (every key, so a run can be repeated exactly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=True), encoding="utf-8")
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PhotoidError(f"{path}: cannot read the config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise PhotoidError(f"{path}: not valid YAML ({exc})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise PhotoidError(f"{path}: a config file must be a mapping of setting: value")
    return loaded


def _assign(values: dict[str, Any], key: str, value: Any, dotted: tuple[str, ...]) -> None:
    name, dot, sub = key.partition(".")
    if not dot:
        values[name] = value
        return
    if name not in dotted:
        takes = " or ".join(dotted) if dotted else "no setting"
        raise PhotoidError(f"override {key!r}: only {takes} takes a dotted key")
    values.setdefault(name, {})[sub] = value


def _coerce(name: str, value: Any, hint: Any, source: str) -> Any:
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None and type(None) in allowed:
        return None
    for kind in allowed:
        if kind is type(None):
            continue
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is str and isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    shown = " or ".join(getattr(k, "__name__", str(k)) for k in allowed)
    raise PhotoidError(f"{source}: setting {name} must be {shown}, got {value!r}")
