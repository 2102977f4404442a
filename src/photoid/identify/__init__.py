"""Identify photos against a labelled gallery dataset (behind `photoid identify`)."""

from photoid.identify.files import collect_images
from photoid.identify.output import write_answers, write_submission
from photoid.identify.run import identify_files

__all__ = ["collect_images", "identify_files", "write_answers", "write_submission"]
