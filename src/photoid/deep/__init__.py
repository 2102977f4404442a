"""Deep metric-learning inference: embeddings from a trained checkpoint, a vector index over the
gallery, identities ranked by cosine similarity."""

from photoid.deep.embed import embed_images, load_embedder
from photoid.deep.engine import DeepEngine

__all__ = ["DeepEngine", "embed_images", "load_embedder"]
