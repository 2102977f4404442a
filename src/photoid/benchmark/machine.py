"""One line describing the machine a benchmark ran on (cores, CPU model, memory, Python, GPU)."""

from __future__ import annotations

import os
import platform

import torch


def describe() -> str:
    """E.g. ``"2 cores (AMD EPYC 7B13), 24 GiB, Python 3.11.7, no GPU"``; unreadable parts
    (no /proc on this system) fall back to ``platform``'s answer or ``?``."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "? GiB"
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    gpu = ", ".join(gpus) if gpus else "no GPU"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}, {gpu}"
