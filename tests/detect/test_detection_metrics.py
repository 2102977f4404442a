"""Box overlap and detection recall, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from photoid.metrics.detection import box_iou, detection_recall, matched_truths


def test_iou_of_shifted_equal_and_disjoint_boxes() -> None:
    iou = box_iou(
        np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]])
    )
    # overlap 5 x 10 = 50 over 100 + 100 - 50 = 150
    assert iou.shape == (1, 3)
    assert iou[0] == pytest.approx([1 / 3, 1.0, 0.0])


def test_iou_of_a_box_without_area_is_zero() -> None:
    assert box_iou(np.array([[3, 3, 3, 8]]), np.array([[0, 0, 10, 10]]))[0, 0] == 0.0


def test_each_detection_covers_one_truth_best_score_first() -> None:
    truth = np.array([[0, 0, 10, 10], [100, 100, 110, 110]])
    # Both detections sit on the first animal; the second animal is missed.
    found = np.array([[0, 0, 10, 9], [1, 1, 11, 11]])
    assert matched_truths(truth, found).tolist() == [True, False]
    assert detection_recall([truth], [found]) == 0.5


def test_recall_counts_boxes_over_all_photos_and_the_iou_bar() -> None:
    truths = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 20, 20], [50, 50, 60, 60]])]
    # IoU with the first truth: 8x10 / 100 = 0.8; with (0,0,20,20): 10x20/400 = 0.5.
    founds = [np.array([[2, 0, 10, 10]]), np.array([[0, 0, 10, 20]])]
    assert detection_recall(truths, founds, iou=0.5) == pytest.approx(2 / 3)
    assert detection_recall(truths, founds, iou=0.6) == pytest.approx(1 / 3)
    assert detection_recall(truths, [np.zeros((0, 4)), np.zeros((0, 4))]) == 0.0


def test_recall_without_truth_is_nan() -> None:
    assert math.isnan(detection_recall([np.zeros((0, 4))], [np.array([[0, 0, 1, 1]])]))
