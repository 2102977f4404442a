"""Deep metric-learning inference: embeddings from trained checkpoints (one model or an
ensemble), a vector index over the gallery, identities ranked by cosine similarity, the
new-individual threshold fitted on the gallery, pseudo-labels for another training round."""

from photoid.deep.checkpoints import load_deep_engine, resolve_checkpoints
from photoid.deep.embed import embed_images, load_embedder
from photoid.deep.engine import DeepEngine
from photoid.deep.ensemble import DeepEnsemble

__all__ = [
    "DeepEngine",
    "DeepEnsemble",
    "embed_images",
    "load_deep_engine",
    "load_embedder",
    "resolve_checkpoints",
]
