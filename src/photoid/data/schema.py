"""The native dataset format: column names, reserved values and cell parsers.

A dataset is a folder holding ``metadata.csv`` and the images. Row numbers in messages are
the CSV's line numbers (the header is line 1, the first data row line 2), as a spreadsheet shows.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

METADATA_FILE = "metadata.csv"
REQUIRED_COLUMNS: tuple[str, ...] = ("image", "identity")
OPTIONAL_COLUMNS: tuple[str, ...] = ("species", "viewpoint", "bbox", "date", "encounter")
TEXT_COLUMNS: tuple[str, ...] = ("species", "viewpoint", "encounter")

# The identity of a photo whose individual is not known (Kaggle's ``new_whale``); it gets label -1.
UNKNOWN_IDENTITY = "unknown"
UNKNOWN_LABEL = -1

# A split column is named ``split`` or ends in ``_split``; its cells take these values or stay empty
# (an empty cell leaves the row out of that split).
SPLIT_VALUES: frozenset[str] = frozenset({"train", "val", "test", "gallery", "query"})
_SPLIT_NAME = re.compile(r"^(.+_)?split$")

FIRST_DATA_LINE = 2


def is_split_column(name: str) -> bool:
    """True for ``split`` and any ``*_split`` column."""
    return bool(_SPLIT_NAME.match(name))


def parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    """Parse ``"x,y,w,h"`` (pixels, top-left corner, width, height) into floats.

    An empty cell means no box (None). Raises ValueError with a readable reason otherwise.
    Brackets and spaces are tolerated, so ``"[10, 20, 30, 40]"`` parses too.
    """
    cleaned = text.strip().strip("[]()").strip()
    if not cleaned:
        return None
    parts = [p for p in re.split(r"[,\s;]+", cleaned) if p]
    if len(parts) != 4:
        raise ValueError(f"bbox must be 4 numbers x,y,w,h, got {text!r}")
    try:
        x, y, w, h = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"bbox must be 4 numbers x,y,w,h, got {text!r}") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f"bbox has a non-finite number: {text!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"bbox width and height must be positive, got {text!r}")
    return (x, y, w, h)


def format_bbox(bbox: tuple[float, float, float, float] | None) -> str:
    """Inverse of :func:`parse_bbox`: ``"x,y,w,h"`` with integers written without decimals."""
    if bbox is None:
        return ""
    return ",".join(str(int(v)) if float(v).is_integer() else f"{v:g}" for v in bbox)


def parse_date(text: str) -> datetime | None:
    """Parse an ISO 8601 date or date-time (``2024-05-01``, ``2024-05-01T10:30``); empty -> None.

    One parser for loading and checking, so both always agree. Raises ValueError otherwise.
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"date {text!r} is not an ISO date (YYYY-MM-DD)") from None
