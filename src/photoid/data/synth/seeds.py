"""One random stream per (seed, individual, purpose, index), so any image can be re-made alone.

Keys have a fixed length because numpy's SeedSequence pads entropy with zeros: ``[s, i]`` and
``[s, i, 0]`` would give the same stream.
"""

from __future__ import annotations

import numpy as np

INDIVIDUAL = 0  # body shape, left coat, encounter schedule
RIGHT_COAT = 1  # the right flank's own markings (asymmetric datasets)
ENCOUNTER = 2  # what one sighting shares: habitat, light, colour cast
IMAGE = 3  # everything else of one photo
SITE = 4  # scenery of shared site ``index`` (individual 0: a site belongs to no individual)
PLACE = 5  # scenery of the own place of encounter ``index`` of ``individual``


def stream(seed: int, individual: int, purpose: int, index: int = 0) -> np.random.Generator:
    """A PCG64 generator keyed by ``(seed, individual, purpose, index)``; all must be >= 0."""
    key = [seed, individual, purpose, index]
    if min(key) < 0:
        raise ValueError(f"seed and indices must be non-negative, got {key}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))
