"""Identification engines behind one contract (:mod:`photoid.engines.base`), found by name in
:mod:`photoid.engines.registry`, saved and loaded by :mod:`photoid.engines.store`."""

from photoid.engines.registry import ENGINES, METHODS, create_engine, engine_class

__all__ = ["ENGINES", "METHODS", "create_engine", "engine_class"]
