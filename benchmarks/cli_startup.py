"""Start-up time of the ``photoid`` command: wall time of ``photoid --help`` and of every
subcommand's ``--help``, each a fresh process, best of --repeat runs.

    .venv/bin/python benchmarks/cli_startup.py [--repeat 5] [--command identify ...]

Every subcommand (nested ones such as ``data split`` too) is timed unless --command names
some; prints a markdown table (seconds) and the machine it ran on.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def photoid_script() -> list[str]:
    """The ``photoid`` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("photoid")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("photoid")
    if found is None:
        sys.exit("no photoid script found: install the package (make venv)")
    return [found]


def subcommands() -> list[list[str]]:
    """Every command path of the app, nested groups included, in help order."""
    import typer

    from photoid.cli.app import app

    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        for name, child in getattr(command, "commands", {}).items():
            paths.append([*path, name])
            walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def best_time(argv: list[str], repeat: int) -> float:
    """The fastest of ``repeat`` wall times of ``argv`` (it must exit 0)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (best is kept)")
    parser.add_argument(
        "--command",
        action="append",
        help="a subcommand to time, e.g. 'identify' or 'data split' (repeatable; default all)",
    )
    args = parser.parse_args()
    script = photoid_script()
    paths = [c.split() for c in args.command] if args.command else subcommands()
    rows = [("photoid --help", best_time([*script, "--help"], args.repeat))]
    for path in paths:
        label = f"photoid {' '.join(path)} --help"
        rows.append((label, best_time([*script, *path, "--help"], args.repeat)))
        print(f"{label}: {rows[-1][1]:.2f} s", file=sys.stderr)
    print(f"| command | wall s (best of {args.repeat}) |")
    print("|---|---:|")
    for label, seconds in rows:
        print(f"| `{label}` | {seconds:.2f} |")
    print()
    print(machine())


def machine() -> str:
    """The benchmarks' machine line (imports the heavy libraries, so only after timing)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import describe

    return str(describe())


if __name__ == "__main__":
    main()
