"""Checkers for Notebook 01 (convolution basics)."""
import ast
import inspect
import re
import textwrap

import numpy as np

from .. import conv
from .answers import as_int, as_number_array, call, function_checker, verdict

__all__ = ["check_window_sums", "check_my_conv_layer", "check_horizontal_edge_kernel", "check_conv_params",
           "check_blur_edge_widths", "WINDOW_SUMS_IMAGE", "WINDOW_SUMS_KERNEL"]


#: The image and kernel of the "window sums by hand" exercise.
WINDOW_SUMS_IMAGE = np.array([[3, 1, 2], [0, 4, 1], [2, 5, 0]])
WINDOW_SUMS_KERNEL = np.array([[1, 2], [0, -1]])


def check_window_sums(answer):
    """Exercise: the 'valid' output of WINDOW_SUMS_KERNEL on WINDOW_SUMS_IMAGE, by hand.

    Parameters
    ----------
    answer : array_like, shape (2, 2)
    """
    array = as_number_array(answer, "Your answer")
    if array is None:
        return
    expected = conv.conv2d(WINDOW_SUMS_IMAGE, WINDOW_SUMS_KERNEL)
    if array.shape != expected.shape:
        verdict(False, f"your answer has shape {array.shape}. A 3x3 image and a 2x2 kernel fit together "
                        f"in 3 - 2 + 1 positions per axis; write one number per position.")
        return
    if np.array_equal(array, expected):
        verdict(True, "Each output is the sum of the window times the kernel, element by element.")
        return
    if np.array_equal(array, conv.conv2d(WINDOW_SUMS_IMAGE, np.flip(WINDOW_SUMS_KERNEL))):
        verdict(False, "you flipped the kernel (a 'true' convolution). Deep-learning layers lay the kernel "
                        "over the window exactly as it is written: top-left weight on top-left pixel.")
        return
    wrong = [tuple(int(i) for i in index) for index in np.argwhere(array != expected)]
    verdict(False, f"{4 - len(wrong)} of 4 entries are right. Recheck output position(s) {wrong}: take the 2x2 "
                    f"window whose top-left corner is at that (row, col), multiply element-wise by the kernel, "
                    f"and add the four products.")


#: Functions that do a convolution's work for the learner, matched against the whole last part of a
#: called name (``conv.conv2d``, ``np.convolve``, ``signal.correlate2d``, ``keras.layers.Conv2D`` ...), so
#: that ``my_conv_layer`` itself, or ``checks.check_my_conv_layer`` on a lambda's line, does not count.
_LIBRARY_CONVOLUTION_CALLS = re.compile(
    r"conv2d|(fft|oa)?convolve(1d|2d)?|correlate(1d|2d)?|sliding_window_view|as_strided", re.IGNORECASE)
#: Modules whose every use in this exercise would replace the loops.
_LIBRARY_CONVOLUTION_MODULES = ("keras", "tf.nn", "tensorflow.nn", "scipy.signal", "scipy.ndimage")


def _dotted_name(node):
    """``tf.nn.conv2d`` for the expression node of that name; '' for anything else (a call's result...)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted_name(node.value)
        return f"{owner}.{node.attr}" if owner else ""
    return ""


def _library_convolutions(function):
    """The library convolutions a learner's function calls or imports, as written in its source.

    Parameters
    ----------
    function : callable

    Returns
    -------
    list of str
        Sorted names; empty when there are none, and also when the source
        cannot be read or parsed (a lambda inside a longer expression, a
        function defined in a plain REPL or by ``exec``): the check is a
        courtesy note, never a reason to fail.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return []
    own_name = getattr(function, "__name__", "")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names = [_dotted_name(node.func)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [f"{node.module or ''}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            last = name.rsplit(".", 1)[-1]
            # A function called conv2d that calls itself is still the learner's own loop.
            if not name or name == own_name:
                continue
            if _LIBRARY_CONVOLUTION_CALLS.fullmatch(last) or any(
                    f".{module}." in f".{name}." for module in _LIBRARY_CONVOLUTION_MODULES):
                found.add(name)
    return sorted(found)


@function_checker
def check_my_conv_layer(my_conv_layer):
    """Exercise: a loop-based ``my_conv_layer(image, filters, biases)``: a whole Conv2D layer, 'valid' padding.

    The verdict is about the numbers. When the function's source calls a
    library convolution (``conv.conv2d``, ``np.convolve``, ``scipy.signal``,
    ``sliding_window_view``, Keras or ``tf.nn``), a note reminds the learner
    that the exercise asks for loops.

    Parameters
    ----------
    my_conv_layer : callable
        ``my_conv_layer(image, filters, biases)`` with image (H, W, C), filters
        (kh, kw, C, F) and biases (F,), returning (H - kh + 1, W - kw + 1, F).
    """
    library_calls = _library_convolutions(my_conv_layer)
    note = (f" Note: your function calls {', '.join(library_calls)}; the exercise asks you to write the loops "
            f"yourself, to see what such a call does." if library_calls else "")

    def report(passed, message):
        verdict(passed, message + note)

    rng = np.random.default_rng(0)
    cases = [  # (H, W, C) image, (kh, kw, C, F) filters: square first, then rows and columns that differ
        ((5, 5, 1), (3, 3, 1, 1)),
        ((6, 6, 3), (3, 3, 3, 4)),
        ((6, 8, 2), (2, 3, 2, 3)),
        ((7, 4, 3), (3, 1, 3, 2)),
    ]
    for number, (image_shape, filter_shape) in enumerate(cases, start=1):
        image = rng.integers(-3, 4, image_shape)
        filters = rng.integers(-2, 3, filter_shape)
        biases = rng.integers(1, 4, filter_shape[3])
        expected = conv.conv2d(image, filters, bias=biases)
        result, error = call(my_conv_layer, image.copy(), filters.copy(), biases.copy())
        if error:
            report(False, f"on a {image_shape} image with {filter_shape} filters, {error}.")
            return
        result = as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            if result.shape == expected.shape[:2]:
                hint = "one map per filter: the output needs a last axis with one channel for each of the F filters."
            else:
                hint = ("a 'valid' output has H - kh + 1 rows, W - kw + 1 columns and one channel per filter "
                        "(F, the last axis of filters).")
            report(False, f"for a {image_shape} image and {filter_shape} filters your output has shape "
                          f"{result.shape}: {hint}")
            return
        if np.allclose(result, expected - biases):
            report(False, "the sums are right, but the biases are missing: filter f adds biases[f] to every "
                          "value of its map.")
            return
        if np.allclose(result, conv.conv2d(image, np.flip(filters, axis=(0, 1)), bias=biases)):
            report(False, "your function flips the kernels. Multiply each window by the filter as it is.")
            return
        if image_shape[2] > 1 and np.allclose(result, conv.conv2d(image[:, :, :1], filters[:, :, :1], bias=biases)):
            report(False, "you used only the first input channel. A filter has one kernel slice per channel, and "
                          "its output adds the products of all of them (section 6).")
            return
        if not np.allclose(result, expected):
            if number > 2:
                report(False, f"it works on square kernels but not on {filter_shape} filters: check that each loop "
                              f"runs over its own axis, and that windows use the kernel's height for rows and its "
                              f"width for columns.")
            else:
                report(False, "the shape is right but some values are not. Output (i, j, f) takes the window at "
                              "(i, j) across all channels, multiplies it by filter f, adds everything up, and adds "
                              "bias f.")
            return
    report(True, "Your loops match course_helpers.conv.conv2d, and so Keras's Conv2D (section 7), for several "
                 "channels, filters and kernel shapes." if not library_calls else
           "It matches course_helpers.conv.conv2d for several channels, filters and kernel shapes.")


def check_horizontal_edge_kernel(kernel):
    """Exercise: a 3x3 kernel that is positive where dark (above) turns bright (below),
    zero on flat regions, and blind to vertical edges.

    Parameters
    ----------
    kernel : array_like, shape (3, 3)
    """
    k = as_number_array(kernel, "Your kernel")
    if k is None:
        return
    if k.shape != (3, 3):
        verdict(False, f"the kernel should be 3x3; got shape {k.shape}.")
        return
    if not k.any():
        verdict(False, "you have not filled the kernel in yet: replace the zeros with your kernel, then run the "
                        "cell again.")
        return
    dark_above = np.zeros((8, 8))
    dark_above[4:] = 1.0
    dark_left = dark_above.T.copy()
    flat = np.full((8, 8), 0.5)
    on_edge = conv.conv2d(dark_above, k)
    strength = np.abs(on_edge).max()
    vertical_strength = np.abs(conv.conv2d(dark_left, k)).max()
    if not np.allclose(conv.conv2d(flat, k), 0):
        verdict(False, "on a flat grey image your kernel is not zero. Make its weights add up to 0.")
        return
    if vertical_strength > 0.1 * strength:
        verdict(False, "it reacts to vertical edges. Make each column add up to 0, so a left-to-right "
                        "change cancels out (the weights within a row may differ).")
        return
    if strength == 0:
        verdict(False, "your kernel gives 0 on a horizontal edge. It needs different weights in the top "
                        "and bottom rows.")
        return
    if on_edge.max() > 0 and on_edge.min() < -1e-9 * strength:
        verdict(False, "it fires with both signs on a single dark-to-bright edge, like a line detector. Use one "
                        "sign above the middle row and the other below it.")
        return
    if on_edge.max() <= 0:
        verdict(False, "it reacts to the edge with the wrong sign: dark above and bright below should give a "
                        "positive output. Which row multiplies the bright pixels?")
        return
    verdict(True, "It fires on horizontal edges only, with a sign that tells dark-to-bright from bright-to-dark.")


def check_conv_params(answer):
    """Exercise: trainable parameters of Conv2D(32, kernel_size=5) on a 16-channel input."""
    value = as_int(answer, "The parameter count")
    if value is None:
        return
    weights, biases = 5 * 5 * 16 * 32, 32
    if value == weights + biases:
        verdict(True, "kh x kw x C_in x F weights, plus one bias per filter.")
    elif value == weights:
        verdict(False, "close: you counted the weights. What else does each filter have?")
    elif value == 5 * 5 * 32 + 32 or value == 5 * 5 * 32:
        verdict(False, "each filter has one 5x5 slice per input channel, not just one.")
    elif value in (5 * 5 * 16 + 1, 5 * 5 * 16):
        verdict(False, "that is one filter. The layer has 32 of them.")
    else:
        verdict(False, "count one filter first: its weights cover kernel height x width x input channels; then "
                        "add its bias, and multiply by the number of filters.")


#: The blur sizes the learner measures, and the one whose count they predict.
_MEASURED_BLURS, _PREDICTED_BLUR = (3, 5, 9), 13


def check_blur_edge_widths(widths):
    """Exercise: how many pixels of the square's middle row (row 16) a k x k average with 'same' padding
    blurs, for k = 3, 5, 9, and a prediction for k = 13.

    Parameters
    ----------
    widths : dict of int -> int
        ``{3: ..., 5: ..., 9: ..., 13: ...}``: for each k, the number of values
        of the blurred row that are neither background (0) nor square (1).
    """
    keys = (*_MEASURED_BLURS, _PREDICTED_BLUR)
    if not isinstance(widths, dict) or set(widths) != set(keys):
        verdict(False, f"answer with a dict whose keys are {', '.join(map(str, keys))}, like the one in the cell; "
                        f"got {widths!r}.")
        return
    counts = {}
    for k in keys:
        value = widths[k]
        if value is None:
            verdict(False, "replace every None with your count (and the last one with your prediction), then run "
                            "the cell again.")
            return
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(float(value)) or float(value) != int(value):
            verdict(False, f"each count is a whole number of pixels; for k = {k} you wrote {value!r}.")
            return
        counts[k] = int(value)
    # The square covers columns 8 to 23; a k-wide window straddles each of its two sides at k - 1 positions.
    # (That holds up to k = 13: a 15-high window centred on row 16 reaches row 23, where the disc begins.)
    expected = {k: 2 * (k - 1) for k in keys}
    measured_right = all(counts[k] == expected[k] for k in _MEASURED_BLURS)
    if measured_right and counts[_PREDICTED_BLUR] == expected[_PREDICTED_BLUR]:
        verdict(True, "A k-wide window straddles an edge at k - 1 positions, so a k x k blur spreads each of the "
                      "square's two sides over k - 1 pixels: the wider the blur, the softer the edge. (Past "
                      "k = 13 the window would also reach the disc.)")
    elif measured_right:
        verdict(False, f"your three counts are right. Which rule links each count to k? Apply it to k = "
                        f"{_PREDICTED_BLUR}.")
    elif all(counts[k] == expected[k] // 2 for k in _MEASURED_BLURS):
        verdict(False, "that is one edge. The middle row of the square crosses two: its left side and its right side.")
    elif all(counts[k] in (2 * k, 2 * (k + 1), k + 1, k) for k in _MEASURED_BLURS):
        verdict(False, "close, but count only the values strictly between 0 and 1: a window that lies wholly on "
                        "the background or wholly on the square gives 0 or 1, not an edge value.")
    else:
        wrong = [k for k in _MEASURED_BLURS if counts[k] != expected[k]]
        verdict(False, f"recount for k = {', '.join(map(str, wrong))}: in row 16 of each blurred image, count the "
                        f"values above 0.01 and below 0.99 (a sum of floats need not be exact).")
