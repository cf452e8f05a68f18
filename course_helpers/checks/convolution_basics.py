"""Checkers for Notebook 01 (convolution basics)."""
import ast
import inspect
import re
import textwrap

import numpy as np

from .. import conv
from .answers import as_int, as_number_array, call, function_checker, verdict

__all__ = ["check_window_sums", "check_my_conv2d", "check_horizontal_edge_kernel", "check_conv_params", "WINDOW_SUMS_IMAGE", "WINDOW_SUMS_KERNEL"]


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
#: that ``my_conv2d`` itself, or ``checks.check_my_conv2d`` on a lambda's line, does not count.
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
def check_my_conv2d(my_conv2d):
    """Exercise: a loop-based ``my_conv2d(image, kernel)`` for 2-D arrays, 'valid' padding.

    The verdict is about the numbers. When the function's source calls a
    library convolution (``conv.conv2d``, ``np.convolve``, ``scipy.signal``,
    ``sliding_window_view``, Keras or ``tf.nn``), a note reminds the learner
    that the exercise asks for loops.

    Parameters
    ----------
    my_conv2d : callable
        ``my_conv2d(image, kernel)`` with image (H, W) and kernel (kh, kw),
        returning (H - kh + 1, W - kw + 1).
    """
    library_calls = _library_convolutions(my_conv2d)
    note = (f" Note: your function calls {', '.join(library_calls)}; the exercise asks you to write the loops "
            f"yourself, to see what such a call does." if library_calls else "")

    def report(passed, message):
        verdict(passed, message + note)

    rng = np.random.default_rng(0)
    cases = [  # square first, then shapes where rows and columns differ
        (rng.integers(-3, 4, (5, 5)), rng.integers(-2, 3, (3, 3))),
        (rng.integers(-3, 4, (6, 8)), rng.integers(-2, 3, (2, 3))),
        (rng.integers(-3, 4, (7, 4)), rng.integers(-2, 3, (3, 1))),
    ]
    for number, (image, kernel) in enumerate(cases, start=1):
        expected = conv.conv2d(image, kernel)
        result, error = call(my_conv2d, image.copy(), kernel.copy())
        if error:
            report(False, f"on a {image.shape} image with a {kernel.shape} kernel, {error}.")
            return
        result = as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            report(False, f"for a {image.shape} image and a {kernel.shape} kernel your output has shape "
                          f"{result.shape}. A 'valid' output has H - kh + 1 rows and W - kw + 1 columns.")
            return
        if np.allclose(result, conv.conv2d(image, np.flip(kernel))) and not np.allclose(result, expected):
            report(False, "your function flips the kernel. Multiply each window by the kernel as it is.")
            return
        if not np.allclose(result, expected):
            if number > 1:
                report(False, f"it works on the square case but not on a {image.shape} image with a "
                              f"{kernel.shape} kernel: check that each loop runs over its own axis, and that "
                              f"windows use the kernel's height for rows and its width for columns.")
            else:
                report(False, "the shape is right but some values are not. For output (i, j), the window is "
                              "image[i:i + kh, j:j + kw]; multiply it by the kernel and sum.")
            return
    report(True, "Your loop matches course_helpers.conv.conv2d on square and non-square kernels."
           if not library_calls else "It matches course_helpers.conv.conv2d on square and non-square kernels.")


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
