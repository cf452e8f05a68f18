"""Loading images: any real-world file in, float32 RGB in [0, 1] out.

Learners upload all kinds of files: phone photos with an EXIF rotation,
transparent PNGs, palette GIFs, CMYK JPEGs, 16-bit scans, half-downloaded
files, web addresses. :func:`load_image` turns every image it can read into the
same thing, an (H, W, 3) float32 array in [0, 1], and answers everything else
with a ``ValueError`` that says what was wrong and what to do.
"""
import io
import os
import re
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["load_image", "sample_image", "cat_image", "luminance", "gaussian_taps", "gaussian_blur", "SAMPLES"]

#: ITU-R BT.601 weights of red, green and blue in perceived brightness.
LUMINANCE_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

#: Bundled sample images: name -> file in the package's ``samples`` folder (sources and licences
#: in its README.md). They are package data, so an installed wheel has them too.
SAMPLES = {"cat": "chelsea.png", "astronaut": "astronaut.png", "horse": "horse.png"}

MAX_SIDE = 10_000  # the largest size= a learner can ask for
_URL = re.compile(r"^(https?|ftp|file|s3|gs)://|^www\.", re.IGNORECASE)
_FORMATS = "PNG, JPEG, GIF, BMP, TIFF or WebP"


# ----------------------------------------------------------------------------
# Reading each kind of source into a PIL image (or an array)
# ----------------------------------------------------------------------------
def _describe(source):
    text = str(source)
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _open_path(source):
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if _URL.match(text.strip()):
        raise ValueError(
            f"{_describe(text)} is a web address, not a file. Download it first (in a notebook: "
            f"path = keras.utils.get_file(origin=url)), then pass the downloaded file's path."
        )
    path = Path(text).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValueError(f"there is no file at {_describe(text)}. Check the spelling and the folder "
                         f"(the notebook runs in {Path.cwd().name!r}); relative paths start there.") from None
    except OSError as error:
        raise ValueError(f"cannot read {_describe(text)}: {error.strerror or error}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{_describe(text)} is a folder, not an image file. Pass the path of one image inside it.")
    if not stat.S_ISREG(info.st_mode):
        # A pipe or a device could block forever or never end: only regular files are read.
        raise ValueError(f"{_describe(text)} is not a regular file (a device or a pipe?). Pass an image file.")
    if info.st_size == 0:
        raise ValueError(f"{_describe(text)} is empty (0 bytes): the download or copy did not finish. "
                         f"Get the file again.")
    with open(path, "rb") as handle:
        return _decode(handle, f"the file {_describe(text)}")


def _decode(stream, what):
    """Decode an image from a binary stream into a fully loaded PIL image.

    Pillow's decompression-bomb guard stays on, and its warning level (more
    than ``Image.MAX_IMAGE_PIXELS`` pixels) counts as an error too: such an
    image would not fit a learner's memory as float32.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as opened:
                opened.load()
                image = opened.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(
            f"{what} is too large to load safely ({error}). Make a smaller copy first, "
            f"for example at most 4000 pixels on each side."
        ) from None
    except UnidentifiedImageError:
        raise ValueError(f"{what} is not an image that Pillow can read. Use a {_FORMATS} file.") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
        if "truncated" in str(error).lower() or isinstance(error, EOFError):
            raise ValueError(f"{what} is truncated: it stops before the end of the image, as after an "
                             f"interrupted download. Get the file again.") from None
        raise ValueError(f"{what} is damaged and cannot be decoded ({error}). Try another copy of the image, "
                         f"or re-save it as PNG or JPEG.") from None
    if image.width == 0 or image.height == 0:
        raise ValueError(f"{what} has zero size ({image.width}x{image.height} pixels).")
    return image


def _from_bytes(data):
    if len(data) == 0:
        raise ValueError("the image data is empty (0 bytes): the upload or download did not finish.")
    return _decode(io.BytesIO(bytes(data)), "the image data")


def _from_file_object(handle):
    if isinstance(handle, io.TextIOBase):
        raise TypeError("the file was opened in text mode. Open it in binary mode: open(path, 'rb').")
    data = handle.read()
    if isinstance(data, str):
        raise TypeError("the file object returns text, not bytes. Open the file in binary mode: open(path, 'rb').")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"the file object's read() returned {type(data).__name__}, not bytes.")
    return _from_bytes(data)


# ----------------------------------------------------------------------------
# Turning a PIL image or an array into float32 RGB in [0, 1]
# ----------------------------------------------------------------------------
def _composite_on_white(rgb, alpha):
    """Blend an (H, W, 3) image over white using an (H, W) alpha in [0, 1]."""
    alpha = alpha[:, :, np.newaxis]
    return rgb * alpha + (1.0 - alpha)


def _pil_to_float_rgb(image):
    """Any PIL mode -> float32 (H, W, 3) in [0, 1]."""
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit (and 32-bit integer) grayscale: Pillow keeps the full range.
        values = np.asarray(image, dtype=np.float64)
        full_scale = 65535.0 if values.max(initial=0) <= 65535 else float(values.max())
        gray = np.clip(values / full_scale, 0.0, 1.0)
        return np.repeat(gray[:, :, np.newaxis], 3, axis=2).astype(np.float32)
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("the image contains NaN or infinite pixel values.")
        low, high = values.min(), values.max()
        gray = values if (low >= 0 and high <= 1) else (values - low) / ((high - low) or 1.0)
        return np.repeat(gray[:, :, np.newaxis], 3, axis=2).astype(np.float32)
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info) \
        or (mode in ("L", "RGB") and "transparency" in image.info)
    try:
        if has_alpha:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
            return _composite_on_white(rgba[:, :, :3], rgba[:, :, 3]).astype(np.float32)
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except ValueError as error:  # a mode Pillow cannot convert, such as LAB
        raise ValueError(f"images in Pillow's {mode!r} mode cannot be converted to RGB ({error}). "
                         f"Re-save the image as PNG or JPEG.") from None


def _array_to_float_rgb(array):
    """A NumPy image (uint8 0-255 or float 0-1; (H, W) or (H, W, 1|3|4)) -> float32 (H, W, 3)."""
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif np.issubdtype(array.dtype, np.floating):
        if np.isnan(array).any():
            raise ValueError("the array contains NaN values. Replace them first, e.g. np.nan_to_num(array).")
        if np.isinf(array).any():
            raise ValueError("the array contains infinite values. Clip it to [0, 1] first.")
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 1:
            hint = " It looks like 0-255 values: divide by 255." if high <= 255 and low >= 0 else ""
            raise ValueError(f"a float image must have values in [0, 1]; this one runs from {low:g} to {high:g}.{hint}")
        values = array.astype(np.float32)
    else:
        hint = ""
        if np.issubdtype(array.dtype, np.integer) and array.size and 0 <= array.min() and array.max() <= 255:
            hint = " Its values fit 0-255: use array.astype(np.uint8)."
        raise ValueError(f"an image array must be uint8 (0-255) or float (0-1); got dtype {array.dtype}.{hint}")
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    if values.ndim != 3 or values.shape[2] not in (1, 3, 4):
        batch_hint = " It looks like a batch: pass one image, e.g. array[0]." if values.ndim == 4 else ""
        raise ValueError(
            f"an image array must be (H, W) or (H, W, C) with 1, 3 or 4 channels; got shape {array.shape}.{batch_hint}"
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"the image array is empty (shape {array.shape}).")
    if values.shape[2] == 1:
        return np.repeat(values, 3, axis=2)
    if values.shape[2] == 4:
        return _composite_on_white(values[:, :, :3], values[:, :, 3]).astype(np.float32)
    return values


def _parse_size(size):
    if isinstance(size, (bool, np.bool_)):
        raise ValueError(f"size must be an int or (height, width); got {size!r}.")
    if isinstance(size, (int, np.integer)):
        height = width = int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in size
    ):
        height, width = (int(s) for s in size)
    else:
        raise ValueError(f"size must be an int (a square) or a pair (height, width) of ints; got {size!r}.")
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise ValueError(f"each side of size must be between 1 and {MAX_SIDE} pixels; got {size!r}.")
    return height, width


def _resize(rgb, height, width):
    """Resize each channel with Pillow's Lanczos filter, in float (no 8-bit rounding)."""
    if rgb.shape[:2] == (height, width):
        return rgb
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(rgb[:, :, c]), mode="F").resize(
            (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0))
        for c in range(3)
    ]
    # Lanczos overshoots a little at sharp edges; keep the promised range.
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------
def load_image(source, size=None):
    """Load any image as float32 RGB in [0, 1].

    Parameters
    ----------
    source : str, pathlib.Path, bytes, binary file object, PIL.Image.Image or numpy.ndarray
        A file path; the bytes of an image file (e.g. an upload widget's
        content); an open binary file; a PIL image; or an array, uint8 0-255
        or float 0-1, of shape (H, W) or (H, W, C) with C = 1, 3 or 4.
    size : int or (int, int), optional
        Resize to a square of this side, or to (height, width), with a
        Lanczos filter. Default: keep the original size.

    Returns
    -------
    numpy.ndarray of float32, shape (H, W, 3), values in [0, 1]
        EXIF orientation applied. Grayscale and palette images become RGB;
        transparent pixels (LA, RGBA, palette transparency) are composited on
        white; CMYK is converted to RGB; 16-bit images keep their full range.

    Raises
    ------
    ValueError
        If the source cannot be read as an image: a missing path or a folder,
        a web address, an empty, truncated or non-image file, an image with
        zero size or too many pixels, an array of the wrong shape or dtype or
        with NaN. The message says what was wrong and what to do.
    TypeError
        If ``source`` is none of the kinds above, or a file opened in text mode.

    Examples
    --------
    >>> load_image(np.zeros((2, 3), dtype=np.uint8)).shape
    (2, 3, 3)
    >>> float(load_image(np.full((4, 4, 4), 0.0)).max())  # fully transparent -> white
    1.0
    """
    target = None if size is None else _parse_size(size)
    if isinstance(source, Image.Image):
        rgb = _pil_to_float_rgb(source)
    elif isinstance(source, np.ndarray):
        rgb = _array_to_float_rgb(source)
    elif isinstance(source, (str, os.PathLike)):
        rgb = _pil_to_float_rgb(_open_path(source))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        rgb = _pil_to_float_rgb(_from_bytes(source))
    elif hasattr(source, "read"):
        rgb = _pil_to_float_rgb(_from_file_object(source))
    else:
        raise TypeError(
            f"cannot load an image from {type(source).__name__}. Pass a file path, the file's bytes, an open "
            f"binary file, a PIL image or a NumPy array."
        )
    if target is not None:
        rgb = _resize(rgb, *target)
    return np.ascontiguousarray(rgb, dtype=np.float32)


def sample_image(name, size=None):
    """Load one of the course's bundled sample images.

    Parameters
    ----------
    name : {"cat", "astronaut", "horse"}
        ``"cat"``: Chelsea the cat, 300x451 (scikit-image, CC0).
        ``"astronaut"``: Eileen Collins, 512x512 (NASA, public domain).
        ``"horse"``: a horse silhouette, 328x400 (scikit-image, CC0).
    size : int or (int, int), optional
        As in :func:`load_image`.

    Returns
    -------
    numpy.ndarray of float32, shape (H, W, 3), values in [0, 1]
    """
    from importlib import resources

    if name not in SAMPLES:
        raise ValueError(f"there is no sample image called {name!r}. Choose one of {sorted(SAMPLES)}.")
    resource = resources.files("course_helpers.samples") / SAMPLES[name]
    if not resource.is_file():
        raise ValueError(f"the sample image {SAMPLES[name]!r} is missing from the course_helpers package: "
                         f"reinstall it (pip install --force-reinstall), or use a fresh clone of the course.")
    return load_image(resource.read_bytes(), size)


def cat_image(size=None):
    """Chelsea the cat, the course's test photo: float32 (300, 451, 3) in [0, 1].

    Parameters
    ----------
    size : int or (int, int), optional
        As in :func:`load_image`.
    """
    return sample_image("cat", size)


def luminance(rgb):
    """Perceived brightness (ITU-R BT.601) of RGB values: (..., 3) -> (...), in the input's range."""
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"luminance needs RGB values, an array whose last axis has 3 entries; got shape {rgb.shape}.")
    return rgb @ LUMINANCE_WEIGHTS


def gaussian_taps(sigma, radius=None):
    """The 1-D Gaussian filter of standard deviation ``sigma`` pixels, summing to 1.

    Parameters
    ----------
    sigma : float
        In pixels, above 0.
    radius : int, optional
        Taps on each side of the centre. Default: 3 sigma, rounded.

    Returns
    -------
    numpy.ndarray of float32, shape (2 * radius + 1,)
    """
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number of pixels; got {sigma!r}.")
    radius = max(1, int(round(3 * sigma))) if radius is None else int(radius)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


def gaussian_blur(image, sigma):
    """A Gaussian blur of an image, channel by channel, with reflected edges.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
    sigma : float
        Standard deviation in pixels.

    Returns
    -------
    numpy.ndarray of float32, the shape of ``image``
    """
    from numpy.lib.stride_tricks import sliding_window_view

    taps = gaussian_taps(sigma)
    radius = len(taps) // 2
    picture = np.asarray(image, dtype=np.float32)
    if picture.ndim not in (2, 3):
        raise ValueError(f"gaussian_blur needs an (H, W) or (H, W, C) image; got shape {picture.shape}.")
    for axis in (0, 1):  # separable: rows, then columns
        widths = [(0, 0)] * picture.ndim
        widths[axis] = (radius, radius)
        padded = np.pad(picture, widths, mode="reflect")
        windows = sliding_window_view(padded, len(taps), axis=axis)  # the window is the last axis
        picture = (windows @ taps).astype(np.float32)
    return picture
