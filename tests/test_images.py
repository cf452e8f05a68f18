"""course_helpers.images.load_image: every kind of source, every colour mode, every bad input.

All test images are made here with Pillow, so each expected pixel value is known.
"""
import gc
import io
import os
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_helpers import images
from course_helpers.images import load_image

RED, WHITE = (1.0, 0.0, 0.0), (1.0, 1.0, 1.0)


def encoded(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient_rgb(height=6, width=10):
    """An RGB image whose every pixel is different: R by column, G by row, B constant."""
    rows, cols = np.mgrid[0:height, 0:width]
    array = np.stack([cols * 255 // (width - 1), rows * 255 // (height - 1), np.full_like(rows, 200)], axis=2)
    array = array.astype(np.uint8)
    return Image.fromarray(array), array


# ----------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------
def test_every_kind_of_source_gives_the_same_array(tmp_path):
    image, array = gradient_rgb()
    expected = array.astype(np.float32) / 255
    data = encoded(image)
    path = tmp_path / "gradient.png"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        from_open_file = load_image(handle)
    sources = {
        "str path": str(path), "Path": path, "bytes": data, "bytearray": bytearray(data),
        "memoryview": memoryview(data), "BytesIO": io.BytesIO(data), "PIL image": image,
        "uint8 array": array, "float array": expected.astype(np.float64),
    }
    for name, source in sources.items():
        result = load_image(source)
        assert result.dtype == np.float32 and result.shape == (6, 10, 3), name
        np.testing.assert_array_equal(result, expected, err_msg=name)
    np.testing.assert_array_equal(from_open_file, expected)


def test_jpeg_round_trip_is_close():
    image, array = gradient_rgb(32, 32)
    result = load_image(encoded(image, "JPEG", quality=95))
    assert np.abs(result - array / 255).mean() < 0.02


def test_arrays_with_one_three_or_four_channels_and_grayscale():
    gray = np.array([[0, 128, 255]], dtype=np.uint8)
    for source in [gray, gray[:, :, np.newaxis]]:
        result = load_image(source)
        np.testing.assert_allclose(result[0, :, 0], [0, 128 / 255, 1])
        assert (result[..., 0] == result[..., 1]).all() and (result[..., 1] == result[..., 2]).all()
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, :, 0] = 255                       # red ...
    rgba[0, :, 3] = [0, 255, 128]             # ... transparent, opaque, half
    result = load_image(rgba)
    np.testing.assert_allclose(result[0, 0], WHITE)
    np.testing.assert_allclose(result[0, 1], RED)
    np.testing.assert_allclose(result[0, 2], [1, 1 - 128 / 255, 1 - 128 / 255], atol=1e-6)


# ----------------------------------------------------------------------------
# colour modes, through real encoded files
# ----------------------------------------------------------------------------
def test_grayscale_and_one_bit_images_become_gray_rgb():
    gray = Image.fromarray(np.array([[0, 100, 255]], dtype=np.uint8), mode="L")
    np.testing.assert_allclose(load_image(encoded(gray))[0, :, 1], [0, 100 / 255, 1])
    bits = Image.fromarray(np.array([[0, 1, 1]], dtype=bool))
    np.testing.assert_array_equal(load_image(encoded(bits))[0, :, 0], [0, 1, 1])


def test_palette_images_use_their_palette_and_transparency():
    palette = Image.new("P", (3, 1))
    palette.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0] + [0] * (256 * 3 - 9))
    palette.putdata([0, 1, 2])
    np.testing.assert_allclose(load_image(encoded(palette))[0], [RED, (0, 0, 1), (0, 1, 0)])
    # Palette index 1 marked transparent: that pixel becomes white (GIF-style transparency).
    np.testing.assert_allclose(load_image(encoded(palette, transparency=1))[0], [RED, WHITE, (0, 1, 0)])
    np.testing.assert_allclose(load_image(encoded(palette, "GIF", transparency=1))[0], [RED, WHITE, (0, 1, 0)])


def test_alpha_is_composited_on_white_for_la_and_rgba():
    la = Image.fromarray(np.array([[[0, 0], [0, 255], [0, 51]]], dtype=np.uint8), mode="LA")
    np.testing.assert_allclose(load_image(encoded(la))[0, :, 0], [1, 0, 1 - 51 / 255], atol=1e-6)
    rgba = Image.fromarray(np.array([[[255, 0, 0, 0], [255, 0, 0, 255]]], dtype=np.uint8), mode="RGBA")
    np.testing.assert_allclose(load_image(encoded(rgba))[0], [WHITE, RED])


def test_cmyk_is_converted_to_rgb():
    cmyk = Image.new("CMYK", (2, 1))
    cmyk.putdata([(255, 0, 0, 0), (0, 0, 0, 255)])  # pure cyan, pure black
    for source in [cmyk, encoded(cmyk, "JPEG", quality=100), encoded(cmyk, "TIFF")]:
        result = load_image(source)
        np.testing.assert_allclose(result[0], [(0, 1, 1), (0, 0, 0)], atol=0.03)


def test_sixteen_bit_images_keep_their_full_range():
    deep = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    data = encoded(Image.fromarray(deep))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    np.testing.assert_allclose(load_image(data)[0, :, 0], deep[0] / 65535, atol=1e-6)
    np.testing.assert_allclose(load_image(encoded(Image.fromarray(deep), "TIFF"))[0, :, 2], deep[0] / 65535, atol=1e-6)


def test_exif_orientation_is_applied():
    image, _ = gradient_rgb(20, 40)                    # wide: 20 rows, 40 columns
    exif = Image.Exif()
    exif[0x0112] = 6                                     # "rotate 90 degrees clockwise to display"
    result = load_image(encoded(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert result.shape == (40, 20, 3)                   # displayed upright: tall
    upright = load_image(image).transpose(1, 0, 2)[:, ::-1]  # the same rotation by hand
    assert np.abs(result - upright).mean() < 0.03


def test_resizing_to_a_square_or_to_height_width():
    image, _ = gradient_rgb(60, 100)
    assert load_image(image, size=32).shape == (32, 32, 3)
    resized = load_image(image, size=(30, 50))
    assert resized.shape == (30, 50, 3) and resized.min() >= 0 and resized.max() <= 1
    # A good filter keeps a smooth gradient smooth: halving it changes the mean by little.
    assert abs(resized.mean() - load_image(image).mean()) < 0.01
    sharp = np.zeros((40, 40), dtype=np.uint8)
    sharp[:, 20:] = 255
    assert load_image(sharp, size=17).max() <= 1.0  # Lanczos overshoot is clipped


def test_bundled_samples():
    cat = images.cat_image()
    assert cat.shape == (300, 451, 3) and cat.dtype == np.float32 and 0 <= cat.min() and cat.max() <= 1
    assert images.cat_image(size=64).shape == (64, 64, 3)
    assert images.sample_image("astronaut").shape == (512, 512, 3)
    horse = images.sample_image("horse")  # a transparent silhouette: the background becomes white
    assert horse.shape == (328, 400, 3) and (horse == 1.0).all(axis=2).mean() > 0.3
    with pytest.raises(ValueError, match="Choose one of"):
        images.sample_image("dog")


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(images, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


# ----------------------------------------------------------------------------
# bad input: always a ValueError (or TypeError for a wrong kind of object) that says what to do
# ----------------------------------------------------------------------------
def noise_png(size=64):
    """An incompressible PNG (a few kilobytes), so that cutting it really truncates the pixels."""
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return encoded(Image.fromarray(noise))


def png_with_header(width, height):
    """A PNG whose header claims this size (the pixel data is not there)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


BAD_INPUTS = {
    "text bytes": (b"this is not an image", "not an image"),
    "a zip file": (b"PK\x03\x04" + bytes(100), "not an image"),
    "truncated png": ("truncated", "truncated"),
    "empty bytes": (b"", "empty"),
    "zero-size png": (png_with_header(0, 10), "Use a PNG"),
    "decompression bomb": (png_with_header(100_000, 100_000), "too large"),
    "just over the warning limit": (png_with_header(10_000, 9_000), "too large"),
    "url": ("https://example.com/cat.jpg", "Download it first"),
    "www url": ("www.example.com/cat.png", "web address"),
    "missing path": ("no/such/cat.png", "there is no file"),
    "4-D array": (np.zeros((1, 4, 4, 3), np.uint8), "looks like a batch"),
    "2 channels": (np.zeros((4, 4, 2), np.uint8), "1, 3 or 4 channels"),
    "1-D array": (np.zeros(5, np.uint8), "(H, W)"),
    "empty array": (np.zeros((0, 4, 3), np.uint8), "empty"),
    "int64 array": (np.zeros((4, 4), np.int64), "astype(np.uint8)"),
    "uint16 array": (np.zeros((4, 4), np.uint16), "uint8 (0-255) or float (0-1)"),
    "bool array": (np.zeros((4, 4), bool), "dtype bool"),
    "object array": (np.array([[None]]), "dtype object"),
    "NaN array": (np.full((4, 4), np.nan), "NaN"),
    "inf array": (np.full((4, 4), np.inf), "infinite"),
    "0-255 floats": (np.full((4, 4), 200.0), "divide by 255"),
    "negative floats": (np.full((4, 4), -0.5), "[0, 1]"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gives_a_value_error_that_says_what_to_do(name):
    source, words = BAD_INPUTS[name]
    if isinstance(source, str) and source == "truncated":
        data = noise_png()
        source = data[: len(data) // 2]
    with pytest.raises(ValueError) as info:
        load_image(source)
    assert words in str(info.value)
    assert str(info.value)[0].islower() or str(info.value)[0] in "'\"", "messages read as sentences after 'ValueError:'"


def test_bad_files_on_disk(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("a shopping list")
    truncated = tmp_path / "half.png"
    truncated.write_bytes(noise_png()[:3000])
    for path, words in [(empty, "empty (0 bytes)"), (text, "not an image"), (truncated, "truncated"),
                        (tmp_path, "is a folder"), (tmp_path / "missing.jpg", "there is no file")]:
        with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
            load_image(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_a_pipe_or_device_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        load_image(fifo)  # opening a pipe would block forever
    if Path("/dev/zero").exists():
        with pytest.raises(ValueError, match="not a regular file"):
            load_image("/dev/zero")  # reading it would never end


@pytest.mark.parametrize("size", [0, -3, 10_001, (10, 0), (1, 2, 3), 2.5, "big", True, (3.0, 4)])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        load_image(np.zeros((4, 4), np.uint8), size=size)


@pytest.mark.parametrize("source, words", [(42, "cannot load an image from int"), (None, "from NoneType"),
                                           (io.StringIO("x"), "binary mode")])
def test_wrong_kind_of_object_is_a_type_error(source, words):
    with pytest.raises(TypeError, match=words):
        load_image(source)


def test_a_text_mode_file_is_refused_with_advice(tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(encoded(gradient_rgb()[0]))
    with open(path) as handle, pytest.raises(TypeError, match=r"open\(path, 'rb'\)"):
        load_image(handle)


# ----------------------------------------------------------------------------
# no file handle is left open, even when loading fails
# ----------------------------------------------------------------------------
def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_no_file_handle_stays_open(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(encoded(gradient_rgb()[0]))
    broken = tmp_path / "broken.png"
    broken.write_bytes(noise_png()[:3000])
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_with_header(100_000, 100_000))
    load_image(good)  # warm up imports and plugins
    gc.collect()
    before = open_descriptors()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        for _ in range(5):
            load_image(good, size=8)
            for path in [broken, bomb]:
                with pytest.raises(ValueError):
                    load_image(path)
        gc.collect()
    assert open_descriptors() == before
