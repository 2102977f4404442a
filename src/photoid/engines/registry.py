"""Method names to engines, in one place (like timm's model registry).

The registry names the module and class of each engine without importing them, so listing the
methods (``--help``) costs nothing; :func:`create_engine` imports the one asked for. A new engine
is one module defining an :class:`photoid.engines.base.Engine` subclass and one line here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from photoid.errors import PhotoidError

if TYPE_CHECKING:
    from photoid.engines.base import Engine, EngineOptions

ENGINES: dict[str, str] = {
    "local": "photoid.engines.local:LocalFeatures",
    "deep": "photoid.engines.deep:DeepEmbeddings",
    "fused": "photoid.engines.fused:Fused",
    "keypoints": "photoid.engines.keypoints:LearnedKeypoints",
    "pretrained": "photoid.engines.pretrained:PretrainedEmbeddings",
}
METHODS: tuple[str, ...] = tuple(ENGINES)


def engine_class(method: str) -> type[Engine]:
    """The engine class registered as ``method``."""
    if method not in ENGINES:
        raise PhotoidError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    module, name = ENGINES[method].split(":")
    found: type[Engine] = getattr(import_module(module), name)
    return found


def create_engine(method: str, options: EngineOptions | None = None) -> Engine:
    """An unfitted engine of ``method`` with ``options``."""
    return engine_class(method)(options)
