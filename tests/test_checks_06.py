"""Tests for notebook 6's newer checkers and helpers: the flat-colour exercise, the neuron-extent
measurement from images, and ``filters.weight_change``."""
import numpy as np
import pytest

from course_helpers import checks, filters, models
from course_helpers.checks.filter_visualization import moved_side


def _printed(capsys, checker, *args, **kwargs):
    checker(*args, **kwargs)
    return capsys.readouterr().out


def test_flat_colour_passes_the_signs_of_the_sums(capsys):
    sums = checks.MADE_UP_KERNEL.sum(axis=(0, 1))
    right = tuple(int(s > 0) for s in sums)
    assert right == (0, 0, 1)
    assert _printed(capsys, checks.check_flat_colour, right).startswith(checks.PASS)
    assert _printed(capsys, checks.check_flat_colour, list(right)).startswith(checks.PASS)


@pytest.mark.parametrize("answer, hint", [
    (None, "replace None"),
    ((1, 0, 0), "majority"),               # counting signs
    ((0, 1, 0), "centre weights"),         # reading the centre weight only
    ((1, 1, 1), "check red and green"),
    ((0, 0, 2), "each 0 or 1"),
    ((0, 1), "each 0 or 1"),
    ("blue", "numbers"),
])
def test_flat_colour_rejects_wrong_answers_with_a_hint(capsys, answer, hint):
    printed = _printed(capsys, checks.check_flat_colour, answer)
    assert printed.startswith(checks.FAIL + " Hint:") and hint in printed, printed


def test_flat_colour_follows_another_kernel(capsys):
    kernel = -checks.MADE_UP_KERNEL
    assert _printed(capsys, checks.check_flat_colour, (1, 1, 0), kernel).startswith(checks.PASS)


def _image_with_moved_square(canvas, first, side):
    image = np.full((canvas, canvas, 3), 0.5)
    image[first:first + side, first:first + side, 1] = 1.0
    return image


def test_moved_side_measures_the_span_not_the_count():
    image = np.full((20, 20, 3), 0.5)
    image[3, 5, 0] = 0.0
    image[9, 6, 2] = 1.0      # rows 3..9 (7), columns 5..6 (2)
    assert moved_side(image) == 7
    assert moved_side(np.full((10, 10, 3), 0.45)) == 0


def test_neuron_extent_with_images_wants_exactly_the_measured_sides(capsys):
    images = {"conv2": _image_with_moved_square(40, 16, 8), "conv3": _image_with_moved_square(40, 11, 17)}
    assert _printed(capsys, checks.check_neuron_extent, {"conv2": 8, "conv3": 17}, images=images) \
        .startswith(checks.PASS)
    # a batch of one image is accepted too
    batched = {name: image[np.newaxis] for name, image in images.items()}
    assert _printed(capsys, checks.check_neuron_extent, {"conv2": 8, "conv3": 17}, images=batched) \
        .startswith(checks.PASS)
    for sides, hint in [({"conv2": 8, "conv3": 18}, "span"),      # plausible, but not what the image shows
                        ({"conv2": 3, "conv3": 17}, "span")]:     # small, within the field
        printed = _printed(capsys, checks.check_neuron_extent, sides, images=images)
        assert printed.startswith(checks.FAIL) and hint in printed, printed


def test_neuron_extent_rejects_images_that_moved_too_much_or_not_at_all(capsys):
    wide = {"conv2": _image_with_moved_square(40, 0, 30), "conv3": _image_with_moved_square(40, 11, 18)}
    printed = _printed(capsys, checks.check_neuron_extent, {"conv2": 30, "conv3": 18}, images=wide)
    assert printed.startswith(checks.FAIL) and "more than one unit sees" in printed
    still = {"conv2": np.full((40, 40, 3), 0.5), "conv3": _image_with_moved_square(40, 11, 18)}
    printed = _printed(capsys, checks.check_neuron_extent, {"conv2": 8, "conv3": 18}, images=still)
    assert printed.startswith(checks.FAIL) and "no pixel" in printed
    printed = _printed(capsys, checks.check_neuron_extent, {"conv2": 8, "conv3": 18}, images=[1, 2])
    assert printed.startswith(checks.FAIL) and "dict" in printed


def test_neuron_extent_without_images_rejects_sides_of_one_lower_unit(capsys):
    for sides, layer in [({"conv2": 3, "conv3": 18}, "conv2"), ({"conv2": 8, "conv3": 8}, "conv3")]:
        printed = _printed(capsys, checks.check_neuron_extent, sides)
        assert printed.startswith(checks.FAIL) and layer in printed and "span" in printed, printed


def test_neuron_extent_matches_maximize_on_the_course_architecture(capsys):
    import keras

    keras.utils.set_random_seed(0)
    model = models.build_classifier(150)
    images, sides = {}, {}
    for layer in ("conv2", "conv3"):
        synthesized, _ = filters.maximize(model, layer, [0], steps=10, progress=False, objective="neuron")
        images[layer] = synthesized[0]
        sides[layer] = moved_side(synthesized[0])
    printed = _printed(capsys, checks.check_neuron_extent, sides, images=images)
    assert printed.startswith(checks.PASS), printed


def test_weight_change():
    import keras

    keras.utils.set_random_seed(1)
    start = models.build_classifier(150)
    moved = models.build_classifier(150)
    moved.set_weights(start.get_weights())
    kernel, bias = moved.get_layer("conv1").get_weights()
    moved.get_layer("conv1").set_weights([kernel * 1.5, bias + 1.0])
    changes = filters.weight_change(moved, start, ["conv1", "conv2"])
    assert changes["conv1"] == pytest.approx(0.5, rel=1e-5)      # the bias is left out
    assert changes["conv2"] == 0.0
    other = keras.Sequential([keras.Input((150, 150, 3)), keras.layers.Conv2D(4, 3, name="conv1")])
    with pytest.raises(ValueError, match="same architecture"):
        filters.weight_change(other, start, ["conv1"])


def test_flat_colour_experiment_of_exercise_4_finds_blue(capsys):
    """Exercise 4's folded experiment: a one-layer model with the made-up kernel, climbed by maximize."""
    import keras

    one_layer = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(1, 3, name="made_up")])
    one_layer.get_layer("made_up").set_weights([checks.MADE_UP_KERNEL[..., np.newaxis], np.zeros(1)])
    found, _ = filters.maximize(one_layer, "made_up", [0], steps=40, progress=False)
    middle = found[0, found.shape[1] // 2, found.shape[2] // 2]
    np.testing.assert_allclose(middle, [0.0, 0.0, 1.0], atol=0.05)
    answer = tuple(int(round(value)) for value in middle)
    assert _printed(capsys, checks.check_flat_colour, answer).startswith(checks.PASS)


def test_receptive_layer_takes_the_field_too(capsys):
    assert _printed(capsys, checks.check_receptive_layer, ("conv6", 158)).startswith(checks.PASS)
    assert _printed(capsys, checks.check_receptive_layer, ["conv6", 158.0]).startswith(checks.PASS)
    assert _printed(capsys, checks.check_receptive_layer, "conv6").startswith(checks.PASS)   # the name alone
    for wrong, hint in [(("conv6", 150), "right layer"), (("conv6", "158"), "right layer"),
                        (("conv5", 158), "go deeper"), (("conv6",), "two things"), (None, "replace None")]:
        printed = _printed(capsys, checks.check_receptive_layer, wrong)
        assert printed.startswith(checks.FAIL + " Hint:") and hint in printed, printed


def test_show_images_row_labels():
    from course_helpers import plotting

    images = [np.zeros((4, 4)), np.ones((4, 4)), np.zeros((4, 4, 3)), np.ones((4, 4, 3))]
    figure = plotting.show_images(images, ncols=2, row_labels=["first", "second"])
    labels = [ax.get_ylabel() for ax in figure.axes[::2]]
    assert labels == ["first", "second"]
    with pytest.raises(ValueError, match="row labels"):
        plotting.show_images(images, ncols=2, row_labels=["only one"])


def test_seen_mask_follows_the_receptive_field_rule():
    model = models.build_classifier(150)
    channel = filters.seen_mask(model, "conv3", 40)
    neuron = filters.seen_mask(model, "conv3", 40, objective="neuron")
    assert channel.shape == neuron.shape == (40, 40) and channel.dtype == bool
    # conv3: field 18 px, jump 4 px, a 6x6 map on 40 px; measured units 2 and 3, centre unit 2
    rows = np.flatnonzero(channel.any(axis=1))
    assert (rows[0], rows[-1]) == (8, 29) and channel[8:30, 8:30].all() and channel.sum() == 22 * 22
    rows = np.flatnonzero(neuron.any(axis=1))
    assert (rows[0], rows[-1]) == (8, 25) and neuron.sum() == 18 * 18
    conv4 = filters.seen_mask(model, "conv4", 80)
    assert np.flatnonzero(conv4.any(axis=0))[[0, -1]].tolist() == [16, 61]   # section 4's yellow square
    with pytest.raises(ValueError, match="objective"):
        filters.seen_mask(model, "conv3", 40, objective="pixel")
    with pytest.raises(ValueError, match="smaller"):
        filters.seen_mask(model, "conv5", 40)


# Exercise 5, round 3: the prediction is which share falls more; the right letter comes from the learner's numbers.
@pytest.mark.parametrize("measured, right", [
    ({0: (17.0, 0.80), 40: (15.5, 0.26), 160: (12.5, 0.10)}, "b"),   # the stored run: the total variation falls more
    ({0: (10.0, 0.80), 40: (2.0, 0.50), 160: (1.0, 0.40)}, "a"),     # the activation falls more
    ({0: (10.0, 0.80), 40: (7.0, 0.60), 160: (5.0, 0.42)}, "c"),     # within 10 points of each other
])
def test_tv_experiment_judges_the_prediction_by_the_learners_shares(capsys, measured, right):
    printed = _printed(capsys, checks.check_tv_experiment, measured, right)
    assert printed.startswith(checks.PASS) and "lie between" in printed, printed
    for wrong in sorted(set("abcd") - {right}):
        printed = _printed(capsys, checks.check_tv_experiment, measured, wrong)
        assert printed.startswith(checks.FAIL + " Hint:") and f"({right})" not in printed, printed


def test_tv_experiment_mentions_a_tv_40_entry_out_of_line(capsys):
    measured = {0: (17.0, 0.80), 40: (18.0, 0.26), 160: (12.5, 0.10)}   # tv=40 above tv=0: noise, not a mistake
    printed = _printed(capsys, checks.check_tv_experiment, measured, "b")
    assert printed.startswith(checks.PASS) and "do not both lie between" in printed, printed


def test_tv_experiment_without_a_prediction_asks_for_a_letter(capsys):
    printed = _printed(capsys, checks.check_tv_experiment, {0: (17.0, 0.80), 40: (15.5, 0.26), 160: (12.5, 0.10)})
    assert printed.startswith(checks.FAIL + " Hint:") and "one letter" in printed, printed


def test_receptive_layer_pass_message_states_the_growth_per_conv(capsys):
    printed = _printed(capsys, checks.check_receptive_layer, ("conv6", 158))
    assert "5 x the earlier conv's jump" in printed and "Each block adds" not in printed, printed


def _folded_code(cell_id):
    """The Python code of a notebook 6 cell's folded solution (its ```python block)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "notebooks" / "06_filter_visualization.ipynb"
    cell = next(c for c in json.load(open(path))["cells"] if c.get("id") == cell_id)
    return "".join(cell["source"]).split("```python\n")[1].split("```")[0]


def test_tv_experiment_solution_of_exercise_5_passes_its_own_checker(capsys):
    """Exercise 5's folded recipe, run on the untrained course architecture with 10 steps: the letter it
    computes from its own numbers is the one the checker accepts."""
    import keras

    keras.utils.set_random_seed(3)
    model = models.build_classifier(150)
    from course_helpers import anatomy

    field, jump = anatomy.receptive_field(model, "conv4")
    canvas = 80
    units = (canvas - field) // jump + 1
    seen = slice(2 * jump, (units - 3) * jump + field)
    code = _folded_code("06-33").replace("steps=100", "steps=10")
    assert "steps=10" in code and "my_choice" in code
    namespace = {"np": np, "filters": filters, "model": model, "chosen_filters": [0, 1], "seen": seen}
    exec(code, namespace)
    capsys.readouterr()
    assert namespace["my_choice"] in {"a", "b", "c"}
    printed = _printed(capsys, checks.check_tv_experiment, namespace["my_numbers"], namespace["my_choice"])
    assert printed.startswith(checks.PASS), printed


def test_maximize_through_a_preprocessing_lambda_and_a_nested_model():
    """Section 8's call, download-free: a tiny nested conv model in place of VGG16, wrapped as the notebook
    wraps it (pixels -> Lambda(preprocessing) -> nested model), climbed on its inner conv layers."""
    import keras

    keras.utils.set_random_seed(5)
    inner_input = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(inner_input)
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="block2_conv1")(x)
    tiny_vgg = keras.Model(inner_input, x, name="tiny_vgg")
    pixels = keras.Input((None, None, 3), name="pixels")
    to_vgg = keras.layers.Lambda(lambda p: keras.applications.vgg16.preprocess_input(p * 255.0), name="to_vgg")
    vgg_on_pixels = keras.Model(pixels, tiny_vgg(to_vgg(pixels)), name="vgg16_on_pixels")
    for name in ["block1_conv1", "block2_conv1"]:
        synthesized, final = filters.maximize(vgg_on_pixels, name, [0, 1], steps=2, jitter=2, blur_every=4,
                                              progress=False)
        assert synthesized.shape[0] == 2 and synthesized.shape[-1] == 3 and final.shape == (2,)
        assert np.all((synthesized >= 0) & (synthesized <= 1)) and np.all(np.isfinite(final))
