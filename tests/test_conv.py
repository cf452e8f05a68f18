"""course_helpers.conv against TensorFlow/Keras, closed forms, and its error messages."""
import doctest

import numpy as np
import pytest
import tensorflow as tf
import keras
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_helpers import conv

TOLERANCE = 1e-5

kernel_sizes = st.integers(1, 6)
strides = st.integers(1, 3)
paddings = st.sampled_from(["valid", "same"])


@st.composite
def conv_cases(draw):
    """A random image/kernel/stride/padding combination that Keras accepts."""
    kh, kw = draw(kernel_sizes), draw(kernel_sizes)
    sh, sw = draw(strides), draw(strides)
    padding = draw(paddings)
    low_h, low_w = (kh, kw) if padding == "valid" else (1, 1)
    h, w = draw(st.integers(low_h, 12)), draw(st.integers(low_w, 12))
    channels, filters = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(h=h, w=w, kh=kh, kw=kw, sh=sh, sw=sw, padding=padding, c=channels, f=filters, seed=seed)


def _random(shape, seed, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


# ----------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------
@given(conv_cases())
def test_conv2d_matches_tf_nn_conv2d(case):
    image = _random((case["h"], case["w"], case["c"]), case["seed"])
    kernel = _random((case["kh"], case["kw"], case["c"], case["f"]), case["seed"] + 1)
    bias = _random((case["f"],), case["seed"] + 2)
    stride = (case["sh"], case["sw"])

    ours = conv.conv2d(image, kernel, stride=stride, padding=case["padding"], bias=bias)
    theirs = tf.nn.conv2d(
        tf.constant(image[np.newaxis], tf.float64),
        tf.constant(kernel, tf.float64),
        strides=stride,
        padding=case["padding"].upper(),
    )[0].numpy() + bias

    assert ours.shape == theirs.shape
    assert ours.shape[:2] == (
        conv.output_size(case["h"], case["kh"], case["sh"], case["padding"]),
        conv.output_size(case["w"], case["kw"], case["sw"], case["padding"]),
    )
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


@settings(max_examples=40)
@given(conv_cases())
def test_conv2d_matches_keras_conv2d_layer_in_float32(case):
    image = _random((case["h"], case["w"], case["c"]), case["seed"]).astype("float32")
    kernel = _random((case["kh"], case["kw"], case["c"], case["f"]), case["seed"] + 1).astype("float32")
    bias = _random((case["f"],), case["seed"] + 2).astype("float32")
    stride = (case["sh"], case["sw"])

    layer = keras.layers.Conv2D(case["f"], (case["kh"], case["kw"]), strides=stride, padding=case["padding"])
    layer.build((None, case["h"], case["w"], case["c"]))
    layer.set_weights([kernel, bias])
    theirs = keras.ops.convert_to_numpy(layer(image[np.newaxis]))[0]

    ours = conv.conv2d(image, kernel, stride=stride, padding=case["padding"], bias=bias)
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    k=kernel_sizes,
    s=strides,
    p=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv2d_with_int_padding_matches_tf_explicit_padding(h, w, k, s, p, seed):
    assume(k <= min(h, w) + 2 * p)
    image = _random((h, w, 2), seed)
    kernel = _random((k, k, 2, 3), seed + 1)
    ours = conv.conv2d(image, kernel, stride=s, padding=p)
    theirs = tf.nn.conv2d(
        tf.constant(image[np.newaxis]), tf.constant(kernel), strides=s, padding=[[0, 0], [p, p], [p, p], [0, 0]]
    )[0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


def test_single_kernel_shapes_drop_the_filter_axis():
    gray = np.arange(25.0).reshape(5, 5)
    rgb = np.stack([gray, 2 * gray, 3 * gray], axis=-1)
    assert conv.conv2d(gray, np.ones((3, 3))).shape == (3, 3)
    assert conv.conv2d(rgb, np.ones((3, 3, 3))).shape == (3, 3)
    assert conv.conv2d(rgb, np.ones((3, 3, 3, 4))).shape == (3, 3, 4)
    # A (kh, kw, C) kernel sums over channels: channel weights 1, 1, 1 give 6x the gray result.
    np.testing.assert_allclose(conv.conv2d(rgb, np.ones((3, 3, 3))), 6 * conv.conv2d(gray, np.ones((3, 3))))


def test_conv2d_is_cross_correlation_not_flipped_convolution():
    image = np.zeros((5, 5))
    image[2, 2] = 1.0  # an impulse
    kernel = np.arange(9.0).reshape(3, 3)
    # Cross-correlating an impulse gives the kernel rotated by 180 degrees...
    np.testing.assert_array_equal(conv.conv2d(image, kernel), kernel[::-1, ::-1])
    # ...and a true convolution (flip the kernel first) gives the kernel itself.
    np.testing.assert_array_equal(conv.conv2d(image, kernel[::-1, ::-1]), kernel)


def test_integer_inputs_give_exact_integer_outputs():
    image = np.arange(16).reshape(4, 4)
    out = conv.conv2d(image, np.array([[1, 0], [0, -1]]), bias=3)
    assert out.dtype.kind == "i"
    np.testing.assert_array_equal(out, np.full((3, 3), -5 + 3))


def test_small_integer_types_do_not_wrap_around():
    image = np.full((3, 3), 200, dtype=np.uint8)
    kernel = np.full((3, 3), 4, dtype=np.uint8)
    assert conv.conv2d(image, kernel)[0, 0] == 200 * 4 * 9
    assert conv.conv2d(image.astype(np.float16), kernel.astype(np.float16)).dtype == np.float32


def test_strides_and_padding_may_be_numpy_arrays():
    image = np.arange(36.0).reshape(6, 6)
    assert conv.conv2d(image, np.ones((2, 2)), stride=np.array([2, 3])).shape == (3, 2)
    assert conv.pad(image, np.array([[1, 0], [0, 2]])).shape == (7, 8)


def test_scalar_bias_applies_to_every_pixel_and_bias_per_filter_to_its_channel():
    image = np.zeros((4, 4, 1))
    out = conv.conv2d(image, np.zeros((3, 3, 1, 2)), bias=[1.5, -2.0])
    np.testing.assert_array_equal(out[..., 0], 1.5)
    np.testing.assert_array_equal(out[..., 1], -2.0)


# ----------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------
@st.composite
def pool_cases(draw):
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(strides, strides)))
    padding = draw(paddings)
    low_h, low_w = (ph, pw) if padding == "valid" else (1, 1)
    h, w = draw(st.integers(low_h, 11)), draw(st.integers(low_w, 11))
    return dict(h=h, w=w, pool=(ph, pw), stride=stride, padding=padding, c=draw(st.integers(1, 4)),
                seed=draw(st.integers(0, 2**32 - 1)))


@pytest.mark.parametrize(
    "ours, keras_layer",
    [(conv.max_pool2d, keras.layers.MaxPooling2D), (conv.avg_pool2d, keras.layers.AveragePooling2D)],
    ids=["max", "average"],
)
@settings(max_examples=75)
@given(case=pool_cases())
def test_pooling_matches_keras_layers(ours, keras_layer, case):
    x = _random((case["h"], case["w"], case["c"]), case["seed"])
    layer = keras_layer(pool_size=case["pool"], strides=case["stride"], padding=case["padding"], dtype="float64")
    theirs = keras.ops.convert_to_numpy(layer(x[np.newaxis]))[0]
    mine = ours(x, pool_size=case["pool"], stride=case["stride"], padding=case["padding"])
    assert mine.shape == theirs.shape
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOLERANCE)


def test_same_average_pooling_leaves_padding_out_of_the_mean():
    x = np.ones((3, 3))
    # Every window, border ones included, averages real pixels only: all ones.
    np.testing.assert_array_equal(conv.avg_pool2d(x, 2, padding="same"), np.ones((2, 2)))


def test_same_max_pooling_never_picks_the_padding():
    x = -np.ones((3, 3), dtype=np.int64)
    np.testing.assert_array_equal(conv.max_pool2d(x, 2, padding="same"), -np.ones((2, 2)))


# ----------------------------------------------------------------------------
# sizes and padding, against their closed forms
# ----------------------------------------------------------------------------
@given(n=st.integers(1, 40), k=st.integers(1, 8), s=st.integers(1, 5), p=st.integers(0, 4))
def test_output_size_counts_the_window_positions(n, k, s, p):
    assume(k <= n + 2 * p)
    positions = len(range(0, n + 2 * p - k + 1, s))  # starts of windows that fit
    assert conv.output_size(n, k, s, p) == positions
    if p == 0:
        assert conv.output_size(n, k, s, "valid") == positions


@given(n=st.integers(1, 40), k=st.integers(1, 8), s=st.integers(1, 5))
def test_same_padding_gives_ceil_n_over_s(n, k, s):
    out = conv.output_size(n, k, s, "same")
    assert out == int(np.ceil(n / s))


def test_padding_amounts_put_an_odd_extra_zero_at_the_bottom():
    # (n, k, s) -> (before, after), worked out by hand from TensorFlow's documented rule.
    table = {(6, 4, 1): (1, 2), (5, 3, 1): (1, 1), (7, 3, 2): (1, 1), (6, 3, 2): (0, 1),
             (10, 4, 3): (1, 2), (4, 1, 1): (0, 0), (3, 5, 1): (2, 2), (8, 2, 2): (0, 0), (9, 6, 4): (2, 3)}
    for (n, k, s), expected in table.items():
        assert conv.padding_amounts(n, k, s, "same") == expected, (n, k, s)
    assert conv.padding_amounts(6, 3, 1, 2) == (2, 2)
    assert conv.padding_amounts(6, 3, 1, "valid") == (0, 0)


def test_pad_per_side_and_keeps_channels():
    x = np.ones((2, 3, 4), dtype=np.int32)
    padded = conv.pad(x, ((1, 2), (0, 3)))
    assert padded.shape == (5, 6, 4) and padded.dtype == np.int32
    assert padded.sum() == x.sum()
    assert padded[1:3, 0:3].all() and not padded[0].any() and not padded[:, 3:].any()
    assert conv.pad(np.ones((2, 2)), 1).shape == (4, 4)


def test_docstring_examples_run():
    result = doctest.testmod(conv, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


# ----------------------------------------------------------------------------
# errors a learner can act on
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: conv.output_size(3, 5), ValueError, "larger than the padded input"),
        (lambda: conv.output_size(3, 6, padding=1), ValueError, "larger than the padded input"),
        (lambda: conv.output_size(8, 3, stride=0), ValueError, "at least 1"),
        (lambda: conv.output_size(8, 3, padding="full"), ValueError, "'valid', 'same'"),
        (lambda: conv.output_size(8, 3, padding=-1), ValueError, "at least 0"),
        (lambda: conv.output_size(8.0, 3), TypeError, "must be an int"),
        (lambda: conv.output_size(8, True), TypeError, "must be an int"),
        (lambda: conv.conv2d(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3))), ValueError, "batch"),
        (lambda: conv.conv2d(np.ones(5), np.ones((3, 3))), ValueError, "(H, W) or (H, W, C)"),
        (lambda: conv.conv2d(np.ones((5, 5, 3)), np.ones((3, 3))), ValueError, "one slice per channel"),
        (lambda: conv.conv2d(np.ones((5, 5, 3)), np.ones((3, 3, 2, 4))), ValueError, "must match"),
        (lambda: conv.conv2d(np.ones((5, 5)), np.ones((3, 3, 1, 1, 1))), ValueError, "(kh, kw, C, F)"),
        (lambda: conv.conv2d(np.ones((2, 5)), np.ones((3, 3))), ValueError, "along rows"),
        (lambda: conv.conv2d(np.ones((5, 5)), np.ones((3, 3)), bias=[1, 2]), ValueError, "one number per filter"),
        (lambda: conv.conv2d(np.ones((5, 5)), np.ones((3, 3)), stride=(1, 2, 3)), ValueError, "pair"),
        (lambda: conv.conv2d("cat.png", np.ones((3, 3))), TypeError, "must hold numbers"),
        (lambda: conv.pad(np.ones((3, 3)), ((1, 1),)), ValueError, "((top, bottom), (left, right))"),
        (lambda: conv.pad(np.ones((3, 3)), -1), ValueError, "at least 0"),
        (lambda: conv.max_pool2d(np.ones((4, 4)), padding=1), ValueError, "'valid' or 'same'"),
        (lambda: conv.avg_pool2d(np.ones((1, 4)), 2), ValueError, "along rows"),
    ],
)
def test_bad_input_raises_an_error_that_says_what_to_do(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("name", sorted(conv.KERNELS))
def test_each_preset_kernel_gives_the_same_result_through_keras(name):
    image = np.random.default_rng(0).random((1, 17, 23, 1)).astype("float32")
    kernel = conv.KERNELS[name].astype("float32")
    layer = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
    layer.build(image.shape)
    layer.set_weights([kernel[:, :, np.newaxis, np.newaxis]])
    from_keras = keras.ops.convert_to_numpy(layer(image))[0, :, :, 0]
    np.testing.assert_allclose(conv.conv2d(image[0, :, :, 0], kernel, padding="same"), from_keras, atol=TOLERANCE)


def test_preset_kernels_cannot_be_changed_by_accident():
    with pytest.raises(ValueError, match="read-only"):
        conv.KERNELS["sobel_x"][0, 0] = 5
