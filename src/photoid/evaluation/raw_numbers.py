"""Every number of a run's summary JSON as a collapsed ``<details>`` section: nested keys become
nested tables, with a few words for the keys a reader is likely to look for."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

MEANINGS = {
    "top1": "share of queries with the right answer first",
    "top5": "share of queries with the right answer among the five",
    "map5": "mean average precision at 5",
    "acc_known": "top-1 on queries of gallery individuals",
    "acc_new": "top-1 on queries of new individuals",
    "new_threshold": "score below which new_individual goes first",
    "oracle_threshold": "best threshold in hindsight (reference only, never used)",
    "oracle_map5": "MAP@5 with the oracle threshold",
    "queries": "query photos",
    "gallery": "gallery photos",
    "seconds": "time to answer the queries",
    "gallery_seconds": "time to build the gallery",
    "skipped": "photos that could not be read",
    "ece": "expected calibration error, every listed answer (15 equal-width bins)",
    "ece_top1": "expected calibration error, first answers (15 equal-width bins)",
}


def raw_numbers_section(summary: Mapping[str, Any]) -> str:
    """A closed ``<details>`` holding ``summary`` (the run's JSON) as a table."""
    return (
        "<details class='raw'><summary>All numbers of this run (the summary JSON that "
        "<code>photoid evaluate</code> prints)</summary>"
        f"{_table(summary, top=True)}</details>"
    )


def _table(values: Mapping[str, Any], top: bool = False) -> str:
    rows = []
    for key, value in values.items():
        meaning = MEANINGS.get(str(key), "") if top else ""
        note = f"<br><small>{html.escape(meaning)}</small>" if meaning else ""
        rows.append(f"<tr><th>{html.escape(str(key))}{note}</th><td>{_cell(value)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):
        return _table(value) if value else "none"
    if isinstance(value, list | tuple):
        return html.escape(", ".join(_plain(v) for v in value)) or "none"
    return html.escape(_plain(value))


def _plain(value: Any) -> str:
    """As the JSON has it (already rounded), None and NaN as "n/a"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return str(value)
