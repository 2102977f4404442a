"""Pickling support for objects that hold a faiss index: the index travels as its own
serialised bytes (``faiss.serialize_index``), the rest of the object as usual."""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

_KEY = "_index"


def index_state(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (an object's ``__dict__``) with its faiss index at ``_index`` serialised."""
    out = dict(state)
    index = out.pop(_KEY)
    binary = isinstance(index, faiss.IndexBinary)
    serialise = faiss.serialize_index_binary if binary else faiss.serialize_index
    out["_index_bytes"] = np.asarray(serialise(index), np.uint8)
    out["_index_binary"] = binary
    return out


def restore_index(state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`index_state`."""
    out = dict(state)
    data = out.pop("_index_bytes")
    binary = out.pop("_index_binary")
    out[_KEY] = (faiss.deserialize_index_binary if binary else faiss.deserialize_index)(data)
    return out
