"""Search over L2-normalised embeddings: a faiss index and per-identity aggregation."""

from photoid.search.aggregate import IdentityRanking, rank_identities_by_images
from photoid.search.vector_index import VectorIndex

__all__ = ["IdentityRanking", "VectorIndex", "rank_identities_by_images"]
