"""Blocking work of ``async`` request handlers runs in worker threads, never on the event loop,
so one slow request cannot stall every other.

CPU-heavy work (decoding photos, storing them, drawing match pictures, hashing passwords) runs
in a pool of ``Settings.cpu_threads`` threads: a burst of uploads or logins queues there instead
of taking every core (argon2 also takes 64 MiB per hash). Database calls run in anyio's default
thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import FastAPI, Request

T = TypeVar("T")
_LIMITER = "cpu_limiter"


def install_cpu_pool(app: FastAPI, threads: int) -> None:
    """Give ``app`` a pool of ``threads`` threads for :func:`run_cpu`."""
    setattr(app.state, _LIMITER, CapacityLimiter(threads))


async def run_cpu(request: Request, func: Callable[..., T], *args: object) -> T:
    """``func(*args)`` in the app's CPU pool, waiting for a free thread."""
    limiter: CapacityLimiter = getattr(request.app.state, _LIMITER)
    return await anyio.to_thread.run_sync(partial(func, *args), limiter=limiter)


async def run_blocking(func: Callable[..., T], *args: object) -> T:
    """``func(*args)`` (a database call, say) in anyio's default thread pool."""
    return await anyio.to_thread.run_sync(partial(func, *args))
