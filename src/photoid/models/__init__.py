"""Deep metric-learning models: timm backbone, pooling, BN-neck embedder, and loss heads."""

from photoid.models.backbone import create_backbone
from photoid.models.embedder import Embedder, EmbedderConfig
from photoid.models.heads import HEADS, ClassifierHead, Head, Taxonomy, TaxonomyHead, create_head
from photoid.models.pooling import POOLINGS, GeM, create_pooling
from photoid.models.weights import LoadReport, load_weights, read_state_dict

__all__ = [
    "HEADS",
    "POOLINGS",
    "ClassifierHead",
    "Embedder",
    "EmbedderConfig",
    "GeM",
    "Head",
    "LoadReport",
    "Taxonomy",
    "TaxonomyHead",
    "create_backbone",
    "create_head",
    "create_pooling",
    "load_weights",
    "read_state_dict",
]
