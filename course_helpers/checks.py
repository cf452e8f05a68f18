"""Checkers for the "Check your understanding" exercises.

Each checker takes a learner's answer and prints one line: a clear pass, or a
hint that points at the mistake without giving the answer away. Checkers never
raise on a malformed answer; they say what shape or type was expected.

Notebook 01 (convolution basics): :func:`check_window_sums`,
:func:`check_my_conv2d`, :func:`check_horizontal_edge_kernel`,
:func:`check_conv_params`.

Notebook 02 (padding, stride, pooling): :func:`check_output_size`,
:func:`check_same_padding`, :func:`check_receptive_field`,
:func:`check_my_max_pool`.

Notebook 03 (convolutions on a cat): :func:`check_cat_output_shape`,
:func:`check_mystery_kernel` (with :func:`mystery_map`),
:func:`check_relu_then_pool`, :func:`check_relu_pool_order`.

Notebook 04 (training the classifier): :func:`check_flatten_size`,
:func:`check_dense_params`, :func:`check_accuracy_from_confusion`,
:func:`check_unsafe_augmentation`, :func:`check_build_model`.

Notebook 05 (intermediate activations): :func:`check_conv3_shape`,
:func:`check_zero_fraction`, :func:`check_dead_channels`,
:func:`check_zeros_cause`.

Notebook 06 (filter visualization): :func:`check_ascent_step`,
:func:`check_total_variation`, :func:`check_receptive_layer`,
:func:`check_smoothness_regularizer`.

Notebook 07 (Grad-CAM): :func:`check_channel_weights`,
:func:`check_weighted_map`, :func:`check_why_logit`,
:func:`check_centre_bias`.
"""
import numbers

import numpy as np

from . import conv, images

__all__ = [
    "WINDOW_SUMS_IMAGE",
    "WINDOW_SUMS_KERNEL",
    "check_window_sums",
    "check_my_conv2d",
    "check_horizontal_edge_kernel",
    "check_conv_params",
    "check_output_size",
    "check_same_padding",
    "check_receptive_field",
    "check_my_max_pool",
    "check_cat_output_shape",
    "mystery_map",
    "check_mystery_kernel",
    "check_relu_then_pool",
    "check_relu_pool_order",
    "check_flatten_size",
    "check_dense_params",
    "EXAMPLE_CONFUSION",
    "check_accuracy_from_confusion",
    "check_build_model",
    "check_unsafe_augmentation",
    "check_conv3_shape",
    "check_zero_fraction",
    "check_dead_channels",
    "check_zeros_cause",
    "check_ascent_step",
    "check_total_variation",
    "check_receptive_layer",
    "check_smoothness_regularizer",
    "check_channel_weights",
    "check_weighted_map",
    "check_why_logit",
    "check_centre_bias",
]

PASS = "✅ Correct."
FAIL = "❌ Not yet."


def _verdict(passed, message):
    """Print the one-line verdict. Returns None so a notebook shows only the line."""
    print(f"{PASS} {message}" if passed else f"{FAIL} Hint: {message}")


def _multiple_choice(answer, choices, right, praise, hints):
    """A one-letter answer: praise for ``right``, else the hint written for the letter chosen."""
    if answer is None:
        letters = [repr(letter) for letter in sorted(choices)]
        _verdict(False, f"replace None with one letter: {', '.join(letters[:-1])} or {letters[-1]}.")
        return
    if not isinstance(answer, str) or answer.strip().lower() not in choices:
        _verdict(False, f"answer with one letter from {sorted(choices)}; got {answer!r}.")
        return
    letter = answer.strip().lower()
    _verdict(letter == right, praise if letter == right else hints[letter])


def _as_shape(answer):
    """A (height, width, channels) answer as ints; None, after the hint, when it is not one yet."""
    if _contains_none(answer):
        _verdict(False, "replace each None with a number: (height, width, channels).")
        return None
    try:
        return tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        _verdict(False, f"answer with a tuple (height, width, channels); got {answer!r}.")
        return None


def _contains_none(answer):
    if answer is None:
        return True
    if isinstance(answer, (list, tuple)):
        return any(_contains_none(item) for item in answer)
    return False


def _as_number_array(answer, what):
    """The answer as a float array, or None after printing what was expected."""
    if _contains_none(answer):
        _verdict(False, "replace every None with your number, then run the cell again.")
        return None
    try:
        array = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        _verdict(False, f"{what} should be numbers (a NumPy array or nested lists); got {type(answer).__name__}.")
        return None
    if not np.all(np.isfinite(array)):
        _verdict(False, f"{what} contains NaN or infinity; every entry should be a plain number.")
        return None
    return array


def _as_int(answer, what):
    if answer is None:
        _verdict(False, "replace None with your answer, then run the cell again.")
        return None
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real):
        _verdict(False, f"{what} should be a single whole number; got {answer!r}.")
        return None
    if not np.isfinite(float(answer)) or float(answer) != int(answer):
        _verdict(False, f"{what} is a count, so a whole number; got {answer!r}.")
        return None
    return int(answer)


class _NotWritten(Exception):
    """The learner's function still raises NotImplementedError."""


def _call(function, *args):
    """Run a learner's function; return (result, None) or (None, message about the error)."""
    try:
        return function(*args), None
    except NotImplementedError:
        raise _NotWritten from None
    except Exception as error:  # a learner's code may fail in any way; report it
        return None, f"your function raised {type(error).__name__}: {error}"


def _function_checker(check):
    """Turn a not-yet-written function into a nudge instead of an error."""

    def checker(function):
        if not callable(function):
            _verdict(False, f"pass the function itself, {check.__name__}({check.__name__[6:]}), "
                            f"not {type(function).__name__}.")
            return
        try:
            check(function)
        except _NotWritten:
            _verdict(False, "write the body of your function first: it still raises NotImplementedError.")

    checker.__name__, checker.__qualname__, checker.__doc__ = check.__name__, check.__qualname__, check.__doc__
    return checker


# ----------------------------------------------------------------------------
# Notebook 01: convolution basics
# ----------------------------------------------------------------------------
#: The image and kernel of the "window sums by hand" exercise.
WINDOW_SUMS_IMAGE = np.array([[3, 1, 2], [0, 4, 1], [2, 5, 0]])
WINDOW_SUMS_KERNEL = np.array([[1, 2], [0, -1]])


def check_window_sums(answer):
    """Exercise: the 'valid' output of WINDOW_SUMS_KERNEL on WINDOW_SUMS_IMAGE, by hand.

    Parameters
    ----------
    answer : array_like, shape (2, 2)
    """
    array = _as_number_array(answer, "Your answer")
    if array is None:
        return
    expected = conv.conv2d(WINDOW_SUMS_IMAGE, WINDOW_SUMS_KERNEL)
    if array.shape != expected.shape:
        _verdict(False, f"your answer has shape {array.shape}. A 3x3 image and a 2x2 kernel fit together "
                        f"in 3 - 2 + 1 positions per axis; write one number per position.")
        return
    if np.array_equal(array, expected):
        _verdict(True, "Each output is the sum of the window times the kernel, element by element.")
        return
    if np.array_equal(array, conv.conv2d(WINDOW_SUMS_IMAGE, np.flip(WINDOW_SUMS_KERNEL))):
        _verdict(False, "you flipped the kernel (a 'true' convolution). Deep-learning layers lay the kernel "
                        "over the window exactly as it is written: top-left weight on top-left pixel.")
        return
    wrong = [tuple(int(i) for i in index) for index in np.argwhere(array != expected)]
    _verdict(False, f"{4 - len(wrong)} of 4 entries are right. Recheck output position(s) {wrong}: take the 2x2 "
                    f"window whose top-left corner is at that (row, col), multiply element-wise by the kernel, "
                    f"and add the four products.")


@_function_checker
def check_my_conv2d(my_conv2d):
    """Exercise: a loop-based ``my_conv2d(image, kernel)`` for 2-D arrays, 'valid' padding.

    Parameters
    ----------
    my_conv2d : callable
        ``my_conv2d(image, kernel)`` with image (H, W) and kernel (kh, kw),
        returning (H - kh + 1, W - kw + 1).
    """
    rng = np.random.default_rng(0)
    cases = [  # square first, then shapes where rows and columns differ
        (rng.integers(-3, 4, (5, 5)), rng.integers(-2, 3, (3, 3))),
        (rng.integers(-3, 4, (6, 8)), rng.integers(-2, 3, (2, 3))),
        (rng.integers(-3, 4, (7, 4)), rng.integers(-2, 3, (3, 1))),
    ]
    for number, (image, kernel) in enumerate(cases, start=1):
        expected = conv.conv2d(image, kernel)
        result, error = _call(my_conv2d, image.copy(), kernel.copy())
        if error:
            _verdict(False, f"on a {image.shape} image with a {kernel.shape} kernel, {error}.")
            return
        result = _as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            _verdict(False, f"for a {image.shape} image and a {kernel.shape} kernel your output has shape "
                            f"{result.shape}. A 'valid' output has H - kh + 1 rows and W - kw + 1 columns.")
            return
        if np.allclose(result, conv.conv2d(image, np.flip(kernel))) and not np.allclose(result, expected):
            _verdict(False, "your function flips the kernel. Multiply each window by the kernel as it is.")
            return
        if not np.allclose(result, expected):
            if number > 1:
                _verdict(False, f"it works on the square case but not on a {image.shape} image with a "
                                f"{kernel.shape} kernel: check that each loop runs over its own axis, and that "
                                f"windows use the kernel's height for rows and its width for columns.")
            else:
                _verdict(False, "the shape is right but some values are not. For output (i, j), the window is "
                                "image[i:i + kh, j:j + kw]; multiply it by the kernel and sum.")
            return
    _verdict(True, "Your loop matches course_helpers.conv.conv2d on square and non-square kernels.")


def check_horizontal_edge_kernel(kernel):
    """Exercise: a 3x3 kernel that is positive where dark (above) turns bright (below),
    zero on flat regions, and blind to vertical edges.

    Parameters
    ----------
    kernel : array_like, shape (3, 3)
    """
    k = _as_number_array(kernel, "Your kernel")
    if k is None:
        return
    if k.shape != (3, 3):
        _verdict(False, f"the kernel should be 3x3; got shape {k.shape}.")
        return
    dark_above = np.zeros((8, 8))
    dark_above[4:] = 1.0
    dark_left = dark_above.T.copy()
    flat = np.full((8, 8), 0.5)
    on_edge = conv.conv2d(dark_above, k)
    strength = np.abs(on_edge).max()
    vertical_strength = np.abs(conv.conv2d(dark_left, k)).max()
    if not np.allclose(conv.conv2d(flat, k), 0):
        _verdict(False, "on a flat grey image your kernel is not zero. Make its weights add up to 0.")
        return
    if vertical_strength > 0.1 * strength:
        _verdict(False, "it reacts to vertical edges. Make every weight within a row equal, so a "
                        "left-to-right change cancels out.")
        return
    if strength == 0:
        _verdict(False, "your kernel gives 0 on a horizontal edge. It needs different weights in the top "
                        "and bottom rows.")
        return
    if on_edge.max() > 0 and on_edge.min() < -1e-9 * strength:
        _verdict(False, "it fires with both signs on a single dark-to-bright edge, like a line detector. Use one "
                        "sign above the middle row and the other below it.")
        return
    if on_edge.max() <= 0:
        _verdict(False, "it reacts to the edge with the wrong sign: dark above and bright below should give a "
                        "positive output. Which row multiplies the bright pixels?")
        return
    _verdict(True, "It fires on horizontal edges only, with a sign that tells dark-to-bright from bright-to-dark.")


def check_conv_params(answer):
    """Exercise: trainable parameters of Conv2D(32, kernel_size=5) on a 16-channel input."""
    value = _as_int(answer, "The parameter count")
    if value is None:
        return
    weights, biases = 5 * 5 * 16 * 32, 32
    if value == weights + biases:
        _verdict(True, "kh x kw x C_in x F weights, plus one bias per filter.")
    elif value == weights:
        _verdict(False, "close: you counted the weights. What else does each filter have?")
    elif value == 5 * 5 * 32 + 32 or value == 5 * 5 * 32:
        _verdict(False, "each filter has one 5x5 slice per input channel, not just one.")
    elif value in (5 * 5 * 16 + 1, 5 * 5 * 16):
        _verdict(False, "that is one filter. The layer has 32 of them.")
    else:
        _verdict(False, "count one filter first: its weights cover kernel height x width x input channels; then "
                        "add its bias, and multiply by the number of filters.")


# ----------------------------------------------------------------------------
# Notebook 02: padding, stride and pooling
# ----------------------------------------------------------------------------
def check_output_size(answer):
    """Exercise: a 224x224 input, a 7x7 kernel, stride 2, 3 zeros of padding per side."""
    value = _as_int(answer, "The output size")
    if value is None:
        return
    n, k, s, p = 224, 7, 2, 3
    expected = conv.output_size(n, k, s, p)
    if value == expected:
        _verdict(True, "floor((224 + 2*3 - 7) / 2) + 1. This is the first layer of ResNet.")
    elif value == -(-(n + 2 * p - k) // s) + 1:
        _verdict(False, "a window either fits or it does not: round the division down, not up.")
    elif value == (n + 2 * p - k) // s:
        _verdict(False, "you counted the steps between windows; count the windows (one more).")
    elif value == (n - k) // s + 1:
        _verdict(False, "the padding adds 3 zeros on each side of the input before the window slides.")
    elif value in ((n + 2 * p - k) + 1, n):
        _verdict(False, "with stride 2 the window jumps two pixels at a time.")
    else:
        _verdict(False, "use out = floor((n + 2p - k) / s) + 1 with n = 224, k = 7, s = 2, p = 3.")


def check_same_padding(answer):
    """Exercise: (top, bottom) zeros TensorFlow adds for 'same', n = 10, k = 4, stride 3."""
    if _contains_none(answer):
        _verdict(False, "replace None with your (top, bottom) pair, then run the cell again.")
        return
    whole = lambda v: isinstance(v, numbers.Integral) or (isinstance(v, numbers.Real) and float(v).is_integer())
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2 \
            or not all(whole(v) and not isinstance(v, (bool, np.bool_)) for v in answer):
        _verdict(False, f"answer with a pair of whole numbers (top, bottom), like (0, 1); got {answer!r}.")
        return
    top, bottom = (int(v) for v in answer)
    expected = conv.padding_amounts(10, 4, 3, "same")
    if (top, bottom) == expected:
        _verdict(True, "ceil(10/3) = 4 outputs need (4 - 1)*3 + 4 = 13 rows: 3 zeros, the odd one at the bottom.")
    elif (bottom, top) == expected:
        _verdict(False, "the total is right, but TensorFlow puts the odd extra zero at the bottom (and right).")
    elif top + bottom == sum(expected):
        _verdict(False, "the total is right; split it as evenly as possible.")
    else:
        _verdict(False, "first find the output size for 'same' (ceil(n / s)); then the rows the windows span: "
                        "(out - 1)*s + k. The padding is what is missing from n.")


def check_receptive_field(answer):
    """Exercise: receptive field of conv3x3 -> conv3x3 -> maxpool 2x2/2 -> conv3x3."""
    value = _as_int(answer, "The receptive field")
    if value is None:
        return
    size, jump = 1, 1
    for kernel, stride in [(3, 1), (3, 1), (2, 2), (3, 1)]:
        size, jump = size + (kernel - 1) * jump, jump * stride
    if value == size:
        _verdict(True, "3 -> 5 -> 6 -> 6 + 2*2: after the pool, neighbours are two input pixels apart.")
    elif value == 8:
        _verdict(False, "after the 2x2 pool, neighbouring units are 2 input pixels apart (the jump), so the last "
                        "3x3 conv widens the field by (3 - 1) x 2, not by 2.")
    elif value < size:
        _verdict(False, "grow the field layer by layer: r += (k - 1) x jump, then jump *= stride.")
    else:
        _verdict(False, "that is too large. Each layer adds (k - 1) x jump pixels, where jump is the product of "
                        "the strides of the layers before it.")


@_function_checker
def check_my_max_pool(my_max_pool):
    """Exercise: ``my_max_pool(x)``: 2x2 max pooling, stride 2, 'valid', of an (H, W) array."""
    rng = np.random.default_rng(1)
    for shape in [(4, 6), (6, 4), (5, 7)]:
        x = rng.integers(-9, 10, shape)
        expected = conv.max_pool2d(x, 2)
        result, error = _call(my_max_pool, x.copy())
        if error:
            _verdict(False, f"on a {shape} array, {error}.")
            return
        result = _as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            hint = ("with an odd size, 'valid' pooling drops the last row/column that does not fill a window"
                    if shape == (5, 7) else "2x2 windows with stride 2 halve each side")
            _verdict(False, f"for a {shape} input your output has shape {result.shape}: {hint}.")
            return
        if np.allclose(result, conv.avg_pool2d(x, 2)):
            _verdict(False, "that is average pooling: keep the largest value of each window instead.")
            return
        if not np.array_equal(result, expected):
            _verdict(False, f"the shape is right for {shape} but some values are not. Each output (i, j) is the "
                            f"max of x[2i:2i + 2, 2j:2j + 2].")
            return
    _verdict(True, "It matches keras.layers.MaxPooling2D(2) on even and odd sizes.")


# ----------------------------------------------------------------------------
# Notebook 03: convolutions on a cat
# ----------------------------------------------------------------------------
def check_cat_output_shape(answer):
    """Exercise: the output shape of Conv2D(8, 7) then MaxPooling2D(3), both 'valid', on the 300x451 cat."""
    shape = _as_shape(answer)
    if shape is None:
        return
    after_conv = (conv.output_size(300, 7), conv.output_size(451, 7))
    expected = (conv.output_size(after_conv[0], 3, 3), conv.output_size(after_conv[1], 3, 3), 8)
    if shape == expected:
        _verdict(True, "The 7x7 conv trims 6 pixels per axis; the 3x3 pool then keeps one value per 3x3 block.")
    elif len(shape) != 3:
        _verdict(False, "the output of a Conv2D or pooling layer for one image has 3 numbers: height, width, channels.")
    elif shape[2] != 8:
        _verdict(False, "how many channels does a layer with 8 filters output? Pooling keeps the channel count.")
    elif shape[:2] == after_conv:
        _verdict(False, "that is the shape after the conv; the 3x3 max pooling (stride 3) comes next.")
    elif shape[:2] == (300 // 3, 451 // 3):
        _verdict(False, "the 7x7 'valid' conv shrinks the image before the pooling sees it.")
    elif shape[:2] == (-(-after_conv[0] // 3), -(-after_conv[1] // 3)):
        _verdict(False, "'valid' pooling drops a last block that is not full: round down.")
    else:
        _verdict(False, "go one layer at a time with out = floor((n - k) / s) + 1; for MaxPooling2D(3), k = s = 3.")


#: The kernel behind :func:`mystery_map` (the checker compares outputs, not this array).
_MYSTERY_KERNEL = -conv.KERNELS["sobel_x"]


def _cat_gray(size=(75, 113)):
    cat = images.cat_image(size=size)
    return cat @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def mystery_map():
    """The gray cat (75x113) filtered by a secret 3x3 kernel with ``padding="same"``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(gray_cat, result)``, both float (75, 113).
    """
    gray = _cat_gray()
    return gray, conv.conv2d(gray, _MYSTERY_KERNEL, padding="same")


def check_mystery_kernel(kernel):
    """Exercise: find the 3x3 kernel that makes :func:`mystery_map`'s result."""
    k = _as_number_array(kernel, "Your kernel")
    if k is None:
        return
    if k.shape != (3, 3):
        _verdict(False, f"the mystery kernel is 3x3; yours has shape {k.shape}.")
        return
    gray, target = mystery_map()
    result = conv.conv2d(gray, k, padding="same")
    if np.allclose(result, target, atol=1e-4):
        _verdict(True, "Positive where the cat gets brighter from left to right: Sobel x with its sign flipped.")
    elif np.allclose(result, -target, atol=1e-4):
        _verdict(False, "right edges, wrong sign: where your output is bright, the mystery output is dark.")
    elif np.allclose(conv.conv2d(gray, k.T, padding="same"), target, atol=1e-4) or np.allclose(
            conv.conv2d(gray, -k.T, padding="same"), target, atol=1e-4):
        _verdict(False, "you found edges in the other direction: the mystery kernel reacts to vertical edges.")
    elif abs(k.sum()) > 1e-6:
        _verdict(False, "the mystery output is 0 on flat regions, so the kernel's weights add up to 0.")
    else:
        _verdict(False, "close in spirit, not in numbers. Which presets in the playground give 0 on flat regions "
                        "and show vertical outlines? Try them, then their negatives.")


@_function_checker
def check_relu_then_pool(relu_then_pool):
    """Exercise: ``relu_then_pool(maps)``: ReLU, then 5x5 max pooling ('valid'), of (H, W, C) maps."""
    rng = np.random.default_rng(3)
    for shape in [(20, 25, 2), (23, 11, 1)]:
        maps = rng.normal(size=shape) - 1.8  # mostly negative: some 5x5 blocks have no positive value
        expected = conv.max_pool2d(np.maximum(maps, 0), 5)
        result, error = _call(relu_then_pool, maps.copy())
        if error:
            _verdict(False, f"on maps of shape {shape}, {error}.")
            return
        result = _as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            _verdict(False, f"for maps of shape {shape} your output has shape {result.shape}. A 5x5 pool with "
                            f"stride 5 keeps floor(n / 5) values per axis, and the channels stay.")
            return
        if np.allclose(result, expected):
            continue
        if np.allclose(result, conv.max_pool2d(maps, 5)):
            _verdict(False, "some outputs are negative: apply the ReLU, max(0, x), as well.")
            return
        if not np.allclose(result, expected):
            _verdict(False, "the shape is right but some values are not. Is it the max (not the mean) of each "
                            "5x5 block?")
            return
    _verdict(True, "ReLU then 5x5 max pooling, exactly as the Keras layers compute it.")


def check_relu_pool_order(answer):
    """Exercise: does max pooling then ReLU give the same result as ReLU then max pooling? (True/False)"""
    if answer is None:
        _verdict(False, "replace None with True or False.")
        return
    if not isinstance(answer, (bool, np.bool_)):
        _verdict(False, f"answer with True or False; got {answer!r}.")
        return
    if answer:
        _verdict(True, "ReLU never changes which value is largest (it is monotonic), so max and ReLU commute. "
                       "Pooling first is cheaper: ReLU then runs on 25 times fewer values.")
    else:
        _verdict(False, "try both orders on a small example, e.g. x = np.array([[-3., 2.], [1., -1.]]). Can "
                        "ReLU make the largest value of a window smaller than another one?")


# ----------------------------------------------------------------------------
# Notebook 04: training the classifier
# ----------------------------------------------------------------------------
def _classifier_side(img_size):
    side = img_size
    for _ in range(5):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    return side


def check_flatten_size(answer):
    """Exercise: the length of the Flatten output when the classifier takes 300x300 images."""
    value = _as_int(answer, "The Flatten length")
    if value is None:
        return
    side = _classifier_side(300)
    if value == side * side * 64:
        _verdict(True, "300 -> 298 -> 149 -> 147 -> 73 -> 71 -> 35 -> 33 -> 16 -> 14 -> 7: 7 x 7 x 64.")
    elif value == side * side:
        _verdict(False, "that is one channel's worth. The last conv has 64 filters, and Flatten keeps them all.")
    elif value == 2 * 2 * 64:
        _verdict(False, "that is the 150 px model. Redo the chain of sizes from 300.")
    elif value in ((300 // 32) ** 2 * 64, (300 / 32) ** 2 * 64):
        _verdict(False, "each 3x3 'valid' conv also trims 2 pixels before its pool halves the size: go layer by layer.")
    else:
        _verdict(False, "follow the side length through five blocks: conv 3x3 'valid' (n - 2), then pool 2 "
                        "(floor(n / 2)). Then multiply side x side x filters of the last conv.")


def check_dense_params(answer):
    """Exercise: trainable parameters of Dense(512) after the 150 px model's Flatten."""
    value = _as_int(answer, "The parameter count")
    if value is None:
        return
    flat = _classifier_side(150) ** 2 * 64
    if value == flat * 512 + 512:
        _verdict(True, f"{flat} inputs x 512 units, plus 512 biases.")
    elif value == flat * 512:
        _verdict(False, "the weights are right. Each of the 512 units also has a bias.")
    elif value == flat + 512 or value == flat * 512 + 1:
        _verdict(False, "a dense layer connects every input to every unit: multiply, do not add.")
    else:
        _verdict(False, "first find the Flatten length at 150 px (side x side x 64); each of the 512 units "
                        "has one weight per input plus a bias.")


#: The confusion matrix of the "accuracy from a confusion matrix" exercise (rows: true, columns: predicted).
EXAMPLE_CONFUSION = np.array([[120, 8], [5, 123]])


def check_accuracy_from_confusion(answer):
    """Exercise: the accuracy of :data:`EXAMPLE_CONFUSION`, as a fraction."""
    if answer is None:
        _verdict(False, "replace None with your answer, then run the cell again.")
        return
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
        _verdict(False, f"answer with a number between 0 and 1; got {answer!r}.")
        return
    matrix = EXAMPLE_CONFUSION
    accuracy = np.trace(matrix) / matrix.sum()
    if abs(answer - accuracy) < 5e-3:
        _verdict(True, "Correct predictions (the diagonal) over all predictions.")
    elif abs(answer - 100 * accuracy) < 0.5:
        _verdict(False, "right number, but as a percentage: give a fraction between 0 and 1.")
    elif abs(answer - matrix[1, 1] / matrix[:, 1].sum()) < 5e-3 or abs(answer - matrix[1, 1] / matrix[1].sum()) < 5e-3:
        _verdict(False, "that looks at one class only. Accuracy counts both diagonal cells over everything.")
    elif abs(answer - np.trace(matrix) / matrix[0].sum()) < 5e-3 or answer > 1:
        _verdict(False, "divide by the total number of images, the sum of all four cells.")
    else:
        _verdict(False, "add the diagonal cells (right answers) and divide by the sum of all cells.")


def check_unsafe_augmentation(answer):
    """Exercise: which augmentation would teach the model something false about horses and humans?"""
    not_real = "happens in real photos all the time. Which change would give pictures you will never meet?"
    _multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "Nobody photographs an upside-down horse: flipping vertically invents images that never occur, and the "
        "model wastes capacity on them.",
        {"a": "a horse facing left is as real as one facing right. Which change would give pictures you will "
              "never meet?",
         "c": f"a little rotation by up to 10 degrees {not_real}",
         "d": f"a little zoom by up to 20 % {not_real}"})


@_function_checker
def check_build_model(build_model):
    """Exercise: ``build_model(img_size)`` writes the codelab network for any square image size."""
    import keras

    from . import models

    model, error = _call(build_model, 300)
    if error:
        _verdict(False, error)
        return
    if not isinstance(model, keras.Model):
        _verdict(False, f"return the model itself (a keras.Sequential), not {type(model).__name__}.")
        return
    if tuple(model.input_shape[1:]) != (300, 300, 3):
        _verdict(False, f"build_model(300) should take 300 x 300 RGB images, (300, 300, 3); its input is "
                        f"{tuple(model.input_shape[1:])}. Start with keras.Input(shape=(img_size, img_size, 3)).")
        return
    reference = models.build_classifier(300)
    if len(model.layers) != len(reference.layers):
        _verdict(False, f"your model has {len(model.layers)} layers; the codelab network has {len(reference.layers)}: "
                        f"five Conv2D + MaxPooling2D blocks, Flatten, Dense(512) and Dense(1).")
        return
    for mine, theirs in zip(model.layers, reference.layers):
        if type(mine) is not type(theirs):
            _verdict(False, f"where the codelab network has a {type(theirs).__name__} ({theirs.name}), yours has a "
                            f"{type(mine).__name__}. Compare the order of your layers with section 4.")
            return
        if tuple(mine.output.shape) != tuple(theirs.output.shape):
            _verdict(False, f"layer {theirs.name} should output {tuple(theirs.output.shape)}; yours gives "
                            f"{tuple(mine.output.shape)}. Check its filters, kernel size, pool size or units.")
            return
        activation = getattr(mine, "activation", None)
        if activation is not None and activation.__name__ != theirs.activation.__name__:
            _verdict(False, f"layer {theirs.name} should use the {theirs.activation.__name__} activation; yours "
                            f"uses {activation.__name__}.")
            return
        if mine.name != theirs.name:
            _verdict(False, f"the shapes are right. Name the layers as in section 4: '{mine.name}' should be "
                            f"'{theirs.name}'.")
            return
    small, error = _call(build_model, 150)
    if error or not isinstance(small, keras.Model) or tuple(small.input_shape[1:]) != (150, 150, 3):
        _verdict(False, "build_model(300) is right, but build_model(150) is not 150 x 150: use img_size everywhere.")
        return
    _verdict(True, f"the codelab network for any size: {model.count_params():,} parameters at 300 px.")


# ----------------------------------------------------------------------------
# Notebook 05: intermediate activations
# ----------------------------------------------------------------------------
def check_conv3_shape(answer):
    """Exercise: the shape of conv3's output for one 150x150 image, (height, width, channels)."""
    shape = _as_shape(answer)
    if shape is None:
        return
    side = 150
    for _ in range(2):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    side = conv.output_size(side, 3)
    if shape == (side, side, 64):
        _verdict(True, "150 -> 148 -> 74 -> 72 -> 36 -> 34, with one channel per filter of conv3.")
    elif len(shape) != 3:
        _verdict(False, "one image's feature maps have 3 numbers: height, width and channels (no batch axis).")
    elif shape[2] != 64:
        _verdict(False, "the number of channels is the number of filters in conv3; check the model summary.")
    elif shape[:2] == (17, 17):
        _verdict(False, "that is after pool3. conv3's output comes just before that pooling.")
    else:
        _verdict(False, "follow the side length: each 3x3 conv takes 2 pixels off, each 2x2 pool halves it.")


@_function_checker
def check_zero_fraction(zero_fraction):
    """Exercise: ``zero_fraction(maps)``: the fraction of entries of an array that are exactly 0."""
    rng = np.random.default_rng(5)
    cases = [np.maximum(rng.normal(size=(2, 6, 6, 3)), 0), np.zeros((3, 4)), np.array([1.0, -2.0, 0.0, 0.0])]
    for maps in cases:
        expected = float(np.mean(maps == 0))
        result, error = _call(zero_fraction, maps.copy())
        if error:
            _verdict(False, f"on an array of shape {maps.shape}, {error}.")
            return
        try:
            value = float(result)
        except (TypeError, ValueError):
            _verdict(False, f"return one number (a fraction), not {type(result).__name__}.")
            return
        if abs(value - expected) < 1e-9:
            continue
        if abs(value - (maps == 0).sum()) < 1e-9:
            _verdict(False, "that is the number of zeros; divide by the number of entries (maps.size).")
        elif abs(value - float(np.mean(maps <= 0))) < 1e-9:
            _verdict(False, "count only entries that are exactly 0: a negative number is not a zero.")
        elif abs(value - (1 - expected)) < 1e-9:
            _verdict(False, "that is the fraction of non-zero entries.")
        else:
            _verdict(False, "compare the array with 0 (maps == 0) and take the mean of the result.")
        return
    _verdict(True, "np.mean(maps == 0) does it in one line: True counts as 1.")


@_function_checker
def check_dead_channels(dead_channels):
    """Exercise: ``dead_channels(maps)``: the channels of (N, H, W, C) maps that are 0 for every image and position."""
    rng = np.random.default_rng(6)
    maps = np.maximum(rng.normal(size=(4, 5, 5, 6)), 0)
    maps[..., [1, 4]] = 0
    maps[0, :, :, 3] = 0  # silent on one image only: not dead
    result, error = _call(dead_channels, maps.copy())
    if error:
        _verdict(False, f"on maps of shape {maps.shape}, {error}.")
        return
    try:
        found = sorted(int(c) for c in np.asarray(result).reshape(-1))
    except (TypeError, ValueError):
        _verdict(False, f"return the channel numbers (a list or array of ints), not {type(result).__name__}.")
        return
    if found == [1, 4]:
        _verdict(True, "np.flatnonzero(np.all(maps == 0, axis=(0, 1, 2))) finds them.")
    elif found == [1, 3, 4]:
        _verdict(False, "channel 3 is silent on one image only. Dead means 0 for every image, at every position.")
    elif len(found) == maps.shape[-1] or found == list(range(0, 6)):
        _verdict(False, "return only the dead channels' numbers, not one entry per channel.")
    else:
        _verdict(False, "a channel is dead when all of maps[..., c] is 0; check every channel c.")


def check_zeros_cause(answer):
    """Exercise: why are the conv layers' outputs full of exact zeros?"""
    _multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "ReLU outputs max(0, x): every negative response becomes exactly 0.",
        {"a": "these conv layers use 'valid' padding: no zeros are added at all.",
         "c": "max pooling only picks values; it cannot create a zero that was not there. Where do the "
              "zeros come from in the first place?",
         "d": "rounding would give tiny numbers, not exact zeros in 40 % of the outputs."})



# ----------------------------------------------------------------------------
# Notebook 06: filter visualization
# ----------------------------------------------------------------------------
def _reference_ascent(image, gradient, learning_rate):
    return np.clip(image + learning_rate * gradient / (np.linalg.norm(gradient) + 1e-8), 0, 1)


@_function_checker
def check_ascent_step(ascent_step):
    """Exercise: ``ascent_step(image, gradient, learning_rate)``, one step of normalized gradient ascent."""
    rng = np.random.default_rng(7)
    image = rng.uniform(0.3, 0.7, size=(6, 6, 3))
    gradient = rng.normal(size=(6, 6, 3)) * 50
    expected = _reference_ascent(image, gradient, 2.0)
    result, error = _call(ascent_step, image.copy(), gradient.copy(), 2.0)
    if error:
        _verdict(False, f"{error}.")
        return
    result = _as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape != image.shape:
        _verdict(False, f"return an image of the same shape as the input, {image.shape}; got {result.shape}.")
    elif np.allclose(result, expected, atol=1e-6):
        _verdict(True, "Up the gradient, a step of fixed length, and back into the valid pixel range.")
    elif np.allclose(result, _reference_ascent(image, -gradient, 2.0), atol=1e-6):
        _verdict(False, "that step goes downhill. To increase the activation, add the gradient.")
    elif np.allclose(result, np.clip(image + 2.0 * gradient, 0, 1), atol=1e-6):
        _verdict(False, "divide the gradient by its length (np.linalg.norm) first, so the step size does not "
                        "depend on how large the gradient happens to be.")
    elif np.allclose(result, image + 2.0 * gradient / (np.linalg.norm(gradient) + 1e-8), atol=1e-6):
        _verdict(False, "keep the pixels in [0, 1] with np.clip after the step.")
    else:
        _verdict(False, "new image = clip(image + learning_rate * gradient / norm(gradient), 0, 1).")


@_function_checker
def check_total_variation(total_variation):
    """Exercise: ``total_variation(image)`` for an (H, W, 3) image: mean |vertical| + mean |horizontal| difference."""
    rng = np.random.default_rng(8)
    for image in [rng.random((5, 7, 3)), np.tile(np.linspace(0, 1, 6), (4, 1))[:, :, None].repeat(3, axis=2)]:
        down = np.abs(np.diff(image, axis=0)).mean()
        right = np.abs(np.diff(image, axis=1)).mean()
        result, error = _call(total_variation, image.copy())
        if error:
            _verdict(False, f"on an image of shape {image.shape}, {error}.")
            return
        try:
            value = float(result)
        except (TypeError, ValueError):
            _verdict(False, f"return one number, not {type(result).__name__}.")
            return
        if abs(value - (down + right)) < 1e-9:
            continue
        if abs(value - down) < 1e-9 or abs(value - right) < 1e-9:
            _verdict(False, "add both directions: differences between vertical neighbours and between horizontal ones.")
        elif abs(value - (np.diff(image, axis=0).mean() + np.diff(image, axis=1).mean())) < 1e-9:
            _verdict(False, "take the absolute value of each difference, or ups and downs cancel out.")
        else:
            _verdict(False, "np.diff(image, axis=0) gives the vertical differences; take their absolute mean, "
                            "and the same along axis=1.")
        return
    _verdict(True, "Flat images score 0, noisy ones score high: that is what the penalty discourages.")


def check_receptive_layer(answer):
    """Exercise: which conv layer's units see 38x38 input pixels?"""
    if answer is None:
        _verdict(False, "replace None with a layer name in quotes, like 'conv2'.")
        return
    if not isinstance(answer, str) or answer.strip().lower() not in {f"conv{i}" for i in range(1, 6)}:
        _verdict(False, f"answer with one of 'conv1' to 'conv5'; got {answer!r}.")
        return
    sizes, stack = {}, []
    for block in range(1, 6):
        stack.append((3, 1))
        sizes[f"conv{block}"] = conv.receptive_field(stack)[0]
        stack.append((2, 2))
    chosen = answer.strip().lower()
    if sizes[chosen] == 38:
        _verdict(True, "3, 8, 18, 38, 78: each block's field grows by (3 - 1) times a jump that doubles.")
    elif sizes[chosen] < 38:
        _verdict(False, f"{chosen} sees {sizes[chosen]}x{sizes[chosen]} pixels: go deeper.")
    else:
        _verdict(False, f"{chosen} sees {sizes[chosen]}x{sizes[chosen]} pixels: that is too deep.")


def check_smoothness_regularizer(answer):
    """Exercise: which regularizer penalizes differences between neighbouring pixels directly?"""
    _multiple_choice(
        answer, {"a", "b", "c", "d"}, "d",
        "Total variation adds the neighbour differences to the loss, so the ascent avoids them.",
        {"b": "blurring smooths the image, but it is an operation applied now and then, not a "
              "penalty in the objective.",
         "c": "L2 pulls every pixel towards grey on its own; it does not compare neighbours.",
         "a": "jitter moves the whole image around; no pixel is compared with its neighbour."})


# ----------------------------------------------------------------------------
# Notebook 07: Grad-CAM
# ----------------------------------------------------------------------------
@_function_checker
def check_channel_weights(channel_weights):
    """Exercise: ``channel_weights(gradients)``: Grad-CAM's alpha, (N, h, w, K) -> (N, K)."""
    gradients = np.random.default_rng(9).normal(size=(2, 4, 5, 3))
    expected = gradients.mean(axis=(1, 2))
    result, error = _call(channel_weights, gradients.copy())
    if error:
        _verdict(False, f"on gradients of shape {gradients.shape}, {error}.")
        return
    result = _as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape == (2, 4, 5) and np.allclose(result, gradients.mean(axis=-1)):
        _verdict(False, "that averages over the channels, the seed articles' mistake: it leaves one number per "
                        "position. Grad-CAM averages over the positions and keeps one weight per channel.")
    elif result.shape != expected.shape:
        _verdict(False, f"return one weight per image and channel, shape {expected.shape}; got {result.shape}.")
    elif np.allclose(result, expected):
        _verdict(True, "The mean gradient over the positions: how much the score cares about each channel.")
    elif np.allclose(result, gradients.sum(axis=(1, 2))):
        _verdict(False, "a sum instead of a mean. The map's shape would survive normalization, but the weights "
                        "are defined as the spatial mean.")
    else:
        _verdict(False, "take the mean over the height and width axes (1 and 2).")


@_function_checker
def check_weighted_map(weighted_map):
    """Exercise: ``weighted_map(features, alphas)``: ReLU(sum_k alpha_k A^k), (N, h, w, K), (N, K) -> (N, h, w)."""
    rng = np.random.default_rng(10)
    features = np.maximum(rng.normal(size=(2, 4, 4, 3)), 0)
    alphas = np.array([[1.0, -2.0, 0.5], [-1.0, 0.3, 0.2]])
    weighted = np.einsum("nhwk,nk->nhw", features, alphas)
    result, error = _call(weighted_map, features.copy(), alphas.copy())
    if error:
        _verdict(False, f"{error}.")
        return
    result = _as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape != weighted.shape:
        _verdict(False, f"return one map per image, shape {weighted.shape}; got {result.shape}.")
    elif np.allclose(result, np.maximum(weighted, 0)):
        _verdict(True, "Channels weighted by how much the score cares, summed, and only the positive part kept.")
    elif np.allclose(result, weighted):
        _verdict(False, "keep only the positive evidence: apply a ReLU, np.maximum(..., 0), to the sum.")
    elif np.allclose(result, np.maximum(features.sum(axis=-1), 0)) or np.allclose(result, features.sum(axis=-1)):
        _verdict(False, "each channel must be multiplied by its own weight before the sum.")
    else:
        _verdict(False, "multiply features by alphas[:, None, None, :], sum over the last axis, then ReLU.")


def check_why_logit(answer):
    """Exercise: why does Grad-CAM differentiate the logit rather than the sigmoid's probability?"""
    _multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "The sigmoid flattens out near 0 and 1, so for a confident prediction its gradient is almost zero.",
        {"a": "both are computed in one forward pass, at the same cost. What happens to the sigmoid's slope "
              "when the model is confident?",
         "c": "the logit and the probability rise and fall together; no sign changes. Think about the slope of "
              "the sigmoid near 0 and 1.",
         "d": "Grad-CAM works with any differentiable score. What does the sigmoid do to the gradient when "
              "P is close to 1?"})


def check_centre_bias(answer):
    """Exercise: what does a centre Gaussian scoring about 0.9 in the pointing game tell you?"""
    _multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "A benchmark is only as good as its baselines. Where subjects sit in the middle, pointing at the middle "
        "scores well, so a method must also be judged where the figure is not in the middle.",
        {"a": "the centre Gaussian ignores the image completely; it cannot explain anything. What does its score "
              "say about the data instead?",
         "c": "Grad-CAM's own score is high too; the baseline's score is about the images, not about Grad-CAM.",
         "d": "the masks come from the renderer that drew the figures; they are exact. Where do the figures "
              "usually sit?"})
