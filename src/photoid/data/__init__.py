"""Datasets in photoid's native format: loading, images, readers, validation, splits, synthesis."""

from photoid.data.schema import METADATA_FILE, UNKNOWN_IDENTITY, UNKNOWN_LABEL
from photoid.data.table import Dataset, load_dataset, save_metadata

__all__ = [
    "METADATA_FILE",
    "UNKNOWN_IDENTITY",
    "UNKNOWN_LABEL",
    "Dataset",
    "load_dataset",
    "save_metadata",
]
