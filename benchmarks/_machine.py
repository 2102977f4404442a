"""One line describing the machine a benchmark ran on (the package's own description)."""

from photoid.benchmark.machine import describe

__all__ = ["describe"]
