"""Small constants that option declarations need, kept free of heavy imports so that
``photoid --help`` stays fast (no torch, pandas, ... at start-up).

The library owns the behaviour behind them: :mod:`photoid.deep.ensemble` imports COMBINES and
SHORTLIST from here; DEFAULT_MIN_SIDE, SplitKind, UndatedPolicy and DEFAULT_MAX_SKIPPED are
copies of :mod:`photoid.data.check`'s, :mod:`photoid.data.splits_apply`'s and
:mod:`photoid.evaluation.skips`'s, checked equal by tests/cli/test_lazy_imports.py.
"""

from __future__ import annotations

from typing import Literal

# --ensemble: how several deep models combine.
COMBINES: tuple[str, ...] = ("mean", "concat")
SHORTLIST = 50  # identities each model ranks before the mean; a wider list is closer to exact

# photoid data check --min-side.
DEFAULT_MIN_SIDE = 32

# photoid evaluate --max-skipped: share of gallery photos or queries that may be unreadable.
DEFAULT_MAX_SKIPPED = 0.05

# photoid data split --kind and --undated.
SplitKind = Literal["closed", "open", "disjoint", "time", "column"]
UndatedPolicy = Literal["error", "train"]
