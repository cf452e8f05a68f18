"""course_helpers.activations and course_helpers.filters, on small models built here."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from course_helpers import activations, anatomy, filters


def small_cnn(seed=0):
    """A tiny classifier shaped like the course's: conv/pool blocks, flatten, dense, sigmoid."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(shape=(40, 40, 3)),
        keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(6, 3, activation="relu", name="c2"),
        keras.layers.MaxPooling2D(2, name="p2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])


def nested_cnn(seed=0):
    """The same kind of network with its conv stack as a nested (functional) base model."""
    keras.utils.set_random_seed(seed)
    base_input = keras.Input(shape=(40, 40, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="b1")(base_input)
    x = keras.layers.MaxPooling2D(2, name="bp1")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="b2")(x)
    base = keras.Model(base_input, x, name="base")
    inputs = keras.Input(shape=(40, 40, 3))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(keras.layers.Flatten()(base(inputs)))
    return keras.Model(inputs, outputs), base


IMAGES = np.random.default_rng(0).random((2, 40, 40, 3)).astype("float32")


# ----------------------------------------------------------------------------
# feature_extractor, sparsity, plots
# ----------------------------------------------------------------------------
def test_outputs_equal_the_layers_computed_by_hand():
    model = small_cnn()
    maps = activations.feature_extractor(model).predict(IMAGES, verbose=0)
    assert list(maps) == ["c1", "p1", "c2", "p2"]  # every conv and pooling layer, in order
    c1 = model.get_layer("c1")
    by_hand = np.maximum(tf.nn.conv2d(IMAGES, c1.kernel, 1, "VALID").numpy() + c1.bias.numpy(), 0)
    np.testing.assert_allclose(maps["c1"], by_hand, atol=1e-5)
    np.testing.assert_allclose(maps["p1"], tf.nn.max_pool2d(by_hand, 2, 2, "VALID").numpy(), atol=1e-6)
    p1 = maps["p1"]
    c2 = model.get_layer("c2")
    np.testing.assert_allclose(maps["c2"], np.maximum(tf.nn.conv2d(p1, c2.kernel, 1, "VALID").numpy()
                                                      + c2.bias.numpy(), 0), atol=1e-5)


def test_chosen_layers_come_back_in_the_order_asked():
    model = small_cnn()
    maps = activations.feature_extractor(model, ["p2", "c1"]).predict(IMAGES, verbose=0)
    assert list(maps) == ["p2", "c1"] and maps["p2"].shape == (2, 8, 8, 6)


def test_nested_base_models_are_reached_by_layer_name():
    model, base = nested_cnn()
    assert activations.list_layers(model) == ["b1", "bp1", "b2"]
    maps = activations.feature_extractor(model).predict(IMAGES, verbose=0)
    reference = keras.Model(base.inputs, base.get_layer("b2").output).predict(IMAGES, verbose=0)
    np.testing.assert_allclose(maps["b2"], reference, atol=1e-6)


def test_an_unknown_layer_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"no layer named 'conv9'.*'c1', 'p1', 'c2', 'p2', 'flat', 'out'"):
        activations.feature_extractor(small_cnn(), ["conv9"])


def test_sparsity_counts_exact_zeros():
    fractions = activations.sparsity({"a": np.array([0.0, 1.0, 0.0, 2.0]), "b": np.zeros((2, 3))})
    assert fractions == {"a": 0.5, "b": 1.0}


def test_feature_map_grid_labels_each_row_with_its_own_layer_and_marks_silent_channels():
    first = np.random.default_rng(0).random((1, 6, 6, 3))
    first[0, :3] = 0  # ReLU zeros in the top half
    maps = {"first": first, "second": np.zeros((1, 3, 3, 2))}
    fig = activations.plot_feature_maps(maps, image=np.zeros((12, 12, 3)), max_channels=3)
    labels = [ax.get_ylabel() for ax in fig.axes[::4]]  # first column of each row
    assert labels == ["first\n6x6x3\nch 0-2 of 3", "second\n3x3x2\nch 0-1 of 2"]  # which channels each row shows
    silent_marks = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert silent_marks == ["silent", "silent"]
    shown = fig.axes[1].images[0]
    assert shown.get_clim() == (0, 1) and np.all(shown.get_array()[:3] == 0), "an exact 0 is drawn black"
    assert np.max(shown.get_array()) == 1
    with pytest.raises(ValueError, match="batch of 2"):
        activations.plot_feature_maps({"x": np.zeros((2, 4, 4, 1))})


def test_feature_map_grid_can_write_each_panels_maximum():
    first = np.zeros((1, 4, 4, 3))
    first[0, 1, 2, 0], first[0, 0, 0, 1] = 0.0031, 5.25  # channel 2 silent
    fig = activations.plot_feature_maps({"first": first}, max_channels=3, show_maximum=True)
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["0.0031", "5.2", "silent"]
    plain = activations.plot_feature_maps({"first": first}, max_channels=3)
    assert [t.get_text() for ax in plain.axes for t in ax.texts] == ["silent"]  # off by default


def test_feature_map_grid_can_enlarge_the_panels_labels():
    first = np.zeros((1, 4, 4, 3))
    first[0, 1, 2, 0] = 1.5                                   # channels 1 and 2 silent
    fig = activations.plot_feature_maps({"first": first}, max_channels=3, show_maximum=True,
                                        channels={"first": [0, 1, 2]}, label_size=11)
    labels = [text for ax in fig.axes[1:] for text in [*ax.texts, ax.title]]
    assert [text.get_text() for text in labels] == ["1.5", "ch 0", "silent", "ch 1", "silent", "ch 2"]
    assert {text.get_fontsize() for text in labels} == {11}
    plain = activations.plot_feature_maps({"first": first}, max_channels=3, show_maximum=True)
    assert max(text.get_fontsize() for ax in plain.axes[1:] for text in [*ax.texts, ax.title]) < 11   # smaller by default


def test_feature_map_grid_shows_the_channels_a_rule_picks():
    maps = np.zeros((1, 4, 4, 5))
    for channel in range(5):
        maps[0, 0, 0, channel] = channel + 1.0              # each channel's maximum is its number plus 1
    fig = activations.plot_feature_maps({"a": maps, "b": maps[..., :2]}, max_channels=2, show_maximum=True,
                                        channels={"a": [4, 1]})
    assert fig.axes[0].get_ylabel() == "a\n4x4x5\n2 chosen ch of 5"
    assert [fig.axes[i].get_title() for i in (1, 2)] == ["ch 4", "ch 1"]
    assert [t.get_text() for t in fig.axes[1].texts + fig.axes[2].texts] == ["5.0", "2.0"]   # the chosen channels' maxima
    assert fig.axes[3].get_ylabel() == "b\n4x4x2\nch 0-1 of 2"    # a layer not named: its first channels
    with pytest.raises(ValueError, match=r"channels\['a'\] must hold channel numbers from 0 to 4"):
        activations.plot_feature_maps({"a": maps}, channels={"a": [5]})


def test_plot_by_depth_draws_error_bars_in_percent():
    fig = activations.plot_by_depth({"a": 0.5, "b": 0.9}, "accuracy (%)", errors={"a": 0.1, "b": (0.05, 0.02)})
    bars = fig.axes[0].collections[0].get_segments()
    np.testing.assert_allclose([(segment[0][1], segment[1][1]) for segment in bars], [(40, 60), (85, 92)])
    with pytest.raises(ValueError, match=r"no entry for \['b'\]"):
        activations.plot_by_depth({"a": 0.5, "b": 0.9}, "accuracy (%)", errors={"a": 0.1})
    assert not activations.plot_by_depth({"a": 0.5}, "x").axes[0].collections  # no errors, no bars


def test_plot_channel_checks_the_channel():
    maps = {"c1": np.zeros((1, 5, 5, 4))}
    assert "c1, channel 3" in activations.plot_channel(maps, "c1", 3).axes[0].get_title()
    with pytest.raises(ValueError, match="channels 0 to 3"):
        activations.plot_channel(maps, "c1", 4)


def test_plot_channel_draws_zero_black_like_the_grids():
    maps = {"c1": np.stack([np.linspace(0.5, 2.0, 25).reshape(5, 5), np.linspace(-1.0, 3.0, 25).reshape(5, 5)], -1)}
    drawn = activations.plot_channel(maps, "c1", 0).axes[0].images[0]
    assert drawn.get_cmap().name == "magma" and drawn.norm.vmin == 0 and drawn.norm.vmax == 2.0
    assert activations.plot_channel(maps, "c1", 1).axes[0].images[0].norm.vmin == -1.0   # negatives: from the minimum


# ----------------------------------------------------------------------------
# maximize
# ----------------------------------------------------------------------------
def test_the_objective_rises_over_the_steps():
    model = small_cnn()
    starts = [filters.maximize(model, "c2", [0, 3, 5], steps=steps, progress=False)[1] for steps in (1, 10, 40)]
    assert np.all(starts[1] > starts[0]) and np.all(starts[2] > starts[1])


def test_a_linear_filter_is_maximized_by_an_image_shaped_like_its_kernel():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input(shape=(None, None, 3)), keras.layers.Conv2D(1, 3, use_bias=False, name="lin")])
    kernel = model.get_layer("lin").kernel.numpy()[:, :, :, 0]
    images, final = filters.maximize(model, "lin", [0], image_size=3, steps=200, learning_rate=0.01, l2=5.0,
                                     progress=False)
    direction = images[0] - 0.5
    cosine = np.sum(direction * kernel) / (np.linalg.norm(direction) * np.linalg.norm(kernel))
    assert cosine >= 0.9
    assert final[0] > 0


def test_the_same_seed_gives_the_same_images():
    model = small_cnn()
    first = filters.maximize(model, "c1", [0, 1], steps=5, jitter=2, blur_every=2, seed=3, progress=False)
    again = filters.maximize(model, "c1", [0, 1], steps=5, jitter=2, blur_every=2, seed=3, progress=False)
    other = filters.maximize(model, "c1", [0, 1], steps=5, jitter=2, blur_every=2, seed=4, progress=False)
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    assert first[0].dtype == np.float32 and first[0].min() >= 0 and first[0].max() <= 1


def test_nested_models_and_the_output_layer_work():
    model, _ = nested_cnn()
    images, final = filters.maximize(model, "b2", [1, 2], steps=5, progress=False)
    assert images.shape[0] == 2 and final.shape == (2,)
    images, logits = filters.maximize(model, "out", [0, 1], steps=30, progress=False)
    assert images.shape == (2, 40, 40, 3)
    probability_human = model.predict(images, verbose=0).ravel()
    assert probability_human[1] > probability_human[0]  # class 1 pushed towards "human", class 0 towards "horse"
    assert np.all(logits > 0)  # the signed logit was raised for both


def test_regularizers_do_what_they_say():
    model = small_cnn()
    plain, _ = filters.maximize(model, "c2", [0, 1, 2], steps=40, progress=False)
    smooth, _ = filters.maximize(model, "c2", [0, 1, 2], steps=40, tv=2.0, progress=False)
    grey, _ = filters.maximize(model, "c2", [0, 1, 2], steps=40, l2=20.0, progress=False)
    assert np.all(filters.total_variation(smooth).numpy() < filters.total_variation(plain).numpy())
    assert np.abs(grey - 0.5).mean() < np.abs(plain - 0.5).mean()


def test_the_channel_objective_is_mean_activation_of_the_real_output():
    model = small_cnn()
    objective, canvas = filters._objective(model, "c2", [4, 0, 4], None)
    assert canvas == (40, 40)
    maps = activations.feature_extractor(model, ["c2"], image_shape=(40, 40, 3))(IMAGES[[0, 1, 0]])["c2"]
    expected = filters.mean_activation(maps, [4, 0, 4]).numpy()
    np.testing.assert_array_equal(objective.report(IMAGES[[0, 1, 0]]).numpy(), expected)


def test_the_climb_runs_on_the_window_its_units_see_and_gets_the_same_values():
    model = small_cnn()
    # c2 on 40 px: a 17x17 map; units 2 to 14 are read (border 2); unit i sees pixels 2i to 2i+7
    assert filters._input_window(model, "c2", (40, 40), ((2, 14), (2, 14))) == (slice(4, 36), slice(4, 36))
    assert filters._input_window(model, "c2", (40, 40), ((8, 8), (3, 5))) == (slice(16, 24), slice(6, 18))
    assert filters._input_window(model, "c1", (40, 40), ((0, 37), (0, 37))) is None  # the whole canvas
    same = keras.Sequential([keras.Input(shape=(40, 40, 3)), keras.layers.Conv2D(2, 3, padding="same", name="s")])
    assert filters._input_window(same, "s", (40, 40), ((5, 5), (5, 5))) is None  # its edges see zero padding
    whole = activations.feature_extractor(model, ["c2"], image_shape=(40, 40, 3))
    pre_relu = anatomy.pre_activation_model(model, "c2", (40, 40, 3))
    for objective in filters.OBJECTIVES:
        target, _ = filters._objective(model, "c2", [1, 5], None, objective)
        row, column = filters.centre_unit((17, 17))
        for read, maps in [(target.climb, pre_relu(IMAGES)["c2"]), (target.report, whole(IMAGES)["c2"])]:
            maps = np.asarray(maps)
            expected = (maps[[0, 1], 2:15, 2:15, [1, 5]].mean(axis=(1, 2)) if objective == "channel"
                        else maps[[0, 1], row, column, [1, 5]])
            np.testing.assert_allclose(read(IMAGES).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert np.any(np.asarray(pre_relu(IMAGES)["c2"]) < 0)  # the climb is before the ReLU


@pytest.mark.parametrize("map_shape, centre", [((17, 17), (8, 8)), ((18, 18), (8, 8)), ((1, 1), (0, 0)),
                                               ((4, 7), (1, 3)), ((2, 6), (0, 2))])
def test_the_centre_unit_of_an_even_side_is_the_upper_left_of_the_middle_two(map_shape, centre):
    assert filters.centre_unit(map_shape) == centre


@pytest.mark.parametrize("canvas, field", [(42, range(16, 24)), (44, range(18, 26))])
def test_the_neuron_objective_moves_only_the_pixels_its_unit_sees(canvas, field):
    # c2's map is 18x18 on a 42-px canvas (centre unit 8, the upper of the middle two) and 19x19 on 44 px
    # (centre 9); unit i sees input rows 2i to 2i+7 (c1 3x3, p1 2x2, c2 3x3).
    model = small_cnn()
    options = dict(image_size=canvas, objective="neuron", progress=False)
    one, _ = filters.maximize(model, "c2", range(6), steps=1, **options)
    images, final = filters.maximize(model, "c2", range(6), steps=25, **options)
    seen = np.zeros((canvas, canvas), bool)
    seen[field.start:field.stop, field.start:field.stop] = True
    moved = np.any(images != one, axis=-1)  # (6, canvas, canvas): moved between step 1 and step 25
    assert not np.any(moved[:, ~seen]), "a pixel outside the centre unit's receptive field moved"
    assert np.all(images[:, ~seen] >= 0.4) and np.all(images[:, ~seen] < 0.6)  # still the grey start values
    assert moved[:, seen].mean() > 0.5
    assert np.all(final > 0)


def test_on_a_linear_first_layer_the_channel_mean_goes_flat_and_a_neuron_shows_its_kernel():
    # A conv layer's pre-ReLU channel mean is linear in the pixels: every pixel deep inside gets the same
    # gradient (the sum of its channel's kernel weights), so the optimum is a flat colour. One unit's value
    # is the kernel times its 3x3 patch, so its optimum is the kernel's pattern (its signs, pixels clipped).
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(24, 24, 3)),
                                  keras.layers.Conv2D(4, 3, activation="relu", name="c1")])
        kernels = model.get_layer("c1").kernel.numpy()
        flat, _ = filters.maximize(model, "c1", range(4), steps=40, image_size=24, progress=False)
        neuron, _ = filters.maximize(model, "c1", range(4), steps=40, image_size=24, objective="neuron",
                                     progress=False)
        row, column = filters.centre_unit((22, 22))
        for f in range(4):
            inner = flat[f, 4:20, 4:20]  # pixels every unit of the inner map covers with all 9 kernel taps
            assert inner.std(axis=(0, 1)).max() < 0.02, "the channel-mean optimum is one colour inside"
            patch = neuron[f, row:row + 3, column:column + 3] - 0.5
            kernel = kernels[..., f]
            correlation = np.corrcoef(patch.ravel(), kernel.ravel())[0, 1]
            assert correlation > 0.7, f"seed {seed}, filter {f}: the neuron's patch is not the kernel's pattern"
            assert patch.std() > 0.3


def test_bad_objectives_give_clear_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match=r"objective must be one of \['channel', 'neuron'\]; got 'unit'"):
        filters.maximize(model, "c2", [0], steps=1, objective="unit", progress=False)
    with pytest.raises(ValueError, match="a class of the output layer is one number already"):
        filters.maximize(model, "out", [1], steps=1, objective="neuron", progress=False)


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        (("c9", [0]), ValueError, "no layer named 'c9'"),
        (("c2", [6]), ValueError, "filters 0 to 5"),
        (("out", [2]), ValueError, "0 (horse) or 1 (human)"),
        (("c2", "zero"), TypeError, "list of ints"),
        (("c2", []), ValueError, "empty"),
    ],
)
def test_bad_layers_and_indices_give_clear_errors(arguments, error, words):
    with pytest.raises(error) as info:
        filters.maximize(small_cnn(), *arguments, steps=1, progress=False)
    assert words in str(info.value)


def test_plot_kernels_needs_an_rgb_layer():
    model = small_cnn()
    fig = filters.plot_kernels(model.get_layer("c1"))
    assert len(fig.axes) == 2 * 4
    with pytest.raises(ValueError, match="4 input channels"):
        filters.plot_kernels(model.get_layer("c2"))


# ----------------------------------------------------------------------------
# top_patches
# ----------------------------------------------------------------------------
def square_detector():
    """Channel 0 of "detect" is the mean of a 3x3x3 window (ReLU): a bright 3x3 square excites it most;
    channel 1 is minus that, silent on positive pictures."""
    model = keras.Sequential([
        keras.Input(shape=(20, 20, 3)),
        keras.layers.Conv2D(2, 3, activation="relu", name="detect"),
        keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    kernel[..., 0], kernel[..., 1] = 1 / 27, -1 / 27
    model.get_layer("detect").set_weights([kernel, np.zeros(2, np.float32)])
    return model


def pictures_with_a_square():
    """Five dim noisy pictures; picture 3 has a bright 3x3 square at rows 10-12, columns 6-8."""
    pictures = 0.1 * np.random.default_rng(1).random((5, 20, 20, 3)).astype("float32")
    pictures[3, 10:13, 6:9] = 1.0
    return pictures


def test_top_patches_finds_the_bright_square_first():
    model, pictures = square_detector(), pictures_with_a_square()
    patches, values, places = activations.top_patches(model, "detect", pictures, [0, 1], k=3, return_locations=True)
    assert patches.shape == (2, 3, 3, 3, 3) and patches.dtype == np.float32  # 3x3: one detect unit's field
    assert tuple(places[0, 0]) == (3, 10, 6) and values[0, 0] == pytest.approx(1.0)
    np.testing.assert_array_equal(patches[0, 0], pictures[3, 10:13, 6:9])
    assert np.all(np.diff(values[0]) <= 0) and values[0, 1] < values[0, 0]
    assert all(image == 3 for image, _, _ in places[0])  # the runners-up overlap the square too
    # channel 1 is silent everywhere: equal activations are ranked by image, row, column
    assert places[1].tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 2]] and np.all(values[1] == 0)
    np.testing.assert_array_equal(patches[1, 2], pictures[0, 0:3, 2:5])
    pooled = activations.top_patches(model, "pool", pictures, 0, k=1)
    assert pooled.shape == (1, 1, 4, 4, 3)  # pool unit (5, 3) sees rows 10-13, columns 6-9
    np.testing.assert_array_equal(pooled[0, 0], pictures[3, 10:14, 6:10])


def test_top_patches_are_the_best_units_over_all_images_with_their_fields_by_hand():
    model = small_cnn(seed=4)
    pictures = np.random.default_rng(4).random((20, 40, 40, 3)).astype("float32")  # 16 + 4: two passes
    patches, values, places = activations.top_patches(model, "c2", pictures, [3, 1], k=5, return_locations=True)
    assert patches.shape == (2, 5, 8, 8, 3)  # c1 3x3, p1 2x2, c2 3x3: 8 pixels, 2 apart
    maps = activations.feature_extractor(model, ["c2"]).predict(pictures, verbose=0)["c2"]
    for row, channel in enumerate([3, 1]):
        flat = maps[..., channel].ravel()
        best = np.argsort(-flat, kind="stable")[:5]
        np.testing.assert_allclose(values[row], flat[best], rtol=1e-6)
        np.testing.assert_array_equal(places[row], np.stack(np.unravel_index(best, maps.shape[:3]), axis=-1))
        for rank, (image, i, j) in enumerate(places[row]):  # unit (i, j) of c2 sees rows 2i..2i+7
            np.testing.assert_array_equal(patches[row, rank], pictures[image, 2 * i:2 * i + 8, 2 * j:2 * j + 8])


def test_top_patches_one_per_image_takes_each_images_strongest_unit():
    model = small_cnn(seed=4)
    pictures = np.random.default_rng(5).random((20, 40, 40, 3)).astype("float32")  # two passes of 16
    patches, values, places = activations.top_patches(model, "c2", pictures, [3, 1], k=6, one_per_image=True,
                                                      return_locations=True)
    maps = activations.feature_extractor(model, ["c2"]).predict(pictures, verbose=0)["c2"]
    for row, channel in enumerate([3, 1]):
        strongest = maps[..., channel].reshape(20, -1).max(axis=1)  # each image's best unit
        best_images = np.argsort(-strongest, kind="stable")[:6]
        np.testing.assert_array_equal(places[row, :, 0], best_images)
        np.testing.assert_allclose(values[row], strongest[best_images], rtol=1e-6)
        for rank, (image, i, j) in enumerate(places[row]):
            assert maps[image, i, j, channel] == strongest[image]
            np.testing.assert_array_equal(patches[row, rank], pictures[image, 2 * i:2 * i + 8, 2 * j:2 * j + 8])
    with pytest.raises(ValueError, match="k must be an int from 1 to 20"):
        activations.top_patches(model, "c2", pictures, 3, k=21, one_per_image=True)
    with pytest.raises(TypeError, match="one_per_image must be True or False"):
        activations.top_patches(model, "c2", pictures, 3, one_per_image="yes")


def test_top_patches_pad_beyond_the_border_with_zeros():
    model = keras.Sequential([keras.Input(shape=(12, 12, 3)),
                              keras.layers.Conv2D(1, 5, padding="same", use_bias=False, name="same"),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    kernel = np.zeros((5, 5, 3, 1), np.float32)
    kernel[2, 2] = 1 / 3  # each unit repeats its centre pixel
    model.get_layer("same").set_weights([kernel])
    pictures = np.full((2, 12, 12, 3), 0.2, np.float32)
    pictures[1, 0, 0], pictures[0, 11, 11] = 1.0, 0.9
    patches, values, places = activations.top_patches(model, "same", pictures, 0, k=2, return_locations=True)
    assert places[0].tolist() == [[1, 0, 0], [0, 11, 11]]
    np.testing.assert_allclose(values[0], [1.0, 0.9], rtol=1e-6)
    top_left, bottom_right = patches[0]
    assert activations.PADDING_VALUE == 0.0
    assert np.all(top_left[:2] == 0) and np.all(top_left[:, :2] == 0)  # rows and columns -2 and -1
    np.testing.assert_array_equal(top_left[2:, 2:], pictures[1, :3, :3])
    assert np.all(bottom_right[3:] == 0) and np.all(bottom_right[:, 3:] == 0)  # rows and columns 12 and 13
    np.testing.assert_array_equal(bottom_right[:3, :3], pictures[0, 9:, 9:])


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        (("conv9", [0]), ValueError, "no layer named 'conv9'"),
        (("flat", [0]), ValueError, "not feature maps"),
        (("detect", [2]), ValueError, "detect has channels 0 to 1; got 2"),
        (("detect", []), ValueError, "channels is empty"),
        (("detect", ["0"]), TypeError, "an int or a list of ints"),
        (("detect", 1.0), TypeError, "an int or a list of ints"),
        (("detect", [0], 0), ValueError, "k must be an int from 1 to 1620"),
        (("detect", [0], 1621), ValueError, "k must be an int from 1 to 1620"),
        (("detect", [0], 2.5), TypeError, "k must be an int"),
    ],
)
def test_top_patches_clear_errors(arguments, error, words):
    layer_name, channels, *k = arguments
    with pytest.raises(error) as info:
        activations.top_patches(square_detector(), layer_name, pictures_with_a_square(), channels, *k)
    assert words in str(info.value)


def test_units_read_by_follows_the_floor_of_valid_layers():
    model = small_cnn()  # 40 -> c1 38 -> p1 19 -> c2 17 -> p2 8: p2 reads c2's rows 0-15, p1's 0-17, c1's 0-35
    assert activations.units_read_by(model, "c2", "p2").shape == (17, 17)
    for name, rows_read in [("c2", 16), ("p1", 18), ("c1", 36)]:
        read = activations.units_read_by(model, name, "p2")
        expected = np.zeros(read.shape[0], bool)
        expected[:rows_read] = True
        np.testing.assert_array_equal(read, np.outer(expected, expected))
    assert activations.units_read_by(model, "c1", "c2").all()  # p1 drops nothing of c1's 38 rows
    with pytest.raises(ValueError, match="must come after"):
        activations.units_read_by(model, "p2", "c1")


def test_units_read_by_agrees_with_the_gradient():
    """The units whose value can change the later layer's output are exactly the ones read."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(41, 41, 1)),
        keras.layers.Conv2D(1, 3, kernel_initializer="ones", use_bias=False, name="a"),
        keras.layers.AveragePooling2D(2, name="b"),
        keras.layers.Conv2D(1, 4, strides=2, kernel_initializer="ones", use_bias=False, name="c"),
        keras.layers.AveragePooling2D(3, name="d"),
    ])
    for name in ["a", "b", "c"]:
        upper = keras.Model(model.get_layer(name).output, model.get_layer("d").output)
        maps = tf.ones((1, *model.get_layer(name).output.shape[1:]))
        with tf.GradientTape() as tape:
            tape.watch(maps)
            total = tf.reduce_sum(upper(maps))
        reaches = tape.gradient(total, maps).numpy()[0, :, :, 0] != 0
        np.testing.assert_array_equal(activations.units_read_by(model, name, "d"), reaches)


def test_plot_top_patches_labels_classes_and_marks_units_never_read():
    model = keras.Sequential([keras.Input(shape=(21, 21, 3)),  # detect 19x19; pool 9x9 never reads row/column 18
                              keras.layers.Conv2D(1, 3, activation="relu", name="detect"),
                              keras.layers.MaxPooling2D(2, name="pool")])
    model.get_layer("detect").set_weights([np.full((3, 3, 3, 1), 1 / 27, np.float32), np.zeros(1, np.float32)])
    pictures = 0.1 * np.random.default_rng(1).random((5, 21, 21, 3)).astype("float32")
    pictures[3, 10:13, 6:9] = 1.0    # the best unit, (10, 6): read
    pictures[1, 18:21, 18:21] = 0.9  # the second, (18, 18): never read
    found = activations.top_patches(model, "detect", pictures, [0], k=3, one_per_image=True, return_locations=True)
    assert found[2][0, :2].tolist() == [[3, 10, 6], [1, 18, 18]]
    labels = np.array([0, 1, 0, 1, 0])
    fig = activations.plot_top_patches(model, "detect", pictures, [0], found, labels=labels, read_by="pool")
    axes = fig.axes
    assert axes[0].get_title() == "ch 0, picture 3\nhuman"
    assert [ax.get_title().split()[1] for ax in axes[2:5]] == [["horse", "human"][labels[i]] for i in found[2][0, :, 0]]
    assert [ax.title.get_color() for ax in axes[2:4]] == ["tab:blue", "tab:blue"]  # pictures 3 and 1: humans
    framed = [ax.spines["top"].get_visible() and ax.spines["top"].get_edgecolor() == (1.0, 0.0, 0.0, 1.0)
              for ax in axes[2:5]]
    assert framed[:2] == [False, True]
    assert axes[2].get_ylabel() == f"{sum(framed)} of 3\nnot read"
    assert "a unit pool never reads" in fig._suptitle.get_text()
    plain = activations.plot_top_patches(model, "detect", pictures, [0], found)  # no labels, no frames
    assert plain.axes[3].get_title() == f"{found[1][0, 1]:.2f}" and plain.axes[2].get_ylabel() == ""
    with pytest.raises(ValueError, match="found holds 1 channels"):
        activations.plot_top_patches(model, "detect", pictures, [0, 1], found)


def test_top_patches_wants_a_batch():
    with pytest.raises(ValueError, match="must be a batch"):
        activations.top_patches(square_detector(), "detect", pictures_with_a_square()[0], 0)



def test_maximize_climbs_a_pooling_layer():
    """A pooling layer's pre-activation model drops the ReLU of the conv before it; maximize runs on it."""
    import keras

    from course_helpers import anatomy, filters

    model = keras.Sequential([keras.Input((24, 24, 3)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
                              keras.layers.MaxPooling2D(2, name="pool1")])
    conv1 = model.get_layer("conv1")
    images = np.random.default_rng(0).normal(size=(2, 24, 24, 3)).astype("float32")
    before_relu = keras.ops.conv(images, conv1.kernel) + conv1.bias
    expected = np.asarray(keras.layers.MaxPooling2D(2)(before_relu))
    got = np.asarray(anatomy.pre_activation_model(model, "pool1", (24, 24, 3))(images)["pool1"])
    assert np.allclose(got, expected, atol=1e-5) and (got < 0).any()  # no ReLU left before the pooling
    pictures, final = filters.maximize(model, "pool1", [0, 1], steps=3, image_size=24, progress=False)
    assert pictures.shape == (2, 24, 24, 3) and np.isfinite(final).all()
