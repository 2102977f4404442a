"""The benchmark's markdown: rows, missing numbers, settings bullets, the JSON block."""

from __future__ import annotations

import json

from photoid.benchmark.records import BenchmarkReport, RunRecord
from photoid.benchmark.table import SPLITS_NOTE, format_report, format_table, settings_lines

CLOSED = RunRecord(
    "LionData",
    "wd_split",
    "local",
    {
        "gallery": 585,
        "queries": 155,
        "top1": 0.5742,
        "map5": 0.59256,
        "acc_known": 0.5742,
        "acc_new": None,
        "queries_per_second": 4.071,
        "dataset": "/data/LionData",
    },
)
OPEN = RunRecord(
    "KoiVideo",
    "open 20%",
    "deep",
    {
        "gallery": 700,
        "queries": 180,
        "top1": 0.5,
        "map5": 0.61234,
        "acc_known": 0.55,
        "acc_new": 0.3,
        "ece": 0.0415,
        "queries_per_second": 120.0,
    },
    ("use_bbox=false", "max_minutes=5"),
    train_seconds=299.6,
    epochs=12,
)


def test_table_rows_round_and_mark_what_a_run_lacks() -> None:
    expected = (
        "| dataset | split | method | gallery images | queries | top-1 | MAP@5 | acc known "
        "| acc new | ECE | queries/s | train s |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        "| LionData | `wd_split` | local | 585 | 155 | 0.574 | 0.593 | 0.574 | - | - | 4.07 "
        "| - |\n"
        "| KoiVideo | open 20% | deep | 700 | 180 | 0.500 | 0.612 | 0.550 | 0.300 | 0.042 "
        "| 120.00 | 300 |"
    )
    assert format_table([CLOSED, OPEN]) == expected


def test_settings_bullets_name_the_split_only_when_splits_differ() -> None:
    other_split = RunRecord("KoiVideo", "original_split", "deep", {}, OPEN.settings, 1.0, 1)
    assert settings_lines([CLOSED, OPEN, other_split]) == [
        "- KoiVideo, deep: `use_bbox=false max_minutes=5`"
    ]
    clamped = RunRecord("KoiVideo", "original_split", "deep", {}, ("identities_per_batch=7",))
    assert settings_lines([OPEN, clamped]) == [
        "- KoiVideo, open 20%, deep: `use_bbox=false max_minutes=5`",
        "- KoiVideo, original_split, deep: `identities_per_batch=7`",
    ]


def test_json_line_has_the_run_and_its_numbers() -> None:
    assert json.loads(CLOSED.as_json()) == {
        "dataset": "LionData",
        "split": "wd_split",
        "method": "local",
        "settings": [],
        "root": "/data/LionData",
        "gallery": 585,
        "queries": 155,
        "top1": 0.5742,
        "map5": 0.59256,
        "acc_known": 0.5742,
        "acc_new": None,
        "queries_per_second": 4.071,
    }
    line = json.loads(OPEN.as_json())
    assert (line["train_seconds"], line["epochs"]) == (299.6, 12)


def test_report_has_machine_command_notes_recipe_table_and_details() -> None:
    report = BenchmarkReport(
        machine="2 cores (CPU), 24 GiB, Python 3.11.7, no GPU",
        command="photoid benchmark LionData KoiVideo --methods local,deep --train-minutes 5",
        records=(CLOSED, OPEN),
        notes=("LionData: shared dataset `LionData`", "KoiVideo: shared dataset `KoiVideo`"),
        recipe=("backbone=x", "epochs=2"),
    )
    expected = "\n".join(
        [
            "Machine: 2 cores (CPU), 24 GiB, Python 3.11.7, no GPU.",
            "Command: `photoid benchmark LionData KoiVideo --methods local,deep --train-minutes 5`",
            "",
            "Data:",
            "- LionData: shared dataset `LionData`",
            "- KoiVideo: shared dataset `KoiVideo`",
            "",
            SPLITS_NOTE,
            "",
            "Deep: trained from scratch on each split's train rows, no pretrained weights; "
            "recipe `backbone=x epochs=2`.",
            "",
            "Settings changed per dataset:",
            "- KoiVideo, deep: `use_bbox=false max_minutes=5`",
            "",
            format_table([CLOSED, OPEN]),
            "",
            "<details><summary>Every run's numbers (JSON, one line per run)</summary>",
            "",
            "```json",
            CLOSED.as_json(),
            OPEN.as_json(),
            "```",
            "",
            "</details>",
        ]
    )
    assert format_report(report) == expected


def test_report_without_deep_runs_has_no_recipe_or_settings() -> None:
    report = BenchmarkReport("m", "photoid benchmark --methods local", (CLOSED,))
    text = format_report(report)
    assert "Deep:" not in text and "Settings changed" not in text and "Data:" not in text
    assert text.startswith("Machine: m.\nCommand: `photoid benchmark --methods local`\n\n")
