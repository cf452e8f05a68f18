"""Checkers for Notebook 02 (padding, stride and pooling)."""
import numbers

import numpy as np

from .. import conv
from .answers import as_int, as_number_array, call, contains_none, function_checker, verdict

__all__ = ["check_output_size", "check_same_padding", "check_receptive_field", "check_my_max_pool",
           "check_fully_read_sizes"]


def check_output_size(answer):
    """Exercise: a 224x224 input, a 7x7 kernel, stride 2, 3 zeros of padding per side."""
    value = as_int(answer, "The output size")
    if value is None:
        return
    n, k, s, p = 224, 7, 2, 3
    expected = conv.output_size(n, k, s, p)
    if value == expected:
        verdict(True, "floor((224 + 2*3 - 7) / 2) + 1. This is the first layer of ResNet.")
    elif value == -(-(n + 2 * p - k) // s) + 1:
        verdict(False, "a window either fits or it does not: round the division down, not up.")
    elif value == (n + 2 * p - k) // s:
        verdict(False, "you counted the steps between windows; count the windows (one more).")
    elif value == (n - k) // s + 1:
        verdict(False, "the padding adds 3 zeros on each side of the input before the window slides.")
    elif value in ((n + 2 * p - k) + 1, n):
        verdict(False, "with stride 2 the window jumps two pixels at a time.")
    else:
        verdict(False, "use section 1's output-size formula. Which of n, p, k and s are given here, and did "
                        "your arithmetic use each one?")


def check_same_padding(answer):
    """Exercise: (top, bottom) zeros TensorFlow adds for 'same', n = 10, k = 4, stride 3."""
    if contains_none(answer):
        verdict(False, "replace None with your (top, bottom) pair, then run the cell again.")
        return
    whole = lambda v: isinstance(v, numbers.Integral) or (isinstance(v, numbers.Real) and float(v).is_integer())
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2 \
            or not all(whole(v) and not isinstance(v, (bool, np.bool_)) for v in answer):
        verdict(False, f"answer with a pair of whole numbers (top, bottom), like (0, 1); got {answer!r}.")
        return
    top, bottom = (int(v) for v in answer)
    expected = conv.padding_amounts(10, 4, 3, "same")
    if (top, bottom) == expected:
        verdict(True, "ceil(10/3) = 4 outputs need (4 - 1)*3 + 4 = 13 rows: 3 zeros, the odd one at the bottom.")
    elif (bottom, top) == expected:
        verdict(False, "the total is right, but TensorFlow puts the odd extra zero at the bottom (and right).")
    elif top + bottom == sum(expected):
        verdict(False, "the total is right; split it as evenly as possible.")
    else:
        verdict(False, "first find the output size for 'same' (ceil(n / s)); then the rows the windows span: "
                        "(out - 1)*s + k. The padding is what is missing from n.")


def check_receptive_field(answer):
    """Exercise: receptive field of conv3x3 -> conv3x3 -> maxpool 2x2/2 -> conv3x3."""
    value = as_int(answer, "The receptive field")
    if value is None:
        return
    size, jump = 1, 1
    for kernel, stride in [(3, 1), (3, 1), (2, 2), (3, 1)]:
        size, jump = size + (kernel - 1) * jump, jump * stride
    if value == size:
        verdict(True, "3 -> 5 -> 6 -> 6 + 2*2: after the pool, neighbours are two input pixels apart.")
    elif value == 8:
        verdict(False, "after the 2x2 pool, how far apart in the input are two neighbouring units? The last "
                        "3x3 conv widens the field by (k - 1) times that distance, not by k - 1.")
    elif value < size:
        verdict(False, "grow the field layer by layer: r += (k - 1) x jump, then jump *= stride.")
    else:
        verdict(False, "that is too large. Each layer adds (k - 1) x jump pixels, where jump is the product of "
                        "the strides of the layers before it.")


@function_checker
def check_my_max_pool(my_max_pool):
    """Exercise: ``my_max_pool(x)``: 2x2 max pooling, stride 2, 'valid', of an (H, W) array."""
    rng = np.random.default_rng(1)
    for shape in [(4, 6), (6, 4), (5, 7)]:
        x = rng.integers(-9, 10, shape)
        expected = conv.max_pool2d(x, 2)
        result, error = call(my_max_pool, x.copy())
        if error:
            verdict(False, f"on a {shape} array, {error}.")
            return
        result = as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            hint = ("with an odd size, 'valid' pooling drops the last row/column that does not fill a window"
                    if shape == (5, 7) else "2x2 windows with stride 2 halve each side")
            verdict(False, f"for a {shape} input your output has shape {result.shape}: {hint}.")
            return
        if np.allclose(result, conv.avg_pool2d(x, 2)):
            verdict(False, "that is average pooling: keep the largest value of each window instead.")
            return
        if not np.array_equal(result, expected):
            verdict(False, f"the shape is right for {shape} but some values are not. Each output (i, j) is the "
                            f"max of x[2i:2i + 2, 2j:2j + 2].")
            return
    verdict(True, "It matches keras.layers.MaxPooling2D(2) on even and odd sizes.")


#: The sizes the learner searches, both ends included.
FULLY_READ_RANGE = (150, 320)


def _last_pixel_read(size):
    """The last input row that reaches the course model's output: five blocks of a 3x3 conv and a 2x2 pool,
    all 'valid' (computed on its own here, not with the notebook's ``walk``)."""
    n, field, jump = size, 1, 1
    for kernel, stride in [(3, 1), (2, 2)] * 5:
        n = (n - kernel) // stride + 1
        field, jump = field + (kernel - 1) * jump, jump * stride
    return (n - 1) * jump + field - 1


def check_fully_read_sizes(answer):
    """Exercise: every input size from 150 to 320 px at which the course's model reads every pixel.

    Parameters
    ----------
    answer : sequence of int
        The sizes, in any order.
    """
    if contains_none(answer):
        verdict(False, "replace None with your list of sizes, then run the cell again.")
        return
    try:
        values = None if isinstance(answer, (str, bytes, dict)) else list(answer)
    except TypeError:
        values = None
    whole = lambda v: (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                       and np.isfinite(float(v)) and float(v).is_integer())
    if values is None or not all(whole(v) for v in values):
        verdict(False, f"answer with a list of whole numbers, the input sizes in pixels, like [150, 151]; "
                        f"got {answer!r}.")
        return
    sizes = sorted({int(v) for v in values})
    low, high = FULLY_READ_RANGE
    expected = [size for size in range(low, high + 1) if _last_pixel_read(size) == size - 1]
    outside = [size for size in sizes if not low <= size <= high]
    unread = [size for size in sizes if low <= size <= high and _last_pixel_read(size) != size - 1]
    if not sizes:
        verdict(False, f"the list is empty, but some sizes from {low} to {high} are read completely. Run walk() "
                        f"for each size and compare the last pixel reached with size - 1.")
    elif outside:
        verdict(False, f"{outside[0]} is outside the range: keep the sizes from {low} to {high}.")
    elif unread:
        size = unread[0]
        verdict(False, f"at {size} px the model reads only rows and columns 0 to {_last_pixel_read(size)}: the last "
                        f"{size - 1 - _last_pixel_read(size)} are never read. Keep a size only when the last pixel "
                        f"reached is size - 1.")
    elif sizes != expected:
        verdict(False, f"every size in your list is read completely, but {len(expected) - len(sizes)} more "
                        f"between {low} and {high} are too. Did your loop try every size in the range?")
    else:
        verdict(True, "158 + 32m, every 32nd size: each of the five 2x2 poolings needs an even side, and every 3x3 conv takes 2 "
                      "off; adding 32 = 2^5 pixels keeps all five sides even.")
