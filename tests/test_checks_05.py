"""Notebook 05's newer checkers and helpers: each checker accepts the solution and rejects
typical wrong answers with a hint; each helper returns what its docstring says."""
import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from course_helpers import activations, anatomy, checks, models, plotting
from test_checks import assert_hints, assert_passes, verdict  # the shared checker assertions


# ----------------------------------------------------------------------------
# checkers
# ----------------------------------------------------------------------------
def test_flat_picture(capsys):
    assert_passes(capsys, checks.check_flat_picture, "b")
    for wrong in "acd":
        assert_hints(capsys, checks.check_flat_picture, wrong)
    assert_hints(capsys, checks.check_flat_picture, None, "one letter")


def test_dead_meaning(capsys):
    assert_passes(capsys, checks.check_dead_meaning, "c")
    for wrong in "abd":
        assert_hints(capsys, checks.check_dead_meaning, wrong)


def preferring(horse_mean, human_mean, margin=1.5, floor_share=0.1):
    larger = np.maximum(horse_mean, human_mean)
    strong = larger >= floor_share * larger.max()
    return (int(np.sum(strong & (horse_mean >= margin * human_mean))),
            int(np.sum(strong & (human_mean >= margin * horse_mean))))


def test_preferring(capsys):
    assert_passes(capsys, checks.check_preferring, preferring)

    def no_floor(horse_mean, human_mean, margin=1.5, floor_share=0.1):
        return preferring(horse_mean, human_mean, margin, 0.0)

    def swapped(horse_mean, human_mean, margin=1.5, floor_share=0.1):
        return preferring(horse_mean, human_mean, margin, floor_share)[::-1]

    def fixed_margin(horse_mean, human_mean, margin=1.5, floor_share=0.1):
        return preferring(horse_mean, human_mean, 1.5, floor_share)

    def strict(horse_mean, human_mean, margin=1.5, floor_share=0.1):
        larger = np.maximum(horse_mean, human_mean)
        strong = larger >= floor_share * larger.max()
        return (int(np.sum(strong & (horse_mean > margin * human_mean))),
                int(np.sum(strong & (human_mean > margin * horse_mean))))

    def unwritten(horse_mean, human_mean, margin=1.5, floor_share=0.1):
        raise NotImplementedError

    assert_hints(capsys, checks.check_preferring, no_floor, "floor")
    assert_hints(capsys, checks.check_preferring, swapped, "horses first")
    assert_hints(capsys, checks.check_preferring, fixed_margin, "margin")
    assert_hints(capsys, checks.check_preferring, strict, ">=")
    assert_hints(capsys, checks.check_preferring, unwritten, "NotImplementedError")
    assert_hints(capsys, checks.check_preferring, 3, "function")


def most_preferring(horse_mean, human_mean, alive):
    difference = np.where(alive, horse_mean - human_mean, np.nan)
    return [int(np.nanargmax(difference)), int(np.nanargmin(difference))]


def test_most_preferring(capsys):
    assert_passes(capsys, checks.check_most_preferring, most_preferring)

    def ignores_dead(horse_mean, human_mean, alive):
        difference = horse_mean - human_mean
        return [int(np.argmax(difference)), int(np.argmin(difference))]

    def by_ratio(horse_mean, human_mean, alive):
        ratio = np.where(alive, (horse_mean + 1e-9) / (human_mean + 1e-9), np.nan)
        return [int(np.nanargmax(ratio)), int(np.nanargmin(ratio))]

    def swapped(horse_mean, human_mean, alive):
        return most_preferring(horse_mean, human_mean, alive)[::-1]

    assert_hints(capsys, checks.check_most_preferring, ignores_dead, "dead")
    assert_hints(capsys, checks.check_most_preferring, by_ratio, "difference")
    assert_hints(capsys, checks.check_most_preferring, swapped, "first")


def central_share(network, layer_name, some_pictures, signed=False, centre_offset=0):
    inner = keras.Model(network.inputs, network.get_layer(layer_name).output)
    inputs = tf.constant(some_pictures)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        maps = inner(inputs)
        centre_index = maps.shape[1] // 2 + centre_offset
        centre = tf.reduce_sum(maps[:, centre_index, centre_index, :])
    gradient = tape.gradient(centre, inputs).numpy()
    gradient = (gradient if signed else np.abs(gradient)).sum(axis=(0, 3))
    field, jump = anatomy.receptive_field(network, layer_name)
    middle = 2 * field // 3
    start = centre_index * jump + (field - middle) // 2
    return gradient[start:start + middle, start:start + middle].sum() / gradient.sum(), middle ** 2 / field ** 2


def test_central_share(capsys):
    assert_passes(capsys, checks.check_central_share, central_share)
    assert_hints(capsys, checks.check_central_share,
                 lambda n, name, p: central_share(n, name, p)[::-1], "first")
    assert_hints(capsys, checks.check_central_share,
                 lambda n, name, p: (central_share(n, name, p)[0], 2 / 3), "area")
    assert_hints(capsys, checks.check_central_share,
                 lambda n, name, p: central_share(n, name, p, centre_offset=-1), "|gradient|")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def test_strongest_channels():
    maps = np.zeros((2, 3, 3, 5))
    maps[..., 4] = 3.0
    maps[..., 1] = 2.0
    maps[0, 0, 0, 2] = 1.0
    assert activations.strongest_channels(maps, count=2).tolist() == [1, 4]
    assert activations.strongest_channels(maps, count=3).tolist() == [1, 2, 4]
    assert activations.strongest_channels(maps[0], count=10).tolist() == [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def untrained():
    keras.utils.set_random_seed(1)
    return models.build_classifier(150)


def test_centre_unit_gradient(untrained):
    pictures = np.random.default_rng(0).uniform(size=(2, 150, 150, 3)).astype("float32")
    share, start, side = activations.centre_unit_gradient(untrained, "conv5", pictures)
    assert share.shape == (150, 150) and (start, side) == (32, 78)
    assert np.isclose(share.sum(), 1.0) and share.min() >= 0
    inside = np.zeros(share.shape, dtype=bool)
    inside[start:start + side, start:start + side] = True
    assert share[~inside].sum() == 0
    gradient_share, area_share = activations.central_gradient_share(untrained, "conv5", pictures)
    assert 0 <= gradient_share <= 1 and np.isclose(area_share, 52 ** 2 / 78 ** 2)


def test_wilson_interval():
    below, above = activations.wilson_interval(0.5, 100)
    assert np.isclose(below, above) and 0.09 < below < 0.1
    below, above = activations.wilson_interval(1.0, 20)
    assert below > 0.1 and above == 0
    with pytest.raises(ValueError):
        activations.wilson_interval(0.5, 0)


def test_depth_verdict():
    rising = {"conv1": 0.1, "conv2": 0.2, "conv3": 0.3}
    assert activations.depth_verdict(rising, list(rising), "Zeros").endswith(
        "conv3 is sparser than conv1, and every step adds sparsity.")
    dipping = {"conv1": 0.4, "conv2": 0.3, "conv3": 0.5}
    sentence = activations.depth_verdict(dipping, list(dipping), "Zeros")
    assert sentence.startswith("Zeros: 40.0% in conv1, 50.0% in conv3.")
    assert "conv3 is sparser than conv1, but not every step adds sparsity" in sentence
    assert "(first step that does not: conv1 40.0% → conv2 30.0%)" in sentence
    falling = {"conv1": 0.4, "conv2": 0.5, "conv3": 0.4}
    sentence = activations.depth_verdict(falling, list(falling), "Zeros")
    assert "conv3 is not sparser than conv1, and not every step adds sparsity" in sentence
    assert "(first step that does not: conv2 50.0% → conv3 40.0%)" in sentence
    with pytest.raises(ValueError):
        activations.depth_verdict(rising, ["conv1"], "Zeros")


def test_plot_class_preference():
    figure = plotting.plot_class_preference([2.0, 1.0, 0.0, 0.05], [1.0, 2.0, 0.0, 0.04], 1.5, 0.2, title="t")
    assert isinstance(figure, matplotlib.figure.Figure)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "prefer horses: 1" in labels and "prefer humans: 1" in labels
    assert "below the floor: 2 (1 dead, at 0, 0)" in labels   # (0, 0) is dead; (0.05, 0.04) only weak
    with pytest.raises(ValueError):
        plotting.plot_class_preference([1.0], [1.0, 2.0], 1.5, 0.1)
    with pytest.raises(ValueError):
        plotting.plot_class_preference([1.0], [1.0], 1.0, 0.1)


def test_held_out_correct_matches_the_baseline_probe():
    from course_helpers import baseline

    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 5))
    labels = (features[:, 0] + rng.normal(size=60) > 0).astype(int)
    half = np.arange(60) % 2
    right = activations.held_out_correct(features, labels, half)
    assert right.shape == (60,) and right.dtype == bool
    scores = [baseline.logistic_regression_accuracy(features[half == a], labels[half == a],
                                                    features[half == b], labels[half == b])[0] for a, b in [(0, 1), (1, 0)]]
    assert np.isclose(right.mean(), np.mean(scores))          # equal halves: the mean of the two scores
    assert right.mean() > 0.6                                 # feature 0 carries the label
    with pytest.raises(ValueError):
        activations.held_out_correct(features, labels, np.zeros(60))
    with pytest.raises(ValueError):
        activations.held_out_correct(features[:10], labels, half)


def test_optional_plot_arguments():
    maps = np.random.default_rng(0).uniform(0.5, 1.0, size=(6, 6, 3))
    figure = plotting.show_feature_maps(maps, vmin=0, title="from 0")
    assert figure.axes[0].images[0].get_clim()[0] == 0
    figure = plotting.show_feature_maps(maps, vmin=0, shared_scale=False, title="own scales from 0")
    assert all(ax.images[0].get_clim()[0] == 0 for ax in figure.axes if ax.images)
    share = np.zeros((20, 20))
    share[5:15, 5:15] = 0.01
    figure = plotting.plot_effective_field(share, 5, 10, 7, 6, profile_legend="upper left")
    assert figure.axes[-1].get_legend() is not None or any(ax.get_legend() for ax in figure.axes)


def test_pools_leaving_unread(capsys):
    assert_passes(capsys, checks.check_pools_leaving_unread, ("pool2",))
    assert_passes(capsys, checks.check_pools_leaving_unread, ["POOL2"])
    for wrong in [(), ("pool3",), ("pool2", "pool5"), ("pool4", "pool5")]:
        printed = verdict(capsys, checks.check_pools_leaving_unread, wrong)
        assert printed.startswith(checks.FAIL + " Hint:"), printed
        assert "pool2" not in printed.split("Hint:")[1].replace("pool2,", ""), f"gives the answer away: {printed!r}"
    assert_hints(capsys, checks.check_pools_leaving_unread, None, "tuple")
    assert_hints(capsys, checks.check_pools_leaving_unread, "pool2", "tuple")
    assert_hints(capsys, checks.check_pools_leaving_unread, ("conv2",), "pooling layers")


def test_pools_leaving_unread_matches_the_model():
    from course_helpers.checks.intermediate_activations import _pools_leaving_unread
    for side in (150, 160):
        network = models.build_classifier(side)
        odd = [f"pool{block}" for block in range(1, 6)
               if network.get_layer(f"conv{block}").output.shape[1] % 2]
        assert _pools_leaving_unread(side) == odd


def test_vgg_grid_call_on_fake_maps():
    """Section 12's plotting call, on small fake maps with VGG's layer names."""
    rng = np.random.default_rng(0)
    fake_maps = {name: np.maximum(rng.normal(size=(1, side, side, 16)), 0).astype("float32")
                 for name, side in [("block1_conv1", 12), ("block2_conv1", 6), ("block3_conv1", 3)]}
    vgg_channels = {name: activations.strongest_channels(maps) for name, maps in fake_maps.items()}
    figure = activations.plot_feature_maps(fake_maps, image=rng.uniform(size=(12, 12, 3)),
                                           channels=vgg_channels, show_maximum=True)
    assert figure is not None
    for name, chosen in vgg_channels.items():
        assert len(chosen) == 8 and np.all(np.diff(chosen) > 0)
    matplotlib.pyplot.close("all")


def test_pool3_reads_every_conv3_unit():
    # the fact exercise 4 asks about: conv3's map side is even at 150 px, so pool3 keeps each channel's maximum
    model = models.build_classifier(150)
    maps = activations.feature_extractor(model, ["conv3", "pool3"]).predict(
        np.random.default_rng(0).uniform(size=(2, 150, 150, 3)).astype("float32"), verbose=0)
    assert maps["conv3"].shape[1] % 2 == 0
    np.testing.assert_allclose(maps["pool3"].max(axis=(1, 2)), maps["conv3"].max(axis=(1, 2)))


def test_central_share_hint_places_the_middle(capsys):
    def middle_at_field_start(network, layer_name, some_pictures):
        share_of_gradient, share_of_area = activations.central_gradient_share(network, layer_name, some_pictures)
        return share_of_gradient * 0.9, share_of_area
    assert_hints(capsys, checks.check_central_share, middle_at_field_start, "(field - middle) // 2")


def test_optional_labels_of_the_feature_map_and_field_plots():
    maps = np.abs(np.random.default_rng(1).normal(size=(1, 6, 6, 3)))
    figure = plotting.show_feature_maps(maps, vmin=0, colorbar_label="activation")
    assert any(ax.get_ylabel() == "activation" for ax in figure.axes)
    figure = plotting.show_feature_maps(maps, vmin=0)
    assert not any(ax.get_ylabel() for ax in figure.axes), "no label unless asked for"
    share = np.full((20, 20), 1 / 400)
    figure = plotting.plot_effective_field(share, 5, 10, 7, 6, pixel_title="share of |gradient| per input pixel")
    assert figure.axes[0].get_title() == "share of |gradient| per input pixel"
    figure = plotting.plot_effective_field(share, 5, 10, 7, 6)
    assert figure.axes[0].get_title() == "|gradient| per input pixel", "the default title is unchanged"
    matplotlib.pyplot.close("all")


def test_feature_maps_wrap_into_rows():
    maps = np.abs(np.random.default_rng(2).normal(size=(1, 8, 8, 10)))
    image = np.random.default_rng(3).uniform(size=(10, 10, 3))

    def rows_and_columns(figure):
        panels = [ax for ax in figure.axes if ax.images][1:]             # after the input image
        spans = [ax.get_subplotspec() for ax in panels]
        return panels, {spec.rowspan.start for spec in spans}, {spec.colspan.start for spec in spans}

    _, rows, columns = rows_and_columns(plotting.show_feature_maps(maps, image, channels=range(8), vmin=0))
    assert len(rows) == 1 and len(columns) == 8, "one row by default"
    figure = plotting.show_feature_maps(maps, image, channels=range(8), vmin=0, ncols=4)
    panels, rows, columns = rows_and_columns(figure)
    assert [ax.get_title() for ax in panels] == [f"channel {c}" for c in range(8)]
    assert len(rows) == 2 and len(columns) == 4, "two rows of four"
    image_rows = figure.axes[0].get_subplotspec().rowspan
    assert (image_rows.start, image_rows.stop) == (0, 2), "the input spans both rows"
    with pytest.raises(ValueError):
        plotting.show_feature_maps(maps, image, ncols=0)
    matplotlib.pyplot.close("all")
