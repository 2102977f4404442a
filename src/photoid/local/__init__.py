"""The local-feature identification engine: keypoints, one descriptor index, LNBNN voting,
geometric verification, per-identity scores. Needs no trained weights; runs on CPU."""

from photoid.core import Candidate, Identification, Match
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine

__all__ = ["Candidate", "Identification", "LocalConfig", "LocalEngine", "Match"]
