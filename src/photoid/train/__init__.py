"""Training data for the deep engine: augmentation policies, a torch Dataset, P x K sampling."""

from photoid.train.augment import POLICIES, build_transform
from photoid.train.dataset import PhotoDataset, seed_worker
from photoid.train.sampler import PKSampler, pk_sampler

__all__ = ["POLICIES", "PKSampler", "PhotoDataset", "build_transform", "pk_sampler", "seed_worker"]
