"""Evidence pictures: side-by-side layout, lines, JPEG data URIs."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np

from photoid.evaluation.drawing import draw_pair, load_or_blank, to_data_uri


def test_side_by_side_layout_without_lines() -> None:
    query = np.full((100, 200, 3), 10, np.uint8)  # scaled x2.2 to 220 x 440
    gallery = np.full((50, 50, 3), 90, np.uint8)  # scaled x4.4 to 220 x 220
    none = np.zeros((0, 2), np.float32)
    canvas = draw_pair(query, gallery, none, none)
    assert canvas.shape == (220, 440 + 8 + 220, 3)
    assert canvas.dtype == np.uint8
    assert (canvas[:, :440] == 10).all()
    assert (canvas[:, 440:448] == 255).all()  # the white gap
    assert (canvas[:, 448:] == 90).all()


def test_matches_are_drawn_as_lines_across_the_gap() -> None:
    query = np.zeros((100, 200, 3), np.uint8)
    gallery = np.zeros((50, 50, 3), np.uint8)
    # Query (100, 50) -> canvas (220, 110); gallery (25, 25) -> (110 + 448, 110): a level line.
    points_q = np.array([[100.0, 50.0]], np.float32)
    points_g = np.array([[25.0, 25.0]], np.float32)
    canvas = draw_pair(query, gallery, points_q, points_g)
    assert canvas[110, 300].max() > 0  # on the line, inside the query half
    assert canvas[110, 500].max() > 0  # on the line, inside the gallery half
    assert canvas[20, 300].max() == 0  # far from it: untouched
    assert (draw_pair(query, gallery, points_q, points_g, max_lines=0)[:, :440] == 0).all()


def test_data_uri_is_a_jpeg_of_the_picture() -> None:
    pixels = np.zeros((30, 40, 3), np.uint8)
    pixels[:, :, 0] = 200  # red
    uri = to_data_uri(pixels)
    assert uri.startswith("data:image/jpeg;base64,")
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:2] == b"\xff\xd8"
    decoded = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
    assert decoded.shape == (30, 40, 3)
    assert abs(int(decoded[15, 20, 0]) - 200) <= 3 and decoded[15, 20, 2] <= 3


def test_unreadable_image_becomes_a_grey_tile(tmp_path: Path) -> None:
    tile = load_or_blank(tmp_path / "missing.jpg")
    assert tile.shape == (64, 64, 3)
    assert (tile == 200).all()
