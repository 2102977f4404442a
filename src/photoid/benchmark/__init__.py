"""Benchmarks of every engine on every dataset: ``photoid benchmark`` writes the markdown that
``docs/benchmarks.md`` includes.

- :func:`run_benchmark` runs the methods on each dataset's own split and an open-set split
  (:mod:`~photoid.benchmark.splits`) and returns a :class:`BenchmarkReport` of
  :class:`RunRecord`;
- :func:`format_report` turns it into markdown; :func:`replace_in_file` puts that between the
  ``<!-- photoid benchmark: begin -->`` and ``<!-- photoid benchmark: end -->`` lines of a file.
"""

from photoid.benchmark.docs import (
    BEGIN,
    END,
    check_markers,
    replace_in_file,
    replace_section,
    write_atomic,
)
from photoid.benchmark.records import BenchmarkReport, RunRecord
from photoid.benchmark.run import (
    METHODS,
    BenchmarkOptions,
    Method,
    command_line,
    parse_methods,
    run_benchmark,
    run_dataset,
)
from photoid.benchmark.sources import BenchmarkDataset, resolve_dataset, synthetic_dataset
from photoid.benchmark.splits import BenchmarkSplit, closed_split, open_split, open_split_values
from photoid.benchmark.table import format_report, format_table

__all__ = [
    "BEGIN",
    "END",
    "METHODS",
    "BenchmarkDataset",
    "BenchmarkOptions",
    "BenchmarkReport",
    "BenchmarkSplit",
    "Method",
    "RunRecord",
    "check_markers",
    "closed_split",
    "command_line",
    "format_report",
    "format_table",
    "open_split",
    "open_split_values",
    "parse_methods",
    "replace_in_file",
    "replace_section",
    "resolve_dataset",
    "run_benchmark",
    "run_dataset",
    "synthetic_dataset",
    "write_atomic",
]
