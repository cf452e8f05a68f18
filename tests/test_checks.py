"""Every exercise checker accepts the solution and rejects typical wrong answers with a hint
that does not give the answer away."""
import numpy as np
import pytest

from course_helpers import checks, conv


def verdict(capsys, checker, answer):
    checker(answer)
    printed = capsys.readouterr().out.strip()
    assert printed.count("\n") == 0, f"a checker prints one line, got: {printed!r}"
    return printed


def assert_passes(capsys, checker, answer):
    printed = verdict(capsys, checker, answer)
    assert printed.startswith(checks.PASS), printed


def assert_hints(capsys, checker, answer, *words, secret=None):
    printed = verdict(capsys, checker, answer)
    assert printed.startswith(checks.FAIL + " Hint:"), printed
    for word in words:
        assert word in printed, f"expected {word!r} in {printed!r}"
    if secret is not None:
        assert str(secret) not in printed, f"the hint gives the answer away: {printed!r}"


# ----------------------------------------------------------------------------
# notebook 01
# ----------------------------------------------------------------------------
def solution_window_sums():
    image, kernel = checks.WINDOW_SUMS_IMAGE, checks.WINDOW_SUMS_KERNEL
    return [[int(np.sum(image[i:i + 2, j:j + 2] * kernel)) for j in range(2)] for i in range(2)]


def test_window_sums(capsys):
    right = solution_window_sums()
    assert_passes(capsys, checks.check_window_sums, right)
    flipped = conv.conv2d(checks.WINDOW_SUMS_IMAGE, np.flip(checks.WINDOW_SUMS_KERNEL))
    assert_hints(capsys, checks.check_window_sums, flipped, "flipped")
    one_wrong = np.array(right)
    one_wrong[1, 0] += 1
    assert_hints(capsys, checks.check_window_sums, one_wrong, "3 of 4", "(1, 0)")
    assert_hints(capsys, checks.check_window_sums, np.zeros((3, 3)), "shape (3, 3)")
    assert_hints(capsys, checks.check_window_sums, "four", "numbers")


def solution_my_conv_layer(image, filters, biases):
    kh, kw, _, n_filters = filters.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1, n_filters))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for f in range(n_filters):
                out[i, j, f] = np.sum(image[i:i + kh, j:j + kw] * filters[:, :, :, f]) + biases[f]
    return out


def test_my_conv_layer(capsys):
    assert_passes(capsys, checks.check_my_conv_layer, solution_my_conv_layer)
    assert_hints(capsys, checks.check_my_conv_layer,
                 lambda x, w, b: solution_my_conv_layer(x, np.flip(w, axis=(0, 1)), b), "flips")
    assert_hints(capsys, checks.check_my_conv_layer, lambda x, w, b: solution_my_conv_layer(x, w, 0 * b), "biases")
    assert_hints(capsys, checks.check_my_conv_layer,
                 lambda x, w, b: solution_my_conv_layer(x[:, :, :1], w[:, :, :1], b), "first input channel")
    assert_hints(capsys, checks.check_my_conv_layer, lambda x, w, b: solution_my_conv_layer(x, w, b)[:, :, 0],
                 "one map per filter")
    assert_hints(capsys, checks.check_my_conv_layer, lambda x, w, b: np.zeros_like(x, dtype=float), "H - kh + 1")

    def loops_columns_over_the_row_count(image, filters, biases):
        kh, kw, _, n_filters = filters.shape
        out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1, n_filters))
        for i in range(out.shape[0]):
            for j in range(out.shape[0]):  # the classic slip: right only when the output is square
                for f in range(n_filters):
                    out[i, j, f] = np.sum(image[i:i + kh, j:j + kw] * filters[:, :, :, f]) + biases[f]
        return out

    assert_hints(capsys, checks.check_my_conv_layer, loops_columns_over_the_row_count, "its own axis")
    assert_hints(capsys, checks.check_my_conv_layer, lambda x, w, b: 1 / 0, "ZeroDivisionError")
    assert_hints(capsys, checks.check_my_conv_layer, 42, "function itself")


def test_my_conv_layer_notes_a_library_convolution(capsys):
    def calls_the_library(image, filters, biases):
        return conv.conv2d(image, filters, bias=biases)

    def uses_sliding_windows(image, filters, biases):
        windows = np.lib.stride_tricks.sliding_window_view(image, filters.shape[:3])[:, :, 0]
        return np.tensordot(windows, filters, axes=3) + biases

    def flips_with_the_library(image, filters, biases):
        return conv.conv2d(image, np.flip(filters, axis=(0, 1)), bias=biases)

    for function, name in [(calls_the_library, "conv.conv2d"),
                           (uses_sliding_windows, "np.lib.stride_tricks.sliding_window_view")]:
        printed = verdict(capsys, checks.check_my_conv_layer, function)
        assert printed.startswith(checks.PASS), printed  # the numbers are right, and the verdict says so
        assert "asks you to write the loops" in printed and name in printed, printed
    assert_hints(capsys, checks.check_my_conv_layer, flips_with_the_library, "flips", "asks you to write the loops")


def test_my_conv_layer_own_loops_get_no_library_note(capsys):
    def loops_and_mentions_the_library(image, filters, biases):
        """The same numbers as conv.conv2d(image, filters, bias=biases), by hand."""
        return solution_my_conv_layer(image, filters, biases)  # not np.convolve: that one flips the kernel

    namespace = {"np": np}
    exec(  # defined without a source file, as in a plain Python prompt: the source cannot be read
        "def typed_at_a_prompt(image, filters, biases):\n"
        "    kh, kw = filters.shape[:2]\n"
        "    return np.array([[[np.sum(image[i:i + kh, j:j + kw] * filters[..., f]) + biases[f]\n"
        "                       for f in range(filters.shape[3])]\n"
        "                      for j in range(image.shape[1] - kw + 1)] for i in range(image.shape[0] - kh + 1)])\n",
        namespace)
    for function in [solution_my_conv_layer, loops_and_mentions_the_library, namespace["typed_at_a_prompt"]]:
        printed = verdict(capsys, checks.check_my_conv_layer, function)
        assert printed.startswith(checks.PASS), printed
        assert "Note:" not in printed, printed


def test_horizontal_edge_kernel(capsys):
    assert_passes(capsys, checks.check_horizontal_edge_kernel, [[-1, -1, -1], [0, 0, 0], [1, 1, 1]])
    assert_passes(capsys, checks.check_horizontal_edge_kernel, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])  # Sobel
    assert_hints(capsys, checks.check_horizontal_edge_kernel, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], "wrong sign")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, [[-1, 0, 1]] * 3, "vertical edges")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, np.ones((3, 3)) / 9, "add up to 0")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, np.zeros((3, 3)), "not filled the kernel in")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, [[1, -1, 0], [-1, 1, 0], [0, 0, 0]], "gives 0")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, [[-1, 0, 1]] * 3, "each column add up to 0")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, np.zeros((2, 2)), "3x3")
    assert_hints(capsys, checks.check_horizontal_edge_kernel, [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], "both signs")


def test_blur_edge_widths(capsys):
    rows, cols = np.mgrid[0:48, 0:48]
    shapes = np.zeros((48, 48))  # notebook 1's picture
    shapes[8:24, 8:24] = 1.0
    shapes[(rows - 32) ** 2 + (cols - 32) ** 2 < 10 ** 2] = 0.6
    measured = {}
    for k in (3, 5, 9, 13):
        row = conv.conv2d(shapes, np.ones((k, k)) / k**2, padding="same")[16]
        measured[k] = int(np.sum((row > 0.01) & (row < 0.99)))
    assert measured == {3: 4, 5: 8, 9: 16, 13: 24}, "the checker's rule holds on the notebook's picture"
    assert_passes(capsys, checks.check_blur_edge_widths, measured)
    assert_passes(capsys, checks.check_blur_edge_widths, {3: 4.0, 5: 8, 9: np.int64(16), 13: 24})
    assert_hints(capsys, checks.check_blur_edge_widths, {**measured, 13: 26}, "counts are right", secret=24)
    assert_hints(capsys, checks.check_blur_edge_widths, {3: 2, 5: 4, 9: 8, 13: 12}, "one edge")
    assert_hints(capsys, checks.check_blur_edge_widths, {3: 6, 5: 10, 9: 18, 13: 26}, "strictly between")
    assert_hints(capsys, checks.check_blur_edge_widths, {3: 4, 5: 9, 9: 16, 13: 24}, "recount for k = 5")
    assert_hints(capsys, checks.check_blur_edge_widths, {3: None, 5: None, 9: None, 13: None}, "replace every None")
    assert_hints(capsys, checks.check_blur_edge_widths, {3: 4, 5: 8}, "keys are 3, 5, 9, 13")
    assert_hints(capsys, checks.check_blur_edge_widths, {3: 4, 5: 8, 9: 16, 13: 24.5}, "whole number")


def test_conv_params(capsys):
    assert_passes(capsys, checks.check_conv_params, 5 * 5 * 16 * 32 + 32)
    assert_hints(capsys, checks.check_conv_params, 5 * 5 * 16 * 32, "weights", secret=12832)
    assert_hints(capsys, checks.check_conv_params, 5 * 5 * 32 + 32, "input channel", secret=12832)
    assert_hints(capsys, checks.check_conv_params, 5 * 5 * 16 + 1, "32 of them", secret=12832)
    assert_hints(capsys, checks.check_conv_params, 1000, "count one filter first", secret=12832)
    assert_hints(capsys, checks.check_conv_params, 12832.5, "whole number")
    assert_hints(capsys, checks.check_conv_params, "12832", "single whole number")


# ----------------------------------------------------------------------------
# notebook 02
# ----------------------------------------------------------------------------
def test_output_size(capsys):
    assert_passes(capsys, checks.check_output_size, (224 + 2 * 3 - 7) // 2 + 1)
    assert_hints(capsys, checks.check_output_size, 113, "round the division down", secret=112)
    assert_hints(capsys, checks.check_output_size, 111, "one more", secret=112)
    assert_hints(capsys, checks.check_output_size, 109, "padding", secret=112)
    assert_hints(capsys, checks.check_output_size, 224, "stride 2", secret=112)
    assert_hints(capsys, checks.check_output_size, 7, "output-size formula", secret=112)


def test_same_padding(capsys):
    assert_passes(capsys, checks.check_same_padding, (1, 2))
    assert_hints(capsys, checks.check_same_padding, (2, 1), "bottom")
    assert_hints(capsys, checks.check_same_padding, (0, 3), "evenly")
    assert_hints(capsys, checks.check_same_padding, (1, 1), "ceil(n / s)")
    assert_hints(capsys, checks.check_same_padding, 3, "pair")
    assert_hints(capsys, checks.check_same_padding, "12", "pair")
    assert_hints(capsys, checks.check_same_padding, (1.9, 2.2), "whole numbers")
    assert_passes(capsys, checks.check_same_padding, [1.0, 2.0])


def test_receptive_field(capsys):
    assert_passes(capsys, checks.check_receptive_field, 10)
    assert_hints(capsys, checks.check_receptive_field, 8, "how far apart", secret=10)
    assert_hints(capsys, checks.check_receptive_field, 7, "layer by layer", secret=10)
    assert_hints(capsys, checks.check_receptive_field, 14, "too large", secret=10)
    assert_hints(capsys, checks.check_receptive_field, None, "replace None")
    assert_hints(capsys, checks.check_receptive_field, 10.5, "whole number")


def solution_my_max_pool(x):
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    return x[:h, :w].reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))


def test_my_max_pool(capsys):
    assert_passes(capsys, checks.check_my_max_pool, solution_my_max_pool)

    def averages(x):
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        return x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    assert_hints(capsys, checks.check_my_max_pool, averages, "average pooling")
    assert_hints(capsys, checks.check_my_max_pool, lambda x: x.reshape(x.shape[0] // 2, 2, -1, 2).max(axis=(1, 3)),
                 "on a (5, 7) array")
    assert_hints(capsys, checks.check_my_max_pool, lambda x: conv.max_pool2d(x, 2, padding="same"), "odd size")
    assert_hints(capsys, checks.check_my_max_pool, lambda x: x[::2, ::2], "some values")
    assert_hints(capsys, checks.check_my_max_pool, 42, "function itself")


def test_fully_read_sizes(capsys):
    assert_passes(capsys, checks.check_fully_read_sizes, [158, 190, 222, 254, 286, 318])
    assert_passes(capsys, checks.check_fully_read_sizes, (318, 286.0, 254, 222, 190, 158))
    assert_hints(capsys, checks.check_fully_read_sizes, [158], "5 more")
    assert_hints(capsys, checks.check_fully_read_sizes, [158, 159], "at 159 px", "last 1 are never read")
    assert_hints(capsys, checks.check_fully_read_sizes, [126, 158], "outside the range")
    assert_hints(capsys, checks.check_fully_read_sizes, [], "empty")
    assert_hints(capsys, checks.check_fully_read_sizes, None, "replace None")
    assert_hints(capsys, checks.check_fully_read_sizes, [158.5], "whole numbers")
    assert_hints(capsys, checks.check_fully_read_sizes, "158", "list of whole numbers")


def test_unanswered_templates_get_a_nudge_not_an_error(capsys):
    assert_hints(capsys, checks.check_window_sums, [[None, None], [None, None]], "replace every None")
    assert_hints(capsys, checks.check_conv_params, None, "replace None")
    assert_hints(capsys, checks.check_same_padding, (None, None), "replace None")

    def not_written(*args):
        raise NotImplementedError

    assert_hints(capsys, checks.check_my_conv_layer, not_written, "write the body")
    assert_hints(capsys, checks.check_my_max_pool, not_written, "write the body")


@pytest.mark.parametrize("checker", [getattr(checks, name) for name in checks.__all__ if name.startswith("check_")])
@pytest.mark.parametrize("junk", [None, "abc", float("nan"), [[1, 2], [3]], object()])
def test_checkers_never_raise_on_junk(capsys, checker, junk):
    checker(junk)
    assert capsys.readouterr().out.startswith(checks.FAIL)


# ----------------------------------------------------------------------------
# notebook 03
# ----------------------------------------------------------------------------
def test_cat_output_shape(capsys):
    assert_passes(capsys, checks.check_cat_output_shape, (98, 148, 8))
    assert_hints(capsys, checks.check_cat_output_shape, (294, 445, 8), "after the conv", secret=98)
    assert_hints(capsys, checks.check_cat_output_shape, (100, 150, 8), "shrinks the image", secret=98)
    assert_hints(capsys, checks.check_cat_output_shape, (98, 149, 8), "round down", secret=148)
    assert_hints(capsys, checks.check_cat_output_shape, (98, 148, 3), "8 filters")
    assert_hints(capsys, checks.check_cat_output_shape, (98, 148), "3 numbers")
    assert_hints(capsys, checks.check_cat_output_shape, (None, None, None), "replace each None")


def test_cat_output_shape_needs_whole_numbers(capsys):
    for not_whole in [(98.0, 148.33, 8), (98.5, 148, 8), (294 / 3, 445 / 3, 8), (98, float("inf"), 8)]:
        assert_hints(capsys, checks.check_cat_output_shape, not_whole, "whole numbers", "floor")
    assert_passes(capsys, checks.check_cat_output_shape, (98.0, 148.0, 8.0))  # whole, though written as floats
    assert_passes(capsys, checks.check_cat_output_shape, np.array([98, 148, 8]))
    assert_hints(capsys, checks.check_cat_output_shape, ("98", "148", "8"), "tuple (height, width, channels)")
    assert_hints(capsys, checks.check_cat_output_shape, "98, 148, 8", "tuple (height, width, channels)")
    assert_hints(capsys, checks.check_conv3_shape, (34.0, 34.5, 64), "whole numbers", "floor")


def test_mystery_kernel(capsys):
    secret = -conv.KERNELS["sobel_x"]
    assert_passes(capsys, checks.check_mystery_kernel, secret)
    assert_passes(capsys, checks.check_mystery_kernel, secret.tolist())
    assert_hints(capsys, checks.check_mystery_kernel, conv.KERNELS["sobel_x"], "wrong sign")
    assert_hints(capsys, checks.check_mystery_kernel, conv.KERNELS["sobel_y"], "other direction")
    assert_hints(capsys, checks.check_mystery_kernel, conv.KERNELS["gaussian_blur"], "add up to 0")
    assert_hints(capsys, checks.check_mystery_kernel, conv.KERNELS["laplacian"], "along which direction")
    assert_hints(capsys, checks.check_mystery_kernel, 2 * secret, "wrong scale")
    assert_hints(capsys, checks.check_mystery_kernel, secret / 4, "wrong scale")
    assert_hints(capsys, checks.check_mystery_kernel, -3 * secret, "wrong sign")
    prewitt = np.array([[-1, 0, 1]] * 3)  # the same vertical edges, other relative weights
    assert_hints(capsys, checks.check_mystery_kernel, prewitt, "right pattern, nearly")
    gray, result = checks.mystery_map()
    assert gray.shape == result.shape == (75, 113)


def test_mystery_kernel_untouched_or_constant(capsys):
    for untouched in [np.zeros((3, 3)), [[0, 0, 0]] * 3, -np.zeros((3, 3))]:  # the notebook starts at np.zeros
        printed = verdict(capsys, checks.check_mystery_kernel, untouched)
        assert printed.startswith(checks.FAIL + " Hint: you have not filled the kernel in yet:"), printed
    for constant in [np.full((3, 3), 0.5), np.full((3, 3), -2.0), np.ones((3, 3)) / 9]:
        assert_hints(capsys, checks.check_mystery_kernel, constant, "add up to 0")


def test_relu_then_pool(capsys):
    assert_passes(capsys, checks.check_relu_then_pool, lambda m: conv.max_pool2d(np.maximum(m, 0), 5))
    assert_passes(capsys, checks.check_relu_then_pool, lambda m: np.maximum(conv.max_pool2d(m, 5), 0))
    assert_hints(capsys, checks.check_relu_then_pool, lambda m: conv.max_pool2d(m, 5), "ReLU")
    assert_hints(capsys, checks.check_relu_then_pool, lambda m: conv.avg_pool2d(np.maximum(m, 0), 5), "max (not the mean)")
    assert_hints(capsys, checks.check_relu_then_pool, lambda m: conv.max_pool2d(np.maximum(m, 0), 2), "floor(n / 5)")


def test_relu_pool_order(capsys):
    assert_passes(capsys, checks.check_relu_pool_order, True)
    assert_hints(capsys, checks.check_relu_pool_order, False, "try both orders")
    assert_hints(capsys, checks.check_relu_pool_order, "yes", "True or False")


# ----------------------------------------------------------------------------
# notebook 04
# ----------------------------------------------------------------------------
def test_flatten_size(capsys):
    assert_passes(capsys, checks.check_flatten_size, 5 * 5 * 64)
    assert_hints(capsys, checks.check_flatten_size, 25, "64 filters", secret=1600)
    assert_hints(capsys, checks.check_flatten_size, 7 * 7 * 64, "another input", secret=1600)
    assert_hints(capsys, checks.check_flatten_size, 256, "another input", secret=1600)
    assert_hints(capsys, checks.check_flatten_size, 1000, "five blocks", secret=1600)


def test_dense_params(capsys):
    assert_passes(capsys, checks.check_dense_params, 1600 * 512 + 512)
    assert_hints(capsys, checks.check_dense_params, 1600 * 512, "bias", secret=819712)
    assert_hints(capsys, checks.check_dense_params, 1600 + 512, "multiply", secret=819712)
    assert_hints(capsys, checks.check_dense_params, 256 * 512 + 512, "another input size", secret=819712)
    assert_hints(capsys, checks.check_dense_params, 77, "Flatten length", secret=819712)


def test_unsafe_augmentation(capsys):
    assert_passes(capsys, checks.check_unsafe_augmentation, "b")
    assert_passes(capsys, checks.check_unsafe_augmentation, " B ")
    assert_hints(capsys, checks.check_unsafe_augmentation, "a", "facing left")
    assert_hints(capsys, checks.check_unsafe_augmentation, "c", "never meet")
    assert_hints(capsys, checks.check_unsafe_augmentation, "e", "one letter")


def test_build_model(capsys):
    import keras

    def solution(img_size, names=True, activation="relu", filters=(16, 32, 64, 64, 64)):
        layers = [keras.Input(shape=(img_size, img_size, 3))]
        for block, count in enumerate(filters, start=1):
            layers += [keras.layers.Conv2D(count, 3, activation=activation, name=f"conv{block}" if names else None),
                       keras.layers.MaxPooling2D(2, name=f"pool{block}" if names else None)]
        layers += [keras.layers.Flatten(name="flatten" if names else None),
                   keras.layers.Dense(512, activation="relu", name="dense" if names else None),
                   keras.layers.Dense(1, activation="sigmoid", name="human_probability" if names else None)]
        return keras.Sequential(layers)

    assert_passes(capsys, checks.check_build_model, solution)
    assert_hints(capsys, checks.check_build_model, lambda size: solution(150), "(300, 300, 3)")
    assert_hints(capsys, checks.check_build_model, lambda size: solution(size, names=False), "Name the layers")
    assert_hints(capsys, checks.check_build_model, lambda size: solution(size, activation="tanh"), "relu")
    assert_hints(capsys, checks.check_build_model, lambda size: solution(size, filters=(16, 32, 64, 64, 32)),
                 "conv5 should output")
    assert_hints(capsys, checks.check_build_model, lambda size: solution(300), "img_size everywhere")
    assert_hints(capsys, checks.check_build_model, lambda size: solution(size).layers, "not list")
    assert_hints(capsys, checks.check_build_model, lambda size: 1 / 0, "ZeroDivisionError")

# ----------------------------------------------------------------------------
# notebook 05
# ----------------------------------------------------------------------------
def test_conv3_shape(capsys):
    assert_passes(capsys, checks.check_conv3_shape, (46, 46, 64))
    assert_hints(capsys, checks.check_conv3_shape, (34, 34, 64), "150x150")   # printed in the notebook's grids
    assert_hints(capsys, checks.check_conv3_shape, (23, 23, 64), "pool3")
    assert_hints(capsys, checks.check_conv3_shape, (46, 46, 32), "filters")
    assert_hints(capsys, checks.check_conv3_shape, (1, 46, 46, 64), "no batch axis")
    assert_hints(capsys, checks.check_conv3_shape, (36, 36, 64), "2 pixels off")


# ----------------------------------------------------------------------------
# notebook 06
# ----------------------------------------------------------------------------
def test_ascent_step(capsys):
    def solution(image, gradient, rate):
        return np.clip(image + rate * gradient / (np.linalg.norm(gradient) + 1e-8), 0, 1)

    assert_passes(capsys, checks.check_ascent_step, solution)
    assert_hints(capsys, checks.check_ascent_step, lambda i, g, r: solution(i, -g, r), "downhill")
    assert_hints(capsys, checks.check_ascent_step, lambda i, g, r: np.clip(i + r * g, 0, 1), "its length")
    assert_hints(capsys, checks.check_ascent_step, lambda i, g, r: i + r * g / np.linalg.norm(g), "np.clip")
    assert_hints(capsys, checks.check_ascent_step, lambda i, g, r: i[0], "same shape")


def test_total_variation(capsys):
    def solution(image):
        return np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean()

    assert_passes(capsys, checks.check_total_variation, solution)
    assert_hints(capsys, checks.check_total_variation, lambda x: np.abs(np.diff(x, axis=0)).mean(), "both directions")
    assert_hints(capsys, checks.check_total_variation,
                 lambda x: np.diff(x, axis=0).mean() + np.diff(x, axis=1).mean(), "absolute value")
    assert_hints(capsys, checks.check_total_variation, lambda x: x.std(), "by hand")


def test_receptive_layer(capsys):
    # With more blocks like the model's five, conv6 is the first conv layer whose units see the 150 px input.
    assert_passes(capsys, checks.check_receptive_layer, "conv6")
    assert_passes(capsys, checks.check_receptive_layer, " Conv6 ")
    checks.check_receptive_layer("conv6")
    assert "158x158" in capsys.readouterr().out
    assert_hints(capsys, checks.check_receptive_layer, "conv5", "78x78", "go deeper", secret="conv6")
    assert_hints(capsys, checks.check_receptive_layer, "conv7", "318x318", "shallower", secret="conv6")
    assert_hints(capsys, checks.check_receptive_layer, "pool4", "'conv1' or deeper")
    assert_hints(capsys, checks.check_receptive_layer, 6, "'conv1' or deeper")
    assert_hints(capsys, checks.check_receptive_layer, None, "replace None")


# ----------------------------------------------------------------------------
# notebook 07
# ----------------------------------------------------------------------------
def test_channel_weights(capsys):
    assert_passes(capsys, checks.check_channel_weights, lambda g: g.mean(axis=(1, 2)))
    assert_hints(capsys, checks.check_channel_weights, lambda g: g.mean(axis=-1), "seed articles' mistake")
    assert_hints(capsys, checks.check_channel_weights, lambda g: g.sum(axis=(1, 2)), "sum instead")
    assert_hints(capsys, checks.check_channel_weights, lambda g: g.mean(), "one weight per image")


def test_weighted_map(capsys):
    def solution(features, alphas):
        return np.maximum((features * alphas[:, None, None, :]).sum(axis=-1), 0)

    assert_passes(capsys, checks.check_weighted_map, solution)
    assert_hints(capsys, checks.check_weighted_map, lambda f, a: (f * a[:, None, None, :]).sum(axis=-1), "ReLU")
    assert_hints(capsys, checks.check_weighted_map, lambda f, a: np.maximum(f.sum(axis=-1), 0), "its own weight")
    assert_hints(capsys, checks.check_weighted_map, lambda f, a: f, "one map per image")


def test_conv4_stretch(capsys):
    assert_passes(capsys, checks.check_conv4_stretch, 14.0)
    assert_passes(capsys, checks.check_conv4_stretch, np.float32(14.2))
    assert_hints(capsys, checks.check_conv4_stretch, 32, "conv5", secret=14)
    assert_hints(capsys, checks.check_conv4_stretch, -14, "absolute value")
    assert_hints(capsys, checks.check_conv4_stretch, 3, "keep the largest gap", secret=14)
    assert_hints(capsys, checks.check_conv4_stretch, "14", "one number")


TV_MEASURED = {0: (4.2, 0.31), 40: (3.6, 0.12), 160: (2.9, 0.05)}   # activation and total variation both fall


def test_tv_experiment_reads_the_learners_numbers(capsys):
    checks.check_tv_experiment(TV_MEASURED, "b")
    printed = capsys.readouterr().out
    assert printed.startswith(checks.PASS) and "fell by 31%" in printed and "by 84%" in printed, printed
    for letter in "acd":
        checks.check_tv_experiment(TV_MEASURED, letter)
        printed = capsys.readouterr().out
        assert printed.startswith(checks.FAIL + " Hint:") and "(b)" not in printed, printed


@pytest.mark.parametrize("measured, hint", [
    (None, "replace None"),
    ([1, 2], "pass a dict"),
    ({0: (4.2, 0.31), 40: (3.6, 0.12)}, "no entry for 160"),
    ({0: (4.2, 0.31), 40: "high", 160: (2.9, 0.05)}, "two numbers"),
    ({0: (4.2, 0.31), 40: (3.6, -0.1), 160: (2.9, 0.05)}, "0 or more"),
    ({0: (4.2, 0.31), 40: (3.6, 0.12), 160: (2.9, 0.40)}, "total variation did not fall"),
    ({0: (4.2, 0.31), 40: (3.6, 0.12), 160: (5.0, 0.05)}, "activation did not fall"),
])
def test_tv_experiment_rejects_numbers_that_are_not_the_experiment(capsys, measured, hint):
    checks.check_tv_experiment(measured, "b")   # the right letter cannot pass on wrong numbers
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL + " Hint:") and hint in printed, printed


def test_why_logit_and_centre_bias(capsys):
    assert_passes(capsys, checks.check_why_logit, "c")
    for letter in "abd":
        assert_hints(capsys, checks.check_why_logit, letter, "")
    assert_passes(capsys, checks.check_centre_bias, "B")
    for letter in "acd":
        assert_hints(capsys, checks.check_centre_bias, letter, "")
    assert_hints(capsys, checks.check_centre_bias, "z", "one letter")


# ----------------------------------------------------------------------------
# notebooks 05 to 07: a wrong answer's hint guides without giving the answer
# ----------------------------------------------------------------------------
#: Each choice checker, its right answer, the wrong answers, and words from the right option of the
#: notebook's exercise text that a wrong answer's hint must not say.
CHOICES = [
    (checks.check_why_logit, "c", "abd", ["rounds to", "exactly 0", "is 0 in float32", "exactly zero"]),
    (checks.check_centre_bias, "b", "acd", ["cover the middle", "in the middle", "centre prior"]),
    (checks.check_receptive_layer, "conv6", ["conv1", "conv4", "conv5", "conv7", "conv8"], ["conv6", "158x158"]),
]


@pytest.mark.parametrize("checker, right, wrong_answers, giveaways", CHOICES, ids=[row[0].__name__ for row in CHOICES])
def test_choice_hints_do_not_name_the_answer(capsys, checker, right, wrong_answers, giveaways):
    assert_passes(capsys, checker, right)
    naming_the_answer = [f"({right})", f"'{right}'", f'"{right}"', f"answer is {right}", f"option {right}",
                         f"choose {right}", f"pick {right}"]
    for wrong in wrong_answers:
        printed = verdict(capsys, checker, wrong)
        assert printed.startswith(checks.FAIL + " Hint:"), printed
        for giveaway in naming_the_answer + giveaways:
            assert giveaway not in printed.lower(), f"the hint for {wrong!r} says {giveaway!r}: {printed!r}"


#: Each function checker, a wrong function that gets its last-resort hint, and pieces of the solution
#: that hint must not spell out.
FALLBACKS = [
    (checks.check_ascent_step, lambda image, gradient, rate: image,
     ["clip(", "norm(", "gradient /", "/ norm", "learning_rate *"]),
    (checks.check_total_variation, lambda image: image.std(), ["np.diff", "np.abs", "axis=0", "axis=1"]),
    (checks.check_channel_weights, lambda gradients: gradients.max(axis=(1, 2)),
     ["mean", "average", "axis=(1, 2)", "axes (1 and 2)", "height and width axes"]),
    (checks.check_weighted_map, lambda features, alphas: 2 * np.einsum("nhwk,nk->nhw", features, alphas),
     ["None, None", "sum over the last axis", "np.maximum", "einsum", "axis=-1"]),
]


@pytest.mark.parametrize("checker, wrong_function, solution_pieces", FALLBACKS,
                         ids=[row[0].__name__ for row in FALLBACKS])
def test_fallback_hints_do_not_spell_out_the_solution(capsys, checker, wrong_function, solution_pieces):
    printed = verdict(capsys, checker, wrong_function)
    assert printed.startswith(checks.FAIL + " Hint:"), printed
    for piece in solution_pieces:
        assert piece not in printed, f"the hint spells out {piece!r}: {printed!r}"


def test_sum_experiment_reads_the_learners_pairs(capsys):
    rng = np.random.default_rng(3)
    sums = rng.uniform(-0.6, 0.6, 30)
    correlations = np.tanh(6 * sums) + rng.normal(0, 0.05, 30).clip(-0.05, 0.05) * (np.abs(sums) < 0.1)
    correlations = correlations.clip(-1, 1)
    checks.check_sum_experiment(sums, correlations)
    printed = capsys.readouterr().out
    assert printed.startswith(checks.PASS) and "rank correlation" in printed, printed
    for wrong, hint in [((sums, rng.permutation(correlations)), "its own map"),
                        ((sums[:20], correlations[:20]), "30 of each"),
                        ((sums, correlations * 3), "between -1 and 1"),
                        ((np.zeros(30), correlations), "all 30 sums are equal"),
                        ((sums, None), "pass both lists")]:
        checks.check_sum_experiment(*wrong)
        printed = capsys.readouterr().out
        assert printed.startswith(checks.FAIL + " Hint:") and hint in printed, (hint, printed)


def test_neuron_extent_reads_the_measured_sides(capsys):
    for sides, start, hint in [({"conv2": 8, "conv3": 18}, checks.PASS, "(all of it)"),
                               ({"conv2": 7, "conv3": 16.0}, checks.PASS, "7 px of its 8"),
                               ({"conv2": 8, "conv3": 40}, checks.FAIL, "wider than any one unit"),
                               ({"conv2": 0, "conv3": 18}, checks.FAIL, "no pixel moved"),
                               ({"conv2": 8}, checks.FAIL, "a side for 'conv2' and for 'conv3'"),
                               ({"conv2": 8, "conv3": 17.5}, checks.FAIL, "whole number")]:
        checks.check_neuron_extent(sides)
        printed = capsys.readouterr().out
        assert printed.startswith(start) and hint in printed, (sides, printed)
