"""photoid: photo-identification of individual animals.

From Python::

    import photoid

    engine = photoid.fit("my-whales", method="local", out="my-whales-engine")
    answers = photoid.identify_photos(engine, "new-photos")

The public functions live in :mod:`photoid.api` and are imported on first use, so ``import
photoid`` loads no heavy library (torch, pandas, faiss).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from photoid.api import EngineOptions, fit, identify_photos, load_dataset, load_engine

__version__ = "0.1.0"
__all__ = [
    "EngineOptions",
    "__version__",
    "fit",
    "identify_photos",
    "load_dataset",
    "load_engine",
]

_LAZY = frozenset({"EngineOptions", "fit", "identify_photos", "load_dataset", "load_engine"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module("photoid.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'photoid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
