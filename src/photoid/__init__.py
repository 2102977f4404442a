"""photoid: photo-identification of individual animals."""

__version__ = "0.1.0"
