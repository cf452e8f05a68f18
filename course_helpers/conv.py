"""Convolution and pooling in plain NumPy, with exactly Keras's semantics.

These functions exist so a learner can see every number a convolution layer
computes. They match ``keras.layers.Conv2D``, ``MaxPooling2D`` and
``AveragePooling2D`` (TensorFlow backend) on a single image without a batch axis:

* images are ``(H, W)`` or ``(H, W, C)``, channels last;
* kernels are ``(kh, kw)``, ``(kh, kw, C)`` or ``(kh, kw, C, F)``, the layout of
  ``Conv2D.kernel``;
* like every deep-learning framework, ``conv2d`` computes cross-correlation
  (the kernel is not flipped);
* ``padding="same"`` follows TensorFlow: the output has ``ceil(n / stride)``
  rows, and when the total padding is odd the extra row (column) goes at the
  bottom (right).

Sliding windows come from ``numpy.lib.stride_tricks.sliding_window_view``, so
nothing loops over pixels in Python.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .arguments import check_int

__all__ = [
    "KERNELS",
    "output_size",
    "padding_amounts",
    "pad",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "receptive_field",
]


#: Classic hand-designed 3x3 kernels, as float arrays (kh, kw). The edge kernels
#: follow ``conv2d``'s cross-correlation: "sobel_x" is positive where the image
#: gets brighter from right to left, "sobel_y" where it gets brighter upwards.
KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "sobel_x": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float),
    "sobel_y": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
    "box_blur": np.ones((3, 3)) / 9,
    "gaussian_blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
}
for _kernel in KERNELS.values():
    _kernel.setflags(write=False)  # shared presets: nobody edits them by accident
del _kernel


# ----------------------------------------------------------------------------
# Argument checking: every helper speaks to a learner in the same words.
# ----------------------------------------------------------------------------
def _pair(value, name, minimum=1):
    """An int or a pair of ints -> a tuple (rows, cols)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (rows, cols); got {value!r}.")
        return (check_int(value[0], f"{name}[0]", minimum), check_int(value[1], f"{name}[1]", minimum))
    value = check_int(value, name, minimum)
    return value, value


def _check_padding(padding, allow_int=True):
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in ("valid", "same"):
            return mode
    elif allow_int and isinstance(padding, numbers.Integral) and not isinstance(padding, (bool, np.bool_)):
        return check_int(padding, "padding", 0)
    allowed = "'valid', 'same' or an int number of zeros per side" if allow_int else "'valid' or 'same'"
    raise ValueError(f"padding must be {allowed}; got {padding!r}.")


def _as_image(x, name="image"):
    """Return a (H, W, C) float or int array and whether the input was 2-D."""
    array = np.asarray(x)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold numbers (ints or floats); got dtype {array.dtype}.")
    if array.ndim == 4:
        raise ValueError(
            f"{name} has shape {array.shape}, which looks like a batch. These functions take one "
            f"image of shape (H, W) or (H, W, C): pass {name}[0]."
        )
    if array.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C); got shape {array.shape}.")
    if 0 in array.shape:
        raise ValueError(f"{name} is empty (shape {array.shape}).")
    was_2d = array.ndim == 2
    return (array[:, :, np.newaxis] if was_2d else array), was_2d


# ----------------------------------------------------------------------------
# Sizes and padding
# ----------------------------------------------------------------------------
def output_size(n, kernel_size, stride=1, padding="valid"):
    """Length of a convolution or pooling output along one axis.

    Parameters
    ----------
    n : int
        Input length (rows or columns), at least 1.
    kernel_size : int
        Window length, at least 1.
    stride : int, optional
        Step between windows, at least 1. Default 1.
    padding : {"valid", "same"} or int, optional
        ``"valid"``: no padding, ``floor((n - k) / s) + 1``.
        ``"same"``: TensorFlow's rule, ``ceil(n / s)``.
        An int ``p``: ``p`` zeros on each side, ``floor((n + 2p - k) / s) + 1``.

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ValueError
        If the stride is below 1, or the kernel is larger than the padded input.
    TypeError
        If a size is not an int.

    Examples
    --------
    >>> output_size(7, 3)
    5
    >>> output_size(7, 3, stride=2, padding="same")
    4
    >>> output_size(7, 3, padding=1)
    7
    """
    n = check_int(n, "n", 1)
    k = check_int(kernel_size, "kernel_size", 1)
    s = check_int(stride, "stride", 1)
    padding = _check_padding(padding)
    if padding == "same":
        return -(-n // s)  # ceil(n / s) in integers
    p = 0 if padding == "valid" else padding
    if k > n + 2 * p:
        raise ValueError(
            f"kernel_size {k} is larger than the padded input ({n} + 2*{p} = {n + 2 * p}): "
            f"there is no position where the window fits. Use a smaller kernel, more padding, "
            f"or padding='same'."
        )
    return (n + 2 * p - k) // s + 1


def padding_amounts(n, kernel_size, stride=1, padding="valid"):
    """Zeros added before and after the input along one axis.

    For ``"same"`` this is TensorFlow's rule: the total padding is
    ``max((out - 1) * s + k - n, 0)``, split as evenly as possible with the
    extra zero at the end (bottom or right).

    Parameters
    ----------
    n, kernel_size, stride, padding
        As in :func:`output_size`.

    Returns
    -------
    (int, int)
        ``(before, after)``.

    Examples
    --------
    >>> padding_amounts(6, 4, padding="same")
    (1, 2)
    >>> padding_amounts(7, 3, stride=2, padding="same")
    (1, 1)
    """
    out = output_size(n, kernel_size, stride, padding)  # validates everything
    padding = _check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((out - 1) * int(stride) + int(kernel_size) - int(n), 0)
        return total // 2, total - total // 2
    return padding, padding


def pad(x, p):
    """Zero-pad the two spatial axes of an image.

    Parameters
    ----------
    x : array_like, shape (H, W) or (H, W, C)
        The image. Channels (if any) are not padded.
    p : int or ((top, bottom), (left, right))
        Zeros to add: the same number on every side, or per side.

    Returns
    -------
    numpy.ndarray, shape (H + top + bottom, W + left + right[, C])
        Same dtype as ``x``.

    Examples
    --------
    >>> pad(np.ones((2, 2)), 1).shape
    (4, 4)
    >>> pad(np.ones((2, 2, 3)), ((0, 1), (0, 1))).shape
    (3, 3, 3)
    """
    image, was_2d = _as_image(x, "x")
    if isinstance(p, np.ndarray) and p.ndim > 0:
        p = p.tolist()
    if isinstance(p, (tuple, list)):
        if len(p) != 2 or not all(isinstance(side, (tuple, list)) and len(side) == 2 for side in p):
            raise ValueError(f"p must be an int or ((top, bottom), (left, right)); got {p!r}.")
        (top, bottom), (left, right) = (
            (check_int(p[0][0], "top padding", 0), check_int(p[0][1], "bottom padding", 0)),
            (check_int(p[1][0], "left padding", 0), check_int(p[1][1], "right padding", 0)),
        )
    else:
        top = bottom = left = right = check_int(p, "p", 0)
    padded = np.pad(image, ((top, bottom), (left, right), (0, 0)))
    return padded[:, :, 0] if was_2d else padded


def _pad_for(image, kernel_hw, stride_hw, padding, fill=0):
    """Pad an (H, W, C) image as a layer with this geometry would."""
    (kh, kw), (sh, sw) = kernel_hw, stride_hw
    top, bottom = padding_amounts(image.shape[0], kh, sh, padding)
    left, right = padding_amounts(image.shape[1], kw, sw, padding)
    if fill == 0:
        return pad(image, ((top, bottom), (left, right)))
    return np.pad(image, ((top, bottom), (left, right), (0, 0)), constant_values=fill)


def _windows(image, kernel_hw, stride_hw):
    """Strided view of every window: (H', W', C, kh, kw). No data is copied."""
    (kh, kw), (sh, sw) = kernel_hw, stride_hw
    return sliding_window_view(image, (kh, kw), axis=(0, 1))[::sh, ::sw]


# ----------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------
def conv2d(image, kernel, stride=1, padding="valid", bias=None):
    """2-D convolution (cross-correlation) of one image, as ``keras.layers.Conv2D``.

    Each output pixel is the sum, over the window and over the input channels,
    of window values times kernel weights, plus the bias.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
        Input image, channels last.
    kernel : array_like, shape (kh, kw), (kh, kw, C) or (kh, kw, C, F)
        One kernel (2-D for a 2-D image, 3-D with one slice per input channel),
        or F of them stacked on the last axis (``Conv2D.kernel`` layout).
    stride : int or (int, int), optional
        Step between windows, rows then columns. Default 1.
    padding : {"valid", "same"} or int, optional
        See :func:`output_size`. Default ``"valid"``.
    bias : float or array_like of shape (F,), optional
        Added to every output pixel (one value per filter).

    Returns
    -------
    numpy.ndarray
        ``(H', W')`` for a single kernel, ``(H', W', F)`` for a 4-D kernel, with
        ``H' = output_size(H, kh, stride, padding)``. Integer inputs give an
        int64 result (no wrap-around); otherwise float32, or float64 if an
        input is float64.

    Raises
    ------
    ValueError
        For shapes that do not fit together (the message says which).
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> image = np.arange(16).reshape(4, 4)
    >>> conv2d(image, np.ones((2, 2)))
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    x, image_was_2d = _as_image(image, "image")
    w = np.asarray(kernel)
    if w.dtype == object or not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
        raise TypeError(f"kernel must hold numbers; got dtype {w.dtype}.")
    channels = x.shape[2]
    if w.ndim == 2:
        if not image_was_2d and channels != 1:
            raise ValueError(
                f"a 2-D kernel {w.shape} fits a 2-D (grayscale) image, but the image has {channels} "
                f"channels. Give the kernel one slice per channel: shape {w.shape + (channels,)}."
            )
        w = w[:, :, np.newaxis, np.newaxis]
        single = True
    elif w.ndim == 3:
        w = w[:, :, :, np.newaxis]
        single = True
    elif w.ndim == 4:
        single = False
    else:
        raise ValueError(
            f"kernel must have shape (kh, kw), (kh, kw, C) or (kh, kw, C, F); got shape {w.shape}."
        )
    if 0 in w.shape:
        raise ValueError(f"kernel is empty (shape {np.asarray(kernel).shape}).")
    if w.shape[2] != channels:
        raise ValueError(
            f"the kernel has {w.shape[2]} input channel(s) (axis 2 of shape {np.asarray(kernel).shape}) "
            f"but the image has {channels}: they must match, one kernel slice per image channel."
        )
    kernel_hw = w.shape[:2]
    stride_hw = _pair(stride, "stride")
    for axis, (n, k, s) in enumerate(zip(x.shape[:2], kernel_hw, stride_hw)):
        try:
            output_size(n, k, s, padding)
        except ValueError as err:
            raise ValueError(f"along {'rows' if axis == 0 else 'columns'}: {err}") from None

    # Small integer types would wrap around (uint8: 200 * 4 = 32); Keras computes in float.
    # Integers are summed as int64 and floats in at least float32.
    if np.issubdtype(x.dtype, np.integer) and np.issubdtype(w.dtype, np.integer):
        x, w = x.astype(np.int64, copy=False), w.astype(np.int64, copy=False)
    else:
        common = np.result_type(x.dtype, w.dtype, np.float32)
        x, w = x.astype(common, copy=False), w.astype(common, copy=False)
    windows = _windows(_pad_for(x, kernel_hw, stride_hw, padding), kernel_hw, stride_hw)
    # windows: (H', W', C, kh, kw); kernel: (kh, kw, C, F) -> sum over C, kh, kw.
    out = np.tensordot(windows, w.transpose(2, 0, 1, 3), axes=([2, 3, 4], [0, 1, 2]))

    if bias is not None:
        b = np.asarray(bias)
        if b.dtype == object or not (np.issubdtype(b.dtype, np.integer) or np.issubdtype(b.dtype, np.floating)):
            raise TypeError(f"bias must be a number or an array of numbers; got dtype {b.dtype}.")
        filters = out.shape[-1]
        if b.ndim == 0:
            b = np.full(filters, b)
        if b.shape != (filters,):
            raise ValueError(f"bias must be one number per filter, shape ({filters},); got shape {b.shape}.")
        out = out + b
    return out[:, :, 0] if single else out


# ----------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------
def _pool_geometry(x, pool_size, stride, padding):
    image, was_2d = _as_image(x, "x")
    pool_hw = _pair(pool_size, "pool_size")
    stride_hw = pool_hw if stride is None else _pair(stride, "stride")
    padding = _check_padding(padding, allow_int=False)
    for axis, (n, k, s) in enumerate(zip(image.shape[:2], pool_hw, stride_hw)):
        try:
            output_size(n, k, s, padding)
        except ValueError as err:
            raise ValueError(f"along {'rows' if axis == 0 else 'columns'}: {err}") from None
    return image, was_2d, pool_hw, stride_hw, padding


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Max pooling of one image, as ``keras.layers.MaxPooling2D``.

    Parameters
    ----------
    x : array_like, shape (H, W) or (H, W, C)
        Input; each channel is pooled on its own.
    pool_size : int or (int, int), optional
        Window size. Default 2.
    stride : int or (int, int), optional
        Step between windows. Default: ``pool_size`` (windows do not overlap).
    padding : {"valid", "same"}, optional
        With ``"same"`` the padded cells never win the max. Default ``"valid"``.

    Returns
    -------
    numpy.ndarray, shape (H', W') or (H', W', C)
        Same dtype as ``x``.

    Examples
    --------
    >>> max_pool2d(np.arange(16).reshape(4, 4))
    array([[ 5,  7],
           [13, 15]])
    """
    image, was_2d, pool_hw, stride_hw, padding = _pool_geometry(x, pool_size, stride, padding)
    if padding == "same":
        lowest = np.finfo(image.dtype).min if np.issubdtype(image.dtype, np.floating) else np.iinfo(image.dtype).min
        image = _pad_for(image, pool_hw, stride_hw, "same", fill=lowest)
    out = _windows(image, pool_hw, stride_hw).max(axis=(3, 4))
    return out[:, :, 0] if was_2d else out


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Average pooling of one image, as ``keras.layers.AveragePooling2D``.

    Parameters
    ----------
    x : array_like, shape (H, W) or (H, W, C)
        Input; each channel is pooled on its own.
    pool_size : int or (int, int), optional
        Window size. Default 2.
    stride : int or (int, int), optional
        Step between windows. Default: ``pool_size``.
    padding : {"valid", "same"}, optional
        With ``"same"``, padded cells are left out of the mean (each border
        window is divided by the number of real pixels in it), as Keras does.

    Returns
    -------
    numpy.ndarray of float, shape (H', W') or (H', W', C)

    Examples
    --------
    >>> avg_pool2d(np.arange(16).reshape(4, 4))
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    image, was_2d, pool_hw, stride_hw, padding = _pool_geometry(x, pool_size, stride, padding)
    float_type = image.dtype if np.issubdtype(image.dtype, np.floating) else np.float64
    image = image.astype(float_type, copy=False)
    sums = _windows(_pad_for(image, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(3, 4))
    real = np.ones(image.shape[:2] + (1,), dtype=float_type)
    counts = _windows(_pad_for(real, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(3, 4))
    out = sums / counts
    return out[:, :, 0] if was_2d else out


def receptive_field(layers):
    """Receptive field of one unit at the top of a stack of conv/pool layers.

    Going up the stack, each layer widens the field by ``(k - 1) * jump`` input
    pixels, where the jump (the distance in input pixels between neighbouring
    units) is the product of the strides below it.

    Parameters
    ----------
    layers : sequence of (kernel_size, stride)
        From the input upwards.

    Returns
    -------
    (int, int)
        ``(size, jump)``: the field's side in input pixels, and the jump of the top layer.

    Examples
    --------
    >>> receptive_field([(3, 1), (2, 2), (3, 1)])
    (8, 2)
    """
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (check_int(kernel, "kernel_size", 1) - 1) * jump
        jump *= check_int(stride, "stride", 1)
    return size, jump
