"""What a benchmark produced, as plain data: one record per (dataset, split, method) run, and
the report that :mod:`photoid.benchmark.table` formats."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    """One run. ``split``: the split's label in the table (its column name, ``closed 20%`` or
    ``open 20%``); ``summary``: :meth:`EvaluationResult.summary`; ``settings``: ``key=value``
    changes from the engine's defaults (local) or from the from-scratch recipe (deep);
    ``train_seconds`` (wall time) and ``epochs`` for runs that trained a model, else None."""

    dataset: str
    split: str
    method: str
    summary: dict[str, Any]
    settings: tuple[str, ...] = ()
    train_seconds: float | None = None
    epochs: int | None = None

    def as_json(self) -> str:
        """One line of JSON: dataset name, split, method, settings, training time, the dataset's
        folder as ``root``, then the summary's numbers."""
        head: dict[str, Any] = {
            "dataset": self.dataset,
            "split": self.split,
            "method": self.method,
            "settings": list(self.settings),
        }
        if self.train_seconds is not None:
            head["train_seconds"] = round(self.train_seconds, 1)
            head["epochs"] = self.epochs
        fields = {k: v for k, v in self.summary.items() if k not in ("dataset", "method")}
        if "dataset" in self.summary:
            head["root"] = self.summary["dataset"]
        return json.dumps({**head, **fields})


@dataclass(frozen=True)
class BenchmarkReport:
    """Every run, with the ``machine`` line, the ``command`` that reproduces them, one ``notes``
    line per dataset (where it came from) and the deep ``recipe`` (``key=value`` texts)."""

    machine: str
    command: str
    records: tuple[RunRecord, ...]
    notes: tuple[str, ...] = ()
    recipe: tuple[str, ...] = ()
