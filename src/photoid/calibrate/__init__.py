"""Calibrated identification: engine scores into the probability that a candidate is the same
individual, isotonic or logistic, one calibrator per rank bucket, fitted on pairs the gallery
gives (gallery photos asked with their group left out: :mod:`photoid.calibrate.groups`) and
checked by cross-validation over queries; reliability diagrams and an HTML report section; a
learned pair verifier (torch: :mod:`photoid.calibrate.verifier`)."""

from photoid.calibrate.calibrator import (
    ENGINE_TRANSFORMS,
    TRANSFORMS,
    Calibrator,
    Method,
    fit_calibrator,
)
from photoid.calibrate.crossval import CalibrationFit, cross_validate, query_folds
from photoid.calibrate.evaluate import HeldOutCalibration, evaluate_calibration
from photoid.calibrate.pairs import ScorePairs, pairs_from_identifications, pairs_from_rankings
from photoid.calibrate.plot import reliability_diagram, save_reliability_diagram
from photoid.calibrate.ranked import RankedCalibrator, fit_ranked, load_calibration
from photoid.calibrate.section import calibration_section, png_data_uri

__all__ = [
    "ENGINE_TRANSFORMS",
    "TRANSFORMS",
    "CalibrationFit",
    "Calibrator",
    "HeldOutCalibration",
    "Method",
    "RankedCalibrator",
    "ScorePairs",
    "calibration_section",
    "cross_validate",
    "evaluate_calibration",
    "fit_calibrator",
    "fit_ranked",
    "load_calibration",
    "pairs_from_identifications",
    "pairs_from_rankings",
    "png_data_uri",
    "query_folds",
    "reliability_diagram",
    "save_reliability_diagram",
]
