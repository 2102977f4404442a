"""The local-feature identification engine: keypoints, one descriptor index, LNBNN voting,
geometric verification, per-identity scores. Needs no trained weights; runs on CPU."""

from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.results import Candidate, Identification, Match

__all__ = ["Candidate", "Identification", "LocalConfig", "LocalEngine", "Match"]
