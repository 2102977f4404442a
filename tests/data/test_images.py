"""Image loading: every mode becomes (H, W, 3) uint8 RGB, EXIF orientation is applied, and every
broken file raises ImageLoadError naming it. Expected pixel values are computed by hand."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from photoid.data.images import ImageInfo, crop, image_problem, load_image, read_info
from photoid.errors import ImageLoadError


def _save(array: np.ndarray, path: Path, mode: str | None = None, **params: object) -> Path:
    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    image.save(path, **params)
    return path


def _load_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path, **kwargs)  # type: ignore[arg-type]
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value.reason


def test_rgb_png_comes_back_unchanged(tmp_path: Path) -> None:
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    out = load_image(_save(pixels, tmp_path / "rgb.png"))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, pixels)


def test_exif_orientation_6_is_turned_upright(tmp_path: Path) -> None:
    # Stored 64 wide x 32 tall, a red 16x16 block in the top-left corner. Orientation 6 means
    # "rotate 90 degrees clockwise to view": upright it is 32 wide x 64 tall, red block top-right.
    stored = np.zeros((32, 64, 3), dtype=np.uint8)
    stored[:16, :16] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(stored, tmp_path / "rotated.jpg", exif=exif, quality=100)
    out = load_image(path)
    assert out.shape == (64, 32, 3)
    assert out[8, 24].tolist() == pytest.approx([255, 0, 0], abs=8)  # top-right: red
    assert out[8, 8].tolist() == pytest.approx([0, 0, 0], abs=8)  # top-left: black
    assert out[56, 24].tolist() == pytest.approx([0, 0, 0], abs=8)  # bottom-right: black
    assert read_info(path) == ImageInfo(width=32, height=64, format="JPEG", mode="RGB")
    # A bbox is read in the upright image: the top-right 16x16 block is all red.
    block = load_image(path, bbox=(18, 2, 12, 12))
    assert block.shape == (12, 12, 3)
    assert int(block[..., 0].min()) > 240 and int(block[..., 1:].max()) < 15


def test_grayscale_l_becomes_three_equal_channels(tmp_path: Path) -> None:
    gray = np.array([[0, 77], [200, 255]], dtype=np.uint8)
    out = load_image(_save(gray, tmp_path / "gray.png", "L"))
    assert out.shape == (2, 2, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], gray)


def _palette_image() -> Image.Image:
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    image.putpixel((0, 0), 0)  # index 0: red
    image.putpixel((1, 0), 1)  # index 1: green
    return image


def test_palette_without_transparency_maps_indices_to_colours(tmp_path: Path) -> None:
    path = tmp_path / "palette.png"
    _palette_image().save(path)
    assert load_image(path)[0].tolist() == [[255, 0, 0], [0, 255, 0]]


def test_palette_with_transparent_index_composites_on_black(tmp_path: Path) -> None:
    path = tmp_path / "palette_t.png"
    _palette_image().save(path, transparency=0)  # index 0 (red) is fully transparent
    assert load_image(path)[0].tolist() == [[0, 0, 0], [0, 255, 0]]


def test_palette_with_partial_alpha_composites_on_black(tmp_path: Path) -> None:
    path = tmp_path / "palette_a.png"
    _palette_image().save(path, transparency=bytes([128, 255]))  # red at alpha 128 of 255
    # 255 * 128 / 255 = 128 on a black background.
    assert load_image(path)[0].tolist() == [[128, 0, 0], [0, 255, 0]]


def test_transparent_colour_key_of_l_and_rgb_composites_on_black(tmp_path: Path) -> None:
    gray = _save(np.array([[10, 200]], np.uint8), tmp_path / "key_l.png", "L", transparency=10)
    rgb = np.array([[[10, 20, 30], [200, 100, 50]]], np.uint8)
    colour = _save(rgb, tmp_path / "key_rgb.png", transparency=(10, 20, 30))
    assert load_image(gray)[0].tolist() == [[0, 0, 0], [200, 200, 200]]
    assert load_image(colour)[0].tolist() == [[0, 0, 0], [200, 100, 50]]


def test_rgba_composites_on_black(tmp_path: Path) -> None:
    rgba = np.array([[[200, 100, 50, 128], [200, 100, 50, 0], [200, 100, 50, 255]]], np.uint8)
    out = load_image(_save(rgba, tmp_path / "rgba.png", "RGBA"))
    # alpha 128: 200 * 128/255 = 100.4, 100 * 128/255 = 50.2, 50 * 128/255 = 25.1
    assert out[0, 0].tolist() == pytest.approx([100, 50, 25], abs=1)
    assert out[0, 1].tolist() == [0, 0, 0]
    assert out[0, 2].tolist() == [200, 100, 50]


def test_la_composites_on_black(tmp_path: Path) -> None:
    la = np.array([[[200, 128], [200, 0], [200, 255]]], np.uint8)
    out = load_image(_save(la, tmp_path / "la.png", "LA"))
    assert out[0, 0].tolist() == pytest.approx([100, 100, 100], abs=1)
    assert out[0, 1].tolist() == [0, 0, 0]
    assert out[0, 2].tolist() == [200, 200, 200]


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    # CMYK (0, 255, 255, 0): no cyan, full magenta and yellow, no black -> red.
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=100)
    with Image.open(path) as image:
        assert image.mode == "CMYK"
    out = load_image(path)
    assert out.shape == (16, 16, 3)
    assert out[8, 8].tolist() == pytest.approx([255, 0, 0], abs=3)


def test_16_bit_grayscale_png_scales_to_8_bits(tmp_path: Path) -> None:
    path = _save(np.array([[0, 32768, 65535]], dtype=np.uint16), tmp_path / "deep.png")
    with Image.open(path) as image:
        assert image.mode == "I;16"
    # v / 65535 * 255 rounded: 0 -> 0, 32768 -> 127.5 -> 128, 65535 -> 255
    assert load_image(path)[0, :, 0].tolist() == [0, 128, 255]
    assert load_image(path)[0, 1].tolist() == [128, 128, 128]


def test_32_bit_integer_and_float_images(tmp_path: Path) -> None:
    small = _save(np.array([[0, 100, 255]], np.int32), tmp_path / "small.tiff", "I")
    assert load_image(small)[0, :, 0].tolist() == [0, 100, 255]  # fits 8 bits: kept
    wide = _save(np.array([[0, 1000, 65535]], np.int32), tmp_path / "wide.tiff", "I")
    assert load_image(wide)[0, :, 0].tolist() == [0, 4, 255]  # 1000/65535*255 = 3.9 -> 4
    floats = _save(np.array([[2.0, 3.0, 4.0]], np.float32), tmp_path / "f.tiff", "F")
    assert load_image(floats)[0, :, 0].tolist() == [0, 128, 255]  # min-max: 0, 0.5, 1


def test_bilevel_image(tmp_path: Path) -> None:
    path = _save(np.array([[False, True]]), tmp_path / "bits.png")
    assert load_image(path)[0].tolist() == [[0, 0, 0], [255, 255, 255]]


def test_truncated_jpeg_names_the_file_and_says_truncated(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = _save(noise, tmp_path / "whole.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 2])
    reason = _load_error(path)
    assert "truncated" in reason
    assert read_info(path).width == 64  # the header alone is intact


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert _load_error(path) == "the file is empty (0 bytes)"
    with pytest.raises(ImageLoadError, match="empty"):
        read_info(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert _load_error(tmp_path / "nowhere.jpg") == "file not found"
    assert _load_error(tmp_path) == "not a file"


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("hello, this is not a photo\n")
    assert _load_error(path).startswith("cannot decode the image")
    with pytest.raises(ImageLoadError, match="not a readable image"):
        read_info(path)


def _header_bomb(path: Path, width: int, height: int) -> Path:
    """A valid 1x1 PNG whose IHDR is rewritten to claim ``width`` x ``height`` (CRC fixed)."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every image whose pixels Pillow decodes (allocates) during the test."""
    calls: list[object] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        calls.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def test_png_bomb_is_refused_before_any_pixel_is_allocated(
    tmp_path: Path, decoded: list[object]
) -> None:
    path = _header_bomb(tmp_path / "bomb.png", 20_000, 20_000)
    assert path.stat().st_size < 100
    reason = _load_error(path)
    assert "20000x20000 = 400,000,000 pixels" in reason
    assert "decompression bomb" in reason
    assert decoded == []  # refused from the header: 400 MB were never allocated


def test_read_info_refuses_png_bomb_from_the_header(tmp_path: Path, decoded: list[object]) -> None:
    path = _header_bomb(tmp_path / "bomb.png", 20_000, 20_000)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        read_info(path)
    assert decoded == []


def test_max_pixels_limit_is_the_callers(tmp_path: Path) -> None:
    path = _save(np.zeros((10, 10, 3), np.uint8), tmp_path / "ten.png")
    assert load_image(path, max_pixels=100).shape == (10, 10, 3)
    assert "10x10 = 100 pixels is over the limit of 99" in _load_error(path, max_pixels=99)


def test_bbox_crops_exactly(tmp_path: Path) -> None:
    pixels = np.arange(8 * 10 * 3, dtype=np.uint8).reshape(8, 10, 3)
    path = _save(pixels, tmp_path / "grid.png")
    np.testing.assert_array_equal(load_image(path, bbox=(2, 3, 4, 2)), pixels[3:5, 2:6])


def test_bbox_is_clipped_to_the_image(tmp_path: Path) -> None:
    pixels = np.arange(8 * 10 * 3, dtype=np.uint8).reshape(8, 10, 3)
    path = _save(pixels, tmp_path / "grid.png")
    np.testing.assert_array_equal(load_image(path, bbox=(-5, -5, 8, 8)), pixels[0:3, 0:3])
    np.testing.assert_array_equal(load_image(path, bbox=(7, 6, 100, 100)), pixels[6:8, 7:10])


def test_bbox_wholly_outside_is_an_error(tmp_path: Path) -> None:
    path = _save(np.zeros((8, 10, 3), np.uint8), tmp_path / "grid.png")
    reason = _load_error(path, bbox=(20.0, 0.0, 5.0, 5.0))
    assert reason == "bbox 20,0,5,5 (x,y,w,h) lies outside the 10x8 image"


def test_image_problem_gives_the_code_data_check_uses(tmp_path: Path) -> None:
    path = _save(np.zeros((8, 10, 3), np.uint8), tmp_path / "grid.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("hello", encoding="utf-8")
    assert image_problem(path) is None
    assert image_problem(path, (2.0, 2.0, 4.0, 4.0)) is None
    assert image_problem(path, (20.0, 0.0, 5.0, 5.0)) == (
        "bbox_outside",
        "bbox 20,0,5,5 (x,y,w,h) lies outside the 10x8 image",
    )
    assert image_problem(tmp_path / "absent.png") == ("file_missing", "file not found")
    assert image_problem(tmp_path / "empty.png") == ("file_empty", "the file is empty (0 bytes)")
    code, _ = image_problem(tmp_path / "notes.png") or ("", "")
    assert code == "not_an_image"
    # A box of the image's own size, elsewhere: the file is probably the crop already.
    assert image_problem(path, (30.0, 40.0, 10.0, 8.0)) == (
        "bbox_outside",
        "bbox 30,40,10,8 (x,y,w,h) lies outside the 10x8 image; the box is the image's own "
        "size, so the image is probably already the crop",
    )


def test_crop_rounds_box_edges_to_the_nearest_pixel() -> None:
    pixels = np.arange(6 * 6, dtype=np.uint8).reshape(6, 6, 1)
    # x 1.4 -> 1, y 1.6 -> 2, right edge 1.4 + 2.2 = 3.6 -> 4, bottom 1.6 + 2.0 = 3.6 -> 4
    np.testing.assert_array_equal(crop(pixels, (1.4, 1.6, 2.2, 2.0)), pixels[2:4, 1:4])
    assert crop(pixels, (10, 10, 2, 2)).shape == (0, 0, 1)


def test_read_info_reads_the_header(tmp_path: Path) -> None:
    path = _save(np.zeros((20, 30), np.uint8), tmp_path / "gray.png", "L")
    assert read_info(path) == ImageInfo(width=30, height=20, format="PNG", mode="L")
    jpeg = _save(np.zeros((5, 7, 3), np.uint8), tmp_path / "rgb.jpg")
    assert read_info(jpeg) == ImageInfo(width=7, height=5, format="JPEG", mode="RGB")
