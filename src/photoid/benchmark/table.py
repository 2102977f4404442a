"""A benchmark report as markdown: the machine and command, how the splits and settings were
chosen, one table row per run, and every run's JSON in a collapsed block. Pure formatting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from photoid.benchmark.records import BenchmarkReport, RunRecord
from photoid.benchmark.splits import CLOSED_LABEL, OPEN_LABEL

COLUMNS = (
    "dataset",
    "split",
    "method",
    "gallery images",
    "queries",
    "top-1",
    "MAP@5",
    "acc known",
    "acc new",
    "ECE",
    "queries/s",
    "train s",
)
MISSING = "-"
SPLITS_NOTE = (
    "Splits: each dataset's own split column (train rows = gallery, test rows = queries; no "
    f"`new_individual` is inserted unless some queries are absent from the gallery), or "
    f"`{CLOSED_LABEL}` (fold 0 of a 5-fold split stratified by identity, seed 0) when it has "
    f"none; and `{OPEN_LABEL}`: 20% of the identities held out of the gallery entirely (seed 0), "
    "the others keep that split; its queries are the test photos of the known identities plus "
    "photos of the held-out ones, which make up 20% of the queries. On open splits the "
    "new-individual threshold is fitted on the gallery alone (`auto`). `acc known`: known "
    "queries right at rank 1; `acc new`: new queries answered `new_individual` first; "
    "`queries/s` excludes building the gallery; `train s`: wall time of the deep training."
)


def format_report(report: BenchmarkReport) -> str:
    """The whole markdown section (no trailing newline)."""
    lines = [f"Machine: {report.machine}.", f"Command: `{report.command}`", ""]
    if report.notes:
        lines += ["Data:", *(f"- {note}" for note in report.notes), ""]
    lines += [SPLITS_NOTE, ""]
    if report.recipe:
        lines += [
            "Deep: trained from scratch on each split's train rows, no pretrained weights; "
            f"recipe `{' '.join(report.recipe)}`.",
            "",
        ]
    changed = settings_lines(report.records)
    if changed:
        lines += ["Settings changed per dataset:", *changed, ""]
    lines += [format_table(report.records), "", *details(report.records)]
    return "\n".join(lines)


def format_table(records: Sequence[RunRecord]) -> str:
    """The markdown table, one row per record, columns :data:`COLUMNS`."""
    header = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join(["---"] * 3 + ["---:"] * (len(COLUMNS) - 3)) + "|"
    return "\n".join([header, rule, *(format_row(record) for record in records)])


def format_row(record: RunRecord) -> str:
    """One table row: metrics to 3 decimals, queries/s to 2, train s to whole seconds; a
    number the run does not have (``acc new`` on a closed split, ECE without calibrated
    probabilities, train s of an engine that does not train) shows as ``-``."""
    s = record.summary
    split = record.split if record.split in (CLOSED_LABEL, OPEN_LABEL) else f"`{record.split}`"
    cells = [
        record.dataset,
        split,
        record.method,
        _number(s.get("gallery"), 0),
        _number(s.get("queries"), 0),
        _number(s.get("top1"), 3),
        _number(s.get("map5"), 3),
        _number(s.get("acc_known"), 3),
        _number(s.get("acc_new"), 3),
        _number(s.get("ece"), 3),
        _number(s.get("queries_per_second"), 2),
        _number(record.train_seconds, 0),
    ]
    return "| " + " | ".join(cells) + " |"


def settings_lines(records: Sequence[RunRecord]) -> list[str]:
    """A bullet per dataset and method whose settings differ from the defaults (local) or the
    recipe (deep); the split is named too when the dataset's splits differ."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if record.settings:
            groups.setdefault((record.dataset, record.method), []).append(record)
    lines = []
    for (dataset, method), members in groups.items():
        if len({member.settings for member in members}) == 1:
            lines.append(f"- {dataset}, {method}: `{' '.join(members[0].settings)}`")
        else:
            lines += [
                f"- {dataset}, {member.split}, {method}: `{' '.join(member.settings)}`"
                for member in members
            ]
    return lines


def details(records: Sequence[RunRecord]) -> list[str]:
    """A collapsed block holding each record's JSON line."""
    return [
        "<details><summary>Every run's numbers (JSON, one line per run)</summary>",
        "",
        "```json",
        *(record.as_json() for record in records),
        "```",
        "",
        "</details>",
    ]


def _number(value: Any, digits: int) -> str:
    if value is None or isinstance(value, bool):
        return MISSING
    return f"{float(value):.{digits}f}"
