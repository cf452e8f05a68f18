"""The shared figures and the explorers built on them."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_helpers import plotting, widgets  # noqa: E402

EDGE_IMAGE = np.array([[0, 0, 0, 9, 9, 9]] * 6)
EDGE_KERNEL = np.array([[1, 0, -1]] * 3)


def figure_text(fig):
    texts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        texts.append(ax.get_title())
        texts += [t.get_text() for t in ax.texts]
    return "\n".join(texts)


def test_figures_are_returned_once_and_not_left_open_in_pyplot():
    before = plt.get_fignums()
    fig = plotting.plot_conv_geometry(7, 3, 2)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


@pytest.mark.parametrize(
    "args, words",
    [
        ((7, 3, 2, "valid"), ["floor((7 + 2*0 - 3) / 2) + 1 = 3", "output 3x3"]),
        ((7, 3, 1, 1), ["floor((7 + 2*1 - 3) / 1) + 1 = 7", "padding 1 before / 1 after"]),
        ((6, 4, 1, "same"), ["ceil(6 / 1) = 6", "pad 1 before, 2 after", "output 6x6"]),
        ((8, 3, 3, "valid"), ["output 2x2", "no window reads"]),
    ],
)
def test_conv_geometry_states_the_formula_with_the_numbers(args, words):
    text = figure_text(plotting.plot_conv_geometry(*args))
    for word in words:
        assert word in text


def test_conv_geometry_marks_unread_cells_only_when_there_are_some():
    assert "no window reads" not in figure_text(plotting.plot_conv_geometry(7, 3, 2))
    with pytest.raises(ValueError, match="larger than the padded input"):
        plotting.plot_conv_geometry(3, 5)


def test_conv_step_shows_the_sum_of_products_and_rejects_positions_outside_the_output():
    text = figure_text(plotting.plot_conv_step(EDGE_IMAGE, EDGE_KERNEL, 1, 2))
    assert "sum = -27" in text and "output [1, 2] = -27" in text
    with pytest.raises(ValueError, match="row must be 0..3"):
        plotting.plot_conv_step(EDGE_IMAGE, EDGE_KERNEL, 4, 0)


def test_multichannel_figure_has_three_panels_per_channel_plus_the_sum():
    rng = np.random.default_rng(0)
    fig = plotting.plot_multichannel_conv(rng.integers(0, 4, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3)), bias=1)
    assert len(fig.axes) == 3 * 3 + 1
    with pytest.raises(ValueError, match="same C"):
        plotting.plot_multichannel_conv(np.ones((4, 4, 3)), np.ones((3, 3, 2)))


def test_show_images_and_matrices_check_their_arguments():
    assert len(plotting.show_images([np.zeros((4, 4))] * 3, ["a", "b", "c"], ncols=2).axes) == 4
    assert len(plotting.show_matrices([np.eye(2), np.eye(3)], cmap=["Blues", "Greens"]).axes) == 2
    with pytest.raises(ValueError, match="2 images, 1 titles"):
        plotting.show_images([np.zeros((2, 2))] * 2, ["only one"])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        plotting.show_images([np.zeros(5)])


def test_symmetric_scale_centres_signed_maps_on_zero_and_leaves_others_alone():
    fig = plotting.show_images([np.array([[-1.0, 3.0]]), np.array([[0.0, 1.0]])], cmap=["RdBu_r", "gray"],
                               symmetric=True)
    assert fig.axes[0].images[0].get_clim() == (-3.0, 3.0)
    assert fig.axes[1].images[0].get_clim() == (0.0, 1.0)


def test_show_images_takes_fixed_limits_per_image_and_a_panel_width_and_height():
    arrays = [np.array([[-1.0, 3.0]]), np.array([[0.0, 0.5]]), np.zeros((3, 3, 3))]
    fig = plotting.show_images(arrays, vmin=[0, None, None], vmax=[1, None, None], size=(4, 2))
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0), "fixed limits: values outside are clipped"
    assert fig.axes[1].images[0].get_clim() == (0.0, 0.5), "None keeps the automatic limits"
    assert tuple(fig.get_size_inches()) == (12.0, 2.0)
    both = plotting.show_images(arrays[:2], vmin=0, vmax=1)
    assert {ax.images[0].get_clim() for ax in both.axes} == {(0.0, 1.0)}
    with pytest.raises(ValueError, match="2 images but 3 values for vmin"):
        plotting.show_images(arrays[:2], vmin=[0, 0, 0])


def test_conv_step_draws_the_input_bright_for_high_values():
    fig = plotting.plot_conv_step(EDGE_IMAGE, EDGE_KERNEL, 1, 2)
    drawn = fig.axes[0].images[0]
    assert drawn.get_cmap().name == "gray" and drawn.get_clim() == (0.0, 9.0), "0 is black, 9 is white"


def test_multichannel_figure_uses_one_scale_per_column():
    rng = np.random.default_rng(0)
    fig = plotting.plot_multichannel_conv(rng.integers(0, 4, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3)), bias=1)
    for column in range(3):
        clims = {fig.axes[3 * c + column].images[0].get_clim() for c in range(3)}
        assert len(clims) == 1, f"column {column} shares one colour scale"
    assert fig.axes[0].images[0].get_cmap().name == "gray", "inputs are drawn like pictures"


def test_feature_maps_can_give_each_channel_its_own_scale():
    maps = np.stack([np.linspace(0, 0.01, 16).reshape(4, 4), np.linspace(-5, 5, 16).reshape(4, 4)], axis=-1)
    fig = plotting.show_feature_maps(maps, shared_scale=False, title="own scales")
    assert len(fig.axes) == 2 + 2  # two channels, a colour bar each
    assert fig.axes[0].images[0].get_clim() == (0.0, 0.01)
    assert fig.axes[1].images[0].get_clim() == (-5.0, 5.0)


def test_receptive_field_figure_labels_every_layer():
    fig = plotting.plot_receptive_fields(["conv1", "pool1"], [3, 4], 32)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["conv1: 3x3", "pool1: 4x4"]


def test_conv_explorer_redraws_when_a_control_moves():
    explorer = widgets.conv_explorer()
    assert repr(explorer) == "conv_explorer(n=7, kernel_size=3, stride=1, padding='valid')"
    first = explorer.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.controls["stride"].value = 2
    assert explorer.image.value != first
    assert repr(explorer) == "conv_explorer(n=7, kernel_size=3, stride=2, padding='valid')"


def test_conv_explorer_explains_an_impossible_setting_instead_of_failing():
    explorer = widgets.conv_explorer(n=5)
    explorer.controls["kernel_size"].value = 7
    assert "Not possible" in explorer.message.value and "larger than the padded input" in explorer.message.value
    assert explorer.image.layout.visibility == "hidden"
    explorer.controls["padding"].value = "same"
    assert explorer.message.value == "" and explorer.image.layout.visibility == "visible"


def test_conv_explorer_rejects_bad_starting_values():
    with pytest.raises(ValueError, match="padding must be one of"):
        widgets.conv_explorer(padding="full")
    with pytest.raises(ValueError, match="larger than the padded input"):
        widgets.conv_explorer(n=2, kernel_size=5)


def test_step_explorer_walks_every_output_position():
    explorer = widgets.conv_step_explorer(EDGE_IMAGE, EDGE_KERNEL)
    slider = explorer.controls["step"]
    assert (slider.min, slider.max) == (0, 15)
    first = explorer.image.value
    slider.value = 15
    assert explorer.image.value != first


def test_feature_maps_title_names_the_layer_its_kernels_and_the_output_shape():
    import keras

    layer = keras.layers.Conv2D(3, 5, activation="relu", name="conv_a")
    layer.build((None, 20, 30, 3))
    maps = np.random.default_rng(0).normal(size=(1, 16, 26, 3))
    fig = plotting.show_feature_maps(maps, np.zeros((20, 30, 3)), layer=layer)
    title = fig._suptitle.get_text()
    assert "conv_a (Conv2D): 3 filters of 5x5, ReLU" in title and "output 16x26x3" in title
    assert len(fig.axes) == 1 + 3 + 1  # input, three channels, one shared colour bar
    clims = {ax.images[0].get_clim() for ax in fig.axes[1:4]}
    assert len(clims) == 1, "all channels share one colour scale"
    pool = keras.layers.MaxPooling2D(5, name="pool")
    assert plotting.describe_layer(pool) == "pool (MaxPooling2D): 5x5 pooling"
    with pytest.raises(ValueError, match="batch of 2"):
        plotting.show_feature_maps(np.zeros((2, 4, 4, 1)))


def test_feature_maps_show_at_most_max_channels():
    fig = plotting.show_feature_maps(np.zeros((4, 4, 12)), max_channels=5, title="many")
    assert "first 5 of 12 channels" in fig._suptitle.get_text()


def test_feature_maps_show_the_chosen_channels_by_their_numbers():
    maps = np.zeros((4, 4, 12))
    maps[..., 9] = 5.0   # only channel 9 fires: the shared scale must come from the chosen channels
    fig = plotting.show_feature_maps(maps, channels=[9, 2], title="chosen")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["channel 9", "channel 2"]
    assert fig.axes[0].images[0].get_clim() == (0.0, 5.0)
    assert "2 chosen of 12 channels" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="from 0 to 11; got \\[12\\]"):
        plotting.show_feature_maps(maps, channels=[12])


def test_robust_scale_ignores_a_few_extreme_pixels():
    picture = np.zeros((50, 50))
    picture[10:40, 10:40] = 1.0
    picture[0, 0] = 100.0  # one hot pixel
    full = plotting.show_images([picture]).axes[0].images[0].get_clim()
    robust = plotting.show_images([picture], robust=True).axes[0].images[0].get_clim()
    assert full[1] == 100.0 and robust[1] == 1.0


def test_kernel_result_uses_a_signed_scale_only_for_zero_sum_kernels():
    from course_helpers import conv

    gray = np.random.default_rng(0).random((20, 30))
    edges = plotting.plot_kernel_result(gray, conv.KERNELS["sobel_x"])
    blurred = plotting.plot_kernel_result(gray, conv.KERNELS["gaussian_blur"])
    low, high = edges.axes[2].images[0].get_clim()
    assert low == -high and edges.axes[2].images[0].get_cmap().name == "RdBu_r"
    assert blurred.axes[2].images[0].get_cmap().name == "gray"
    assert "kernel (sum 0)" in figure_text(edges) and "kernel (sum 1)" in figure_text(blurred)


def test_kernel_playground_presets_and_typed_weights():
    from course_helpers import conv

    playground = widgets.kernel_playground(image=np.random.default_rng(0).random((20, 30)), preset="sobel_x")
    assert repr(playground) == "kernel_playground(preset='sobel_x')"
    first = playground.image.value
    assert first[:2] == b"\xff\xd8"  # a JPEG: photos stay small
    playground.controls["preset"].value = "laplacian"
    typed = np.array([[playground.weights[f"w{r}{c}"].value for c in range(3)] for r in range(3)])
    assert np.array_equal(typed, conv.KERNELS["laplacian"]) and playground.image.value != first
    playground.weights["w11"].value = 7.0
    assert playground.controls["preset"].value == "custom"
    playground.weights["w11"].value = -4.0  # back to the Laplacian's weights
    assert playground.controls["preset"].value == "laplacian"
    with pytest.raises(ValueError, match="unknown preset"):
        widgets.kernel_playground(preset="blurry")


def test_activation_browser_follows_image_layer_and_channel():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(24, 24, 3)), keras.layers.Conv2D(5, 3, activation="relu", name="a"),
                              keras.layers.MaxPooling2D(2, name="b"), keras.layers.Conv2D(2, 3, name="c")])
    pictures = {"noise": np.random.default_rng(0).random((30, 30, 3)), "grey": np.full((24, 24), 0.5)}
    browser = widgets.activation_browser(model, pictures)
    assert repr(browser) == "activation_browser(image='noise', layer='a', channel=0)"
    first = browser.image.value
    browser.controls["channel"].value = 4
    assert browser.image.value != first
    browser.controls["layer"].value = "c"  # 2 channels: the slider follows and the channel is clamped
    assert browser.controls["channel"].max == 1 and browser.controls["channel"].value == 1
    assert browser.message.value == ""
    browser.controls["image"].value = "grey"
    assert repr(browser) == "activation_browser(image='grey', layer='c', channel=1)"
    with pytest.raises(ValueError, match="pictures is empty"):
        widgets.activation_browser(model, {})


def _constant_classifier(probability_human):
    """A 'classifier' whose sigmoid output is probability_human for every picture."""
    import keras

    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    logit = np.log(probability_human / (1 - probability_human))
    model.layers[-1].set_weights([np.zeros((3, 1)), np.array([logit])])
    return model


@pytest.mark.parametrize("probability_human, label", [(0.8, "human"), (0.3, "horse")])
def test_image_classifier_titles_give_the_label_and_p_human_as_notebook_4_does(probability_human, label):
    rng = np.random.default_rng(0)
    fig = widgets._prediction_figure(_constant_classifier(probability_human),
                                     [("mine.png", rng.random((40, 50, 3))), ("notes.txt", b"not a picture")])
    text = figure_text(fig)
    assert f"mine.png\n{label}: P(human) = {probability_human:.2f}" in text
    assert "notes.txt\ncannot read it" in text


def test_image_classifier_shows_the_samples_until_something_is_uploaded():
    classifier = widgets.image_classifier(_constant_classifier(0.5), samples={"noise": np.zeros((40, 40, 3))})
    assert classifier.image.value[:2] == b"\xff\xd8"  # a JPEG was drawn
    assert "Upload your own" in classifier.message.value


def test_conv_step_draws_the_output_on_a_scale_centred_on_zero_and_hatches_cells_not_computed_yet():
    fig = plotting.plot_conv_step(EDGE_IMAGE, EDGE_KERNEL, 1, 2)
    output = fig.axes[3].images[0]
    assert output.get_cmap().name.startswith("RdBu_r") and output.get_clim() == (-27.0, 27.0), \
        "like the kernel and the products: white 0, blue negative"
    hatched = [patch for patch in fig.axes[3].patches if patch.get_hatch()]
    assert len(hatched) == 16 - 7, "rows 0 and 1 up to column 2 are computed; the other 9 cells are hatched"
    assert len(fig.axes) == 4
    with_bar = plotting.plot_conv_step(EDGE_IMAGE, EDGE_KERNEL, 1, 2, colorbar=True)
    assert len(with_bar.axes) == 5 and with_bar.axes[4].get_ylabel() == "output"


def test_multichannel_figure_can_add_colour_bars_for_the_results_and_the_output():
    rng = np.random.default_rng(0)
    image, kernel = rng.integers(0, 4, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3))
    fig = plotting.plot_multichannel_conv(image, kernel, bias=1, colorbar=True)
    assert len(fig.axes) == 3 * 3 + 1 + 2
    assert [ax.get_ylabel() for ax in fig.axes[-2:]] == ["per-channel result", "output"]


def test_show_matrices_writes_numbers_in_the_format_asked_for():
    fig = plotting.show_matrices([np.array([[4.0, 1.5]]), np.array([[4.0, 1.5]])], fmt=[None, "{:.2f}"])
    assert [t.get_text() for t in fig.axes[0].texts] == ["4", "1.50"], "default: whole numbers without decimals"
    assert [t.get_text() for t in fig.axes[1].texts] == ["4.00", "1.50"]
    assert [t.get_text() for t in plotting.show_matrices([np.eye(1)], fmt="{:.1f}").axes[0].texts] == ["1.0"]
    with pytest.raises(ValueError, match="2 images but 3 values for fmt"):
        plotting.show_matrices([np.eye(2)] * 2, fmt=[None] * 3)


def test_receptive_field_figure_takes_a_title_and_marks_pixels():
    fig = plotting.plot_receptive_fields(["conv1"], [3], 150, title="my title")
    assert fig.axes[0].get_title() == "my title"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "50", "100", "150"]


def test_effective_field_figure_states_the_central_share_and_rejects_squares_that_do_not_fit():
    share = np.zeros((20, 20))
    share[8:12, 8:12] = 1 / 16
    fig = plotting.plot_effective_field(share, 5, 10, 8, 4)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["theoretical field, 10 px", "central 4 px: 100%"]
    measured, uniform = fig.axes[1].lines
    assert np.isclose(measured.get_ydata().sum(), 1) and np.isclose(uniform.get_ydata().sum(), 1)
    with pytest.raises(ValueError, match="field square"):
        plotting.plot_effective_field(share, 15, 10, 8, 4)


def test_unread_strips_tint_exactly_the_strip():
    pictures = {8: np.zeros((8, 8, 3)), 6: np.zeros((6, 6, 3))}
    fig = plotting.plot_unread_strips(pictures, {8: 2, 6: 0})
    assert [ax.get_title() for ax in fig.axes] == ["8 px: 2 px never read", "6 px: 0 px never read"]
    tinted = fig.axes[0].images[0].get_array()
    assert np.allclose(tinted[6:, :], [0.5, 0.25, 0.0]) and np.allclose(tinted[:6, :6], 0)
    assert np.allclose(fig.axes[1].images[0].get_array(), 0)
    assert not pictures[8].any(), "the caller's picture is left as it was"
    with pytest.raises(ValueError, match="same sizes"):
        plotting.plot_unread_strips(pictures, {8: 2})


def test_unread_strip_scales_the_read_part_to_the_pictures_shape():
    strip = plotting.unread_strip(20, 10, read=6, size=10)  # 6 of 10 read: 12 of 20 rows, 6 of 10 columns
    assert strip.shape == (20, 10) and strip.dtype == bool
    assert strip[12:, :].all() and strip[:, 6:].all() and not strip[:12, :6].any()
    with pytest.raises(ValueError, match="between 1 and size"):
        plotting.unread_strip(20, 10, read=11, size=10)


def test_shade_unread_tints_only_the_strip_and_leaves_the_picture_alone():
    picture = np.zeros((10, 10, 3))
    shaded = plotting.shade_unread(picture, read=6, size=10)
    strip = plotting.unread_strip(10, 10, read=6, size=10)
    assert np.allclose(shaded[strip], 0.55 * np.array([1.0, 0.5, 0.0])) and not shaded[~strip].any()
    assert not picture.any(), "the caller's picture is left as it was"
    with pytest.raises(ValueError, match="H, W, 3"):
        plotting.shade_unread(np.zeros((10, 10)), read=6, size=10)


def test_mark_unread_draws_one_dashed_border_per_panel():
    fig = plotting.show_images([np.zeros((10, 10, 3)), np.zeros((20, 20, 3))])
    assert plotting.mark_unread(fig, [(10, 10), (20, 20)], read=6, size=10) is fig
    for ax, side in zip(fig.axes, (10, 20)):
        (line,) = ax.lines
        assert line.get_linestyle() == "--"
        assert list(line.get_xdata())[1] == list(line.get_ydata())[0] == 6 / 10 * side - 0.5
    with pytest.raises(ValueError, match="3 shapes"):
        plotting.mark_unread(fig, [(10, 10)] * 3, read=6, size=10)


def test_symmetric_scale_draws_a_map_of_zeros_in_the_middle_colour():
    fig = plotting.show_images([np.zeros((3, 3))], cmap="RdBu_r", symmetric=True)
    low, high = fig.axes[0].images[0].get_clim()
    assert low == -high and high > 0, "0 sits in the middle of the scale: white, not blue"
