"""course_helpers.cam: Grad-CAM proven against an independent implementation and a closed form,
plus the other maps and the measurements, on small models built here."""
import functools

import numpy as np
import pytest
import keras
import tensorflow as tf

from course_helpers import anatomy, cam, images

RNG = np.random.default_rng(0)
IMAGES = RNG.random((3, 32, 32, 3)).astype("float32")


def functional_logits_model(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(name="p1")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="c2")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, outputs)


def sigmoid_sequential(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(6, 3, activation="relu", name="c1"),
        keras.layers.MaxPooling2D(name="p1"),
        keras.layers.Conv2D(6, 3, activation="relu", name="c2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])


# ----------------------------------------------------------------------------
# Grad-CAM proven two independent ways
# ----------------------------------------------------------------------------
def test_grad_cam_matches_tf_keras_vis_at_the_layers_resolution():
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.utils.scores import CategoricalScore

    model = functional_logits_model()
    images = RNG.random((12, 32, 32, 3)).astype("float32")
    classes = list(np.arange(12) % 3)
    reference = Gradcam(model, clone=False)(CategoricalScore(classes), images, penultimate_layer="c2",
                                            expand_cam=False, normalize_cam=True)
    ours = cam.grad_cam(model, images, "c2", class_index=classes, upsample=False)
    reference = np.asarray(reference)
    assert ours.shape == reference.shape == (12, 13, 13)
    np.testing.assert_allclose(ours, reference, atol=1e-3)
    informative = [(a, b) for a, b in zip(ours, reference) if b.std() > 0]
    assert len(informative) >= 4, "the test needs maps that are not all zero"
    for a, b in informative:
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] >= 0.999


def test_grad_cam_plus_plus_matches_tf_keras_vis():
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.utils.scores import CategoricalScore

    model = functional_logits_model(seed=1)
    images = RNG.random((8, 32, 32, 3)).astype("float32")
    classes = list(np.arange(8) % 3)
    reference = np.asarray(GradcamPlusPlus(model, clone=False)(CategoricalScore(classes), images,
                                                               penultimate_layer="c2", expand_cam=False))
    ours = cam.grad_cam_plus_plus(model, images, "c2", class_index=classes, upsample=False)
    assert sum(map(np.any, reference)) >= 4, "the test needs maps that are not all zero"
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_saliency_matches_tf_keras_vis():
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    model = functional_logits_model(seed=2)
    images = RNG.random((6, 32, 32, 3)).astype("float32")
    classes = list(np.arange(6) % 3)
    reference = np.asarray(Saliency(model, clone=False)(CategoricalScore(classes), images))  # |grad|, max over RGB
    np.testing.assert_allclose(cam.saliency(model, images, class_index=classes), reference, atol=1e-4)


def test_smoothgrad_matches_tf_keras_vis_with_the_same_noise(monkeypatch):
    """tf-keras-vis averages |gradient| over the noisy copies by default; the course averages the
    gradient and then takes |.|, as Smilkov et al. average the sensitivity maps (the gradients).
    With tf-keras-vis told to keep the signed gradients, and the same noise, the two agree."""
    import tf_keras_vis.saliency
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.scores import CategoricalScore

    model = functional_logits_model(seed=3)
    images = RNG.random((4, 32, 32, 3)).astype("float32")
    classes, samples, sigma = [0, 1, 2, 0], 5, 0.2
    draws = np.random.default_rng(7)
    standard_normal = np.stack([draws.normal(size=images.shape).astype(np.float32) for _ in range(samples)])

    def same_noise(loc, scale, size):  # what the course's smoothgrad(seed=7) adds, sample by sample
        assert tuple(size) == standard_normal.shape
        return (loc + np.asarray(scale, np.float32) * standard_normal).astype(np.float32)

    monkeypatch.setattr(tf_keras_vis.saliency.np.random, "normal", same_noise)
    mean_gradient = np.asarray(Saliency(model, clone=False)(
        CategoricalScore(classes), images, smooth_samples=samples, smooth_noise=sigma, keepdims=True,
        gradient_modifier=lambda gradients: gradients, normalize_map=False))
    expected = np.abs(mean_gradient).max(axis=-1)
    low = expected.min(axis=(1, 2), keepdims=True)
    expected = (expected - low) / (expected.max(axis=(1, 2), keepdims=True) - low)
    ours = cam.smoothgrad(model, images, class_index=classes, n=samples, sigma=sigma, seed=7)
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_spearman_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(11)
    for a, b in [(rng.random(50), rng.random(50)), (rng.integers(0, 4, 60), rng.integers(0, 3, 60)),
                 (rng.random((6, 7)), rng.random((6, 7)) + rng.random((6, 7)))]:
        assert cam.spearman(a, b) == pytest.approx(spearmanr(np.ravel(a), np.ravel(b)).statistic, abs=1e-12)


@pytest.mark.parametrize("class_index", [0, 1])
def test_with_global_average_pooling_grad_cam_is_exactly_cam(class_index):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(20, 20, 3)),
        keras.layers.Conv2D(5, 3, activation="relu", name="features"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    maps = cam.grad_cam(model, IMAGES[:, :20, :20], "features", class_index=class_index, upsample=False)
    features = keras.Model(model.inputs, model.get_layer("features").output).predict(IMAGES[:, :20, :20], verbose=0)
    weights = model.get_layer("out").get_weights()[0][:, 0] * (1 if class_index == 1 else -1)
    expected = np.maximum(np.einsum("nhwk,k->nhw", features, weights), 0)
    low = expected.min(axis=(1, 2), keepdims=True)
    spread = np.maximum(expected.max(axis=(1, 2), keepdims=True) - low, 1e-8)
    np.testing.assert_allclose(maps, (expected - low) / spread, atol=1e-5)


def residual_model():
    """A residual connection before the explained layer, as in ResNet or MobileNetV2, then GAP + softmax."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input(shape=(20, 20, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="r1")(inputs)
    second = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="r2")(first)
    joined = keras.layers.Add(name="join")([first, second])
    features = keras.layers.Conv2D(5, 3, activation="relu", name="features")(joined)
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(pooled)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("class_index", [0, 2])
def test_networks_with_branches_before_the_layer_work_and_still_equal_cam(class_index):
    model = residual_model()
    images = IMAGES[:, :20, :20]
    maps = cam.grad_cam(model, images, "features", class_index=class_index, upsample=False)
    features = keras.Model(model.inputs, model.get_layer("features").output).predict(images, verbose=0)
    expected = np.maximum(np.einsum("nhwk,k->nhw", features, model.get_layer("out").get_weights()[0][:, class_index]), 0)
    low = expected.min(axis=(1, 2), keepdims=True)
    spread = np.maximum(expected.max(axis=(1, 2), keepdims=True) - low, 1e-8)
    np.testing.assert_allclose(maps, (expected - low) / spread, atol=1e-5)
    # the units' centres are not known with a branch on the way: "aligned" falls back to stretching
    np.testing.assert_array_equal(cam.grad_cam(model, images, "features", class_index=class_index),
                                  cam.grad_cam(model, images, "features", class_index=class_index, upsample="stretch"))


def test_mobilenet_v2_the_notebooks_imagenet_classifier_is_explained_at_its_last_conv_layer():
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))  # random weights, offline
    assert cam.default_layer(model) == "Conv_1"
    pictures = RNG.uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    both = cam.grad_cam(model, pictures, class_index=[3, 7])
    assert both.shape == (2, 96, 96) and np.all(np.isfinite(both)) and both.min() >= 0 and both.max() <= 1
    np.testing.assert_allclose(both[1:], cam.grad_cam(model, pictures[1:], class_index=7), atol=1e-5)


def normalized_cam(features, weights):
    expected = np.maximum(np.einsum("nhwk,k->nhw", features, weights), 0)
    low = expected.min(axis=(1, 2), keepdims=True)
    return (expected - low) / np.maximum(expected.max(axis=(1, 2), keepdims=True) - low, 1e-8)


def test_a_rebuilt_sequential_is_explained_through_its_current_graph():
    keras.utils.set_random_seed(5)
    a = keras.layers.Conv2D(3, 3, activation="relu", name="a")
    b = keras.layers.Conv2D(4, 3, activation="relu", name="b")
    c = keras.layers.Conv2D(3, 3, activation="relu", name="c")
    model = keras.Sequential([keras.Input(shape=(20, 20, 3)), a, b])
    model.pop()  # b keeps its first call, on a's output, which is no longer this model's graph
    for layer in [c, b, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid", name="out")]:
        model.add(layer)
    images = IMAGES[:, :20, :20]
    maps = cam.grad_cam(model, images, "b", class_index=1, upsample=False)
    features = np.asarray(b(c(a(images))))
    np.testing.assert_allclose(maps, normalized_cam(features, model.get_layer("out").get_weights()[0][:, 0]), atol=1e-5)


def test_a_nested_base_with_branches_is_explained_at_its_output():
    keras.utils.set_random_seed(6)
    inputs = keras.Input(shape=(20, 20, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="r1")(inputs)
    second = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="r2")(first)
    base = keras.Model(inputs, keras.layers.Add(name="join")([first, second]), name="base")
    model = keras.Sequential([keras.Input(shape=(20, 20, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(1, activation="sigmoid", name="out")])
    images = IMAGES[:, :20, :20]
    assert cam.default_layer(model) == "base"
    maps = cam.grad_cam(model, images, class_index=1, upsample=False)
    weights = model.get_layer("out").get_weights()[0][:, 0]
    np.testing.assert_allclose(maps, normalized_cam(np.asarray(base(images)), weights), atol=1e-5)
    with pytest.raises(ValueError, match="need the layers after it to form a chain"):
        cam.grad_cam(model, images, "r1")  # inside the base, before its branches join


def test_explaining_adds_nothing_to_the_models_graph():
    model = residual_model()
    calls = {layer.name: len(layer._inbound_nodes) for layer in model.layers}
    for _ in range(3):
        cam.grad_cam(model, IMAGES[:, :20, :20], "features")
    assert {layer.name: len(layer._inbound_nodes) for layer in model.layers} == calls


def test_a_split_where_branches_join_later_is_refused_with_the_layer_to_use():
    with pytest.raises(ValueError, match=r"branches or joins after 'r1'.*'features'"):
        cam.grad_cam(residual_model(), IMAGES[:, :20, :20], "r1")


# ----------------------------------------------------------------------------
# conventions
# ----------------------------------------------------------------------------
def test_a_batch_gives_the_same_maps_as_one_image_at_a_time():
    model = sigmoid_sequential()
    together = cam.grad_cam(model, IMAGES)
    one_by_one = np.concatenate([cam.grad_cam(model, image[np.newaxis]) for image in IMAGES])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert together.dtype == np.float32 and together.shape == (3, 32, 32)
    assert together.min() >= 0 and together.max() <= 1


def test_the_model_is_not_modified():
    model = sigmoid_sequential()
    weights, config = [w.copy() for w in model.get_weights()], model.get_config()
    for method in (cam.grad_cam, cam.grad_cam_plus_plus, cam.saliency):
        method(model, IMAGES)
    cam.smoothgrad(model, IMAGES, n=2)
    cam.randomization_test(model, IMAGES[:2])
    assert model.get_config() == config
    assert model.layers[-1].activation.__name__ == "sigmoid"
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_a_nested_base_model_works_and_is_the_default_layer():
    keras.utils.set_random_seed(1)
    base_input = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="b1")(base_input)
    x = keras.layers.MaxPooling2D(name="bp")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="b2")(x)
    base = keras.Model(base_input, x, name="base")
    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), base, keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    assert cam.default_layer(model) == "base"
    by_base = cam.grad_cam(model, IMAGES, class_index=1)
    by_inner = cam.grad_cam(model, IMAGES, "b2", class_index=1)  # the base's last layer: the same maps
    np.testing.assert_allclose(by_base, by_inner, atol=1e-6)
    assert cam.grad_cam(model, IMAGES, "b1").shape == (3, 32, 32)


def test_sigmoid_classes_use_plus_and_minus_the_logit():
    model = sigmoid_sequential()
    human = cam.grad_cam(model, IMAGES, "c2", class_index=1, upsample=False)
    horse = cam.grad_cam(model, IMAGES, "c2", class_index=0, upsample=False)
    assert not np.allclose(human, horse)
    # By hand: the logit is Dense's kernel . flatten + bias; its gradient with respect to c2's maps.
    features = keras.Model(model.inputs, model.get_layer("c2").output)(IMAGES)
    kernel, bias = model.get_layer("out").kernel, model.get_layer("out").bias
    with tf.GradientTape() as tape:
        tape.watch(features)
        total_logit = tf.reduce_sum(tf.matmul(tf.reshape(features, (3, -1)), kernel)[:, 0] + bias[0])
    gradient = tape.gradient(total_logit, features)
    for sign, maps in [(1, human), (-1, horse)]:
        raw = tf.nn.relu(tf.reduce_sum(sign * tf.reduce_mean(gradient, axis=(1, 2), keepdims=True) * features, -1))
        raw = raw.numpy()
        low = raw.min(axis=(1, 2), keepdims=True)
        expected = (raw - low) / np.maximum(raw.max(axis=(1, 2), keepdims=True) - low, 1e-8)
        np.testing.assert_allclose(maps, expected, atol=1e-5)
    predicted = (model.predict(IMAGES, verbose=0)[:, 0] >= 0.5).astype(int)
    default = cam.grad_cam(model, IMAGES, "c2", upsample=False)
    for i, label in enumerate(predicted):
        np.testing.assert_allclose(default[i], (human if label == 1 else horse)[i], atol=1e-6)


def test_aligned_upsampling_puts_each_unit_at_its_receptive_field_centre():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(30, 30, 3)), keras.layers.Conv2D(1, 5, name="c")])
    centres = anatomy.centres_of(model.layers, (30, 30))
    assert centres == [(2.0, 1.0), (2.0, 1.0)]  # a 'valid' 5x5 conv: unit 0 sits on pixel 2
    classifier = [layer for _ in range(5) for layer in (keras.layers.Conv2D(1, 3), keras.layers.MaxPooling2D(2))]
    assert anatomy.centres_of(classifier[:9], (150, 150)) == [(38.5, 16.0), (38.5, 16.0)]  # conv5 of the course model
    same = [keras.layers.Conv2D(1, 3, padding="same"), keras.layers.MaxPooling2D(2)]
    assert anatomy.centres_of(same, (224, 224)) == [(0.5, 2.0), (0.5, 2.0)]  # VGG-style: 'same' keeps the grid
    maps = np.zeros((1, 5, 5), np.float32)
    maps[0, 0, 0] = 1.0
    up = np.asarray(cam.maps.to_input_size(maps, (150, 150), [(38.5, 16.0)] * 2))
    assert np.unravel_index(up[0].argmax(), up[0].shape) == (0, 0)  # clamped beyond the first centre
    assert up[0, 38, 38] == 1.0 and up[0, 40, 40] < 1.0 and up[0, 55, 55] == 0.0


def test_saliency_of_a_linear_model_is_its_weights():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input(shape=(8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    weights = model.layers[-1].get_weights()[0][:, 0].reshape(8, 8, 3)
    expected = np.abs(weights).max(axis=-1)
    expected = (expected - expected.min()) / (expected.max() - expected.min())
    maps = cam.saliency(model, RNG.random((2, 8, 8, 3)))
    np.testing.assert_allclose(maps[0], expected, atol=1e-5)
    np.testing.assert_allclose(maps[1], expected, atol=1e-5)
    smooth = cam.smoothgrad(model, RNG.random((1, 8, 8, 3)), n=4, sigma=0.2, seed=1)
    np.testing.assert_allclose(smooth[0], expected, atol=1e-5)  # a linear model's gradient ignores noise


def test_zero_gradients_give_zero_maps_not_nan():
    model = sigmoid_sequential()
    model_zero = keras.models.clone_model(model)
    model_zero.set_weights([np.zeros_like(w) for w in model.get_weights()])
    for method in (cam.grad_cam, cam.grad_cam_plus_plus):
        maps = method(model_zero, IMAGES)
        assert np.all(np.isfinite(maps)) and np.all(maps == 0)
    assert np.all(np.isfinite(cam.saliency(model_zero, IMAGES)))


def test_grad_cam_plus_plus_and_smoothgrad_shapes_and_determinism():
    model = sigmoid_sequential()
    assert cam.grad_cam_plus_plus(model, IMAGES).shape == (3, 32, 32)
    first = cam.smoothgrad(model, IMAGES, n=3, seed=5)
    np.testing.assert_array_equal(first, cam.smoothgrad(model, IMAGES, n=3, seed=5))
    assert not np.array_equal(first, cam.smoothgrad(model, IMAGES, n=3, seed=6))


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda m: cam.grad_cam(m, IMAGES, "c9"), "no layer named 'c9'"),
        (lambda m: cam.grad_cam(m, IMAGES[0]), "must be a batch"),
        (lambda m: cam.grad_cam(m, IMAGES[:, :20]), "must have shape"),
        (lambda m: cam.grad_cam(m, IMAGES, class_index=2), "0 (horse) or 1 (human)"),
        (lambda m: cam.grad_cam(m, IMAGES, class_index=[0, 1]), "one per image"),
        (lambda m: cam.grad_cam(m, IMAGES, "flat"), "not feature maps"),
        (lambda m: cam.grad_cam(m, IMAGES, upsample="cubic"), "'aligned', 'stretch' or False"),
    ],
)
def test_clear_errors(call, words):
    with pytest.raises(ValueError) as info:
        call(sigmoid_sequential())
    assert words in str(info.value)


def test_a_model_without_convolutions_is_refused():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="no convolution layer"):
        cam.grad_cam(model, np.zeros((1, 4)))


# ----------------------------------------------------------------------------
# overlays and measurements
# ----------------------------------------------------------------------------
def test_overlay_blends_a_colormap_over_the_image():
    image = np.zeros((10, 12, 3), np.float32)
    heat = np.zeros((5, 6), np.float32)
    blended = cam.overlay(image, heat, alpha=0.5, cmap="gray")
    assert blended.shape == (10, 12, 3) and np.allclose(blended, 0)
    assert np.allclose(cam.overlay(image, np.ones((10, 12)), alpha=0.5, cmap="gray"), 0.5)
    grey = np.full((4, 4, 3), 0.3, np.float32)
    half = np.zeros((4, 4))
    half[:, 2:] = 1.0
    blended = cam.overlay(grey, half, alpha=1.0, cmap="gray")
    assert np.allclose(blended[:, :2], 0.3) and np.allclose(blended[:, 2:], 1.0)  # cold stays, hot shows
    with pytest.raises(ValueError, match="alpha"):
        cam.overlay(image, heat, alpha=2)
    red = np.zeros((2, 2, 3), np.float32)
    red[..., 0] = 1.0
    assert np.allclose(cam.overlay(red, np.zeros((2, 2))), 0.299)  # the picture in grey where there is no heat
    assert np.allclose(cam.overlay(red, np.zeros((2, 2)), grey=False), red)


def test_unnormalized_maps_keep_their_scale():
    model = sigmoid_sequential()
    raw = cam.grad_cam(model, IMAGES, "c2", class_index=1, normalize=False, upsample=False)
    scaled = cam.grad_cam(model, IMAGES, "c2", class_index=1, upsample=False)
    assert raw.max() > 0 and not np.allclose(raw.max(axis=(1, 2)), 1)
    for r, n in zip(raw, scaled):
        if r.max() > r.min():
            np.testing.assert_allclose((r - r.min()) / (r.max() - r.min()), n, atol=1e-4)


def test_pointing_game_and_energy_in_mask():
    masks = np.zeros((2, 20, 20), bool)
    masks[:, 5:10, 5:10] = True
    on, off = np.zeros((20, 20)), np.zeros((20, 20))
    on[7, 7], off[18, 18] = 1, 1
    assert cam.pointing_game([on, off], masks, tolerance_px=0) == 0.5
    assert cam.pointing_game([off], masks[:1], tolerance_px=9) == 1.0  # within 9 px of the mask
    assert cam.pointing_game([off], masks[:1], tolerance_px=8) == 0.0
    half = np.zeros((20, 20))
    half[5:10, 5:10], half[15:20, 15:20] = 1, 1
    assert cam.energy_in_mask([half, np.zeros((20, 20))], masks) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="must both be"):
        cam.pointing_game(np.zeros((2, 20, 20)), np.zeros((2, 10, 10)))


def test_pointing_game_ties_go_to_the_pixel_nearest_the_centre_at_every_edge():
    """An aligned map whose hottest unit is at an edge ties along a band from the unit's centre to the
    border. The tied pixel nearest the picture's centre, the unit's centre, counts, at every edge alike."""
    size, unit_centre = 40, 10  # a unit centred 10 px from the edge: its band of equal heat covers pixels 0 to 10
    for flip in [lambda a: a, np.flipud, np.fliplr, lambda a: a.T, lambda a: np.flipud(np.fliplr(a))]:
        heat = np.zeros((size, size))
        heat[:unit_centre + 1, 18:22] = 1.0  # the band, reaching the top border
        figure = np.zeros((size, size), bool)
        figure[unit_centre, 19:21] = True  # figure pixels at the unit's centre only (the two middle columns)
        assert cam.pointing_game(flip(heat)[None], flip(figure)[None], tolerance_px=0) == 1.0
        border = np.zeros((size, size), bool)
        border[0, 18:22] = True  # figure pixels on the border end of the band only
        assert cam.pointing_game(flip(heat)[None], flip(border)[None], tolerance_px=0) == 0.0


def test_pointing_game_counts_a_blank_map_as_a_miss():
    masks = np.ones((2, 20, 20), bool)  # the figure covers everything: any pixel would be a hit
    assert cam.pointing_game(np.zeros((2, 20, 20)), masks) == 0.0
    assert cam.pointing_game(np.full((1, 20, 20), 0.7), masks[:1]) == 0.0


def test_deletion_and_insertion_curves_start_and_end_where_they_must():
    model = sigmoid_sequential()
    image = IMAGES[0]
    heat = RNG.random((32, 32))
    deletion, insertion, deleted, inserted = cam.deletion_insertion(model, image, heat, 1, steps=8,
                                                                    return_curves=True)
    p = lambda batch: model.predict(batch, verbose=0)[:, 0]  # noqa: E731 (P(class 1))
    assert deleted[0] == pytest.approx(p(image[None])[0], abs=1e-6)
    assert deleted[-1] == pytest.approx(p(np.zeros((1, 32, 32, 3)))[0], abs=1e-6)
    assert inserted[0] == pytest.approx(p(images.gaussian_blur(image, 10.0)[None])[0], abs=1e-6)
    assert inserted[-1] == pytest.approx(p(image[None])[0], abs=1e-6)
    assert 0 <= deletion <= 1 and 0 <= insertion <= 1 and len(deleted) == 9
    horse_deletion, _ = cam.deletion_insertion(model, image, heat, 0, steps=8)
    assert horse_deletion == pytest.approx(1 - deletion, abs=1e-5)  # P(horse) = 1 - P(human)


def test_spearman_handles_ties_and_constants():
    assert cam.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert cam.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert cam.spearman([0, 0, 1, 1], [0, 0, 1, 1]) == pytest.approx(1.0)
    assert cam.spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_randomization_test_cascades_from_the_output():
    model = sigmoid_sequential()
    correlations = cam.randomization_test(model, IMAGES, layer_name="c2")
    assert list(correlations) == ["out", "c2", "c1"]
    assert all(-1 <= value <= 1 for value in correlations.values())
    # With every layer randomized, the maps no longer resemble the trained model's.
    assert correlations["c1"] < 0.5


def test_deletion_breaks_ties_at_random_and_can_fill_with_the_blur():
    model = sigmoid_sequential()
    image = IMAGES[0]
    flat = np.zeros((32, 32))
    flat[:4, :4] = 1.0  # 16 hot pixels, the rest one big tie
    curves = [cam.deletion_insertion(model, image, flat, 1, steps=4, return_curves=True, seed=seed)[2]
              for seed in (0, 0, 1)]
    assert np.array_equal(curves[0], curves[1]) and not np.array_equal(curves[0], curves[2])
    # The tie is not broken in memory order: after deleting a quarter of the pixels, the deleted
    # ones are spread over the whole picture, not the top rows.
    _, _, blurred_deletion, _ = cam.deletion_insertion(model, image, flat, 1, steps=4, return_curves=True,
                                                       fill="blur")
    p = lambda batch: model.predict(batch, verbose=0)[:, 0]  # noqa: E731 (P(class 1))
    assert blurred_deletion[-1] == pytest.approx(p(images.gaussian_blur(image, 10.0)[None])[0], abs=1e-6)
    with pytest.raises(ValueError, match="fill must be"):
        cam.deletion_insertion(model, image, flat, 1, fill="grey")


def test_deletion_order_puts_equal_heat_in_random_places(monkeypatch):
    """Record the pictures deletion makes: equal heat must not be deleted in memory (row) order."""
    seen = []
    measure = cam.measures.class_probability

    def record(model, batch, class_index):
        seen.append(batch)
        return measure(model, batch, class_index)

    monkeypatch.setattr(cam.measures, "class_probability", record)
    image = np.full((32, 32, 3), 0.5, np.float32)
    cam.deletion_insertion(sigmoid_sequential(), image, np.zeros((32, 32)), 1, steps=4, seed=3)
    quarter_deleted = seen[0][1, :, :, 0] == 0
    assert quarter_deleted.sum() == 256
    assert quarter_deleted[:8].sum() < 160


def test_randomization_reinitializes_every_trainable_weight_of_every_reported_layer(monkeypatch):
    """Depthwise, separable and batch-normalization layers included: each reported layer's trainable
    weights must differ from the trained ones, and its non-trainable statistics must stay."""
    import keras

    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.DepthwiseConv2D(3, name="depthwise")(x)
    x = keras.layers.SeparableConv2D(6, 3, activation="relu", name="separable")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(x))
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0.5, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])  # "trained"
    trained = {layer.name: [np.array(w) for w in layer.weights] for layer in model.layers}

    randomized = {}
    original = cam.measures._reinitialized

    def spy(layer, seed):
        fresh = original(layer, seed)
        randomized[layer.name] = (layer, fresh)
        return fresh

    monkeypatch.setattr(cam.measures, "_reinitialized", spy)
    correlations = cam.randomization_test(model, rng.random((3, 16, 16, 3)).astype("float32"),
                                          layer_name="separable")
    assert list(correlations) == ["out", "separable", "depthwise", "norm", "conv"]
    for name in correlations:
        layer, fresh = randomized[name]
        trainable = {id(w) for w in layer.trainable_weights}
        for weight, old, new in zip(layer.weights, trained[name], fresh):
            if id(weight) in trainable:
                assert not np.allclose(old, new), f"{name}.{weight.name} was reported randomized but kept"
            else:
                assert np.array_equal(old, new), f"{name}.{weight.name} is a statistic, not a weight"
    assert {w.name for w in randomized["separable"][0].trainable_weights} >= {"depthwise_kernel", "pointwise_kernel"}
    assert {w.name for w in randomized["norm"][0].trainable_weights} == {"gamma", "beta"}
    # The user's model is untouched.
    assert all(np.array_equal(a, b) for layer in model.layers for a, b in zip(layer.weights, trained[layer.name]))


def test_randomization_refuses_a_weight_without_an_initializer():
    import keras

    class Scale(keras.layers.Layer):
        def build(self, shape):
            self.factor = self.add_weight(shape=(1,), initializer="ones", name="factor")

        def call(self, x):
            return x * self.factor

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = Scale(name="scale")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(x))
    with pytest.raises(ValueError, match="cannot re-initialize scale's weight 'factor'"):
        cam.randomization_test(model, np.zeros((1, 8, 8, 3), "float32"), layer_name="conv")


# ----------------------------------------------------------------------------
# integrated gradients
# ----------------------------------------------------------------------------
def class_score(model, batch, class_index):
    """The score the maps explain, computed here from the model's own layers: the pre-sigmoid logit
    (+ for class 1, - for class 0), or the chosen pre-softmax logit."""
    body, end = anatomy.body_model(model)
    logits = np.asarray(end.logits(body(np.asarray(batch, np.float32), training=False)))
    if end.activation == "sigmoid":
        return logits[:, 0] * (1 if class_index == 1 else -1)
    return logits[:, class_index]


def batch_norm_model():
    """Conv, batch normalization with non-trivial running statistics, ReLU, pooling, GAP, sigmoid."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input(shape=(24, 24, 3)),
        keras.layers.Conv2D(6, 3, name="c1"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("relu", name="relu"),
        keras.layers.MaxPooling2D(name="p1"),
        keras.layers.Conv2D(6, 3, activation="relu", name="c2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    rng = np.random.default_rng(7)
    norm = model.get_layer("bn")
    norm.set_weights([rng.uniform(0.5, 2, 6), rng.normal(0, 0.5, 6), rng.normal(0, 0.3, 6), rng.uniform(0.2, 3, 6)])
    return model


@functools.lru_cache(maxsize=1)  # trained once for the tests that use it; the maps never change a model
def briefly_trained_sigmoid():
    """sigmoid_sequential after five epochs on 'is the picture brighter than 0.35 on average?' (about 98 %)."""
    model = sigmoid_sequential(seed=8)
    rng = np.random.default_rng(8)
    pictures = (rng.random((64, 32, 32, 3)) * rng.uniform(0.4, 1.0, (64, 1, 1, 1))).astype("float32")
    labels = (pictures.mean(axis=(1, 2, 3)) > 0.35).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="binary_crossentropy")
    model.fit(pictures, labels, epochs=5, batch_size=16, verbose=0)
    return model


def course_classifier():
    from course_helpers import models

    keras.utils.set_random_seed(9)
    return models.build_classifier(models.MIN_IMG_SIZE)  # untrained, at its smallest size: quick


def completeness_errors(model, pictures, class_index, baseline=None):
    """|sum of attributions - (score(x) - score(baseline))| / |score(x) - score(baseline)|, per image."""
    attributions = cam.integrated_gradients(model, pictures, class_index=class_index, baseline=baseline)
    start = np.broadcast_to(np.float32(0) if baseline is None else np.asarray(baseline, np.float32), pictures.shape)
    change = class_score(model, pictures, class_index) - class_score(model, start, class_index)
    assert np.all(np.abs(change) > 1e-3), "the test needs scores that change along the path"
    return np.abs(attributions.sum(axis=(1, 2, 3)) - change) / np.abs(change)


@pytest.mark.parametrize("build, size, class_index", [
    (sigmoid_sequential, 32, 1),
    (briefly_trained_sigmoid, 32, 0),
    (course_classifier, 94, 1),
    (functional_logits_model, 32, 2),  # three linear outputs: softmax logits
    (residual_model, 20, 1),  # softmax after global average pooling, a residual connection before
    (batch_norm_model, 24, 0),
])
def test_integrated_gradients_are_complete_within_the_default_1_percent(build, size, class_index):
    pictures = np.random.default_rng(size).random((2, size, size, 3)).astype("float32")
    errors = completeness_errors(build(), pictures, class_index)
    assert np.all(errors < 0.0101), errors  # the default tolerance, and float32 sums


def test_integrated_gradients_of_the_two_sigmoid_classes_are_opposite():
    model = briefly_trained_sigmoid()
    human = cam.integrated_gradients(model, IMAGES, class_index=1, steps=16)
    horse = cam.integrated_gradients(model, IMAGES, class_index=0, steps=16)
    np.testing.assert_allclose(horse, -human, atol=1e-6)
    assert np.all(np.sign(horse.sum(axis=(1, 2, 3))) == -np.sign(human.sum(axis=(1, 2, 3))))
    predicted = cam.maps.predicted_classes(model, IMAGES)
    default = cam.integrated_gradients(model, IMAGES, steps=16)
    for i, label in enumerate(predicted):
        np.testing.assert_allclose(default[i], (human if label == 1 else horse)[i], atol=1e-6)


def quadratic_model():
    """score = (a . x + b) * (c . x + d): its gradient is linear along any straight path."""
    keras.utils.set_random_seed(10)
    inputs = keras.Input(shape=(6, 6, 3))
    flat = keras.layers.Flatten()(inputs)
    first, second = keras.layers.Dense(1, name="first")(flat), keras.layers.Dense(1, name="second")(flat)
    model = keras.Model(inputs, keras.layers.Multiply()([first, second]))
    rng = np.random.default_rng(10)
    model.get_layer("first").set_weights([rng.normal(0, 0.3, (108, 1)), np.array([0.5])])
    model.get_layer("second").set_weights([rng.normal(0, 0.3, (108, 1)), np.array([-0.2])])
    return model


@pytest.mark.parametrize("steps", [1, 3, 64])
def test_the_trapezoid_rule_is_exact_for_a_quadratic_score(steps):
    """With end points weighted 1/2, any number of steps integrates a linear gradient exactly; the closed form
    is each pixel's change times the gradient at the path's midpoint."""
    model = quadratic_model()
    pictures = np.random.default_rng(1).random((3, 6, 6, 3)).astype("float32")
    baseline = np.random.default_rng(2).random((6, 6, 3)).astype("float32")
    (a, b), (c, d) = model.get_layer("first").get_weights(), model.get_layer("second").get_weights()
    a, c = a[:, 0].reshape(6, 6, 3), c[:, 0].reshape(6, 6, 3)
    middle = (pictures + baseline) / 2
    first, second = np.sum(middle * a, axis=(1, 2, 3)) + b, np.sum(middle * c, axis=(1, 2, 3)) + d
    expected = (pictures - baseline) * (a * second[:, None, None, None] + c * first[:, None, None, None])
    attributions = cam.integrated_gradients(model, pictures, class_index=1, baseline=baseline, steps=steps)
    np.testing.assert_allclose(attributions, expected, atol=1e-5)


def test_integrated_gradients_of_a_linear_model_are_change_times_weight():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input(shape=(8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    weights = model.layers[-1].get_weights()[0][:, 0].reshape(8, 8, 3)
    pictures = RNG.random((2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(cam.integrated_gradients(model, pictures, class_index=1, baseline=0.5, steps=2),
                               (pictures - 0.5) * weights, atol=1e-6)


def test_integrated_gradients_shape_dtype_batches_and_baselines():
    model = sigmoid_sequential()
    pictures = RNG.random((3, 32, 32, 3)).astype("float64")
    together = cam.integrated_gradients(model, pictures, class_index=1, steps=10)  # 33 points: chunks span images
    assert together.shape == (3, 32, 32, 3) and together.dtype == np.float32
    one_by_one = np.concatenate([cam.integrated_gradients(model, picture[None], class_index=1, steps=10)
                                 for picture in pictures])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    # every kind of baseline: a number, a colour, an image, one image per picture
    per_picture = (0.25 * pictures * RNG.random((3, 1, 1, 1))).astype("float32")  # darker copies
    for baseline in (0.5, [0.2, 0.4, 0.6], per_picture[0], per_picture):
        errors = completeness_errors(model, pictures.astype("float32"), 1, baseline)
        assert np.all(errors < 0.03), (np.shape(baseline), errors)
    np.testing.assert_allclose(cam.integrated_gradients(model, pictures, class_index=1, baseline=0.0, steps=10),
                               together, atol=1e-7)


def kinked_model(picture, kink):
    """score(t * picture) = ReLU(t - kink) * (sum of the picture): a gradient that jumps from 0 at t = kink."""
    inputs = keras.Input(shape=picture.shape)
    total = keras.layers.Dense(1, activation="relu", name="kink")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, name="score")(total))
    model.get_layer("kink").set_weights([np.ones((picture.size, 1)), np.array([-kink * picture.sum()])])
    model.get_layer("score").set_weights([np.ones((1, 1)), np.zeros(1)])
    return model


def test_integrated_gradients_take_more_steps_where_the_trapezoid_rule_misses():
    """A ReLU that switches on late along the path, between two of the 64 points: the plain rule misses the small
    score change by 14 %; the default halves the intervals until it is complete to 1 %."""
    picture = np.random.default_rng(3).random((1, 8, 8, 3)).astype("float32")
    model = kinked_model(picture[0], kink=0.9521)
    change = float(class_score(model, picture, 1)[0] - class_score(model, np.zeros_like(picture), 1)[0])
    assert change == pytest.approx((1 - 0.9521) * picture.sum(), rel=1e-3)
    plain = cam.integrated_gradients(model, picture, class_index=1, tolerance=None)
    refined = cam.integrated_gradients(model, picture, class_index=1)
    assert abs(plain.sum() - change) / change > 0.1
    assert abs(refined.sum() - change) / change < 0.01
    strict = cam.integrated_gradients(model, picture, class_index=1, steps=2, tolerance=0.001)
    assert abs(strict.sum() - change) / change < 0.03  # 16 * 2 intervals at most: as close as 32 intervals get
    np.testing.assert_allclose(cam.integrated_gradients(model, picture, class_index=1, steps=512, tolerance=None),
                               refined, rtol=1e-4, atol=1e-7)  # halving 64 intervals three times is the 512-step rule


@pytest.mark.parametrize("arguments, error, words", [
    ({"baseline": np.zeros((32, 32))}, ValueError, "broadcast to one image (32, 32, 3) or to the batch (3, 32, 32, 3)"),
    ({"baseline": np.zeros((2, 32, 32, 3))}, ValueError, "got shape (2, 32, 32, 3)"),
    ({"baseline": "grey"}, TypeError, "not a string"),
    ({"baseline": [0.0, np.nan, 0.0]}, ValueError, "NaN"),
    ({"baseline": object()}, TypeError, "number or an array of pixels"),
    ({"steps": 0}, ValueError, "steps must be at least 1"),
    ({"steps": 8.0}, TypeError, "steps must be an int"),
    ({"tolerance": 0}, ValueError, "tolerance must be above 0"),
    ({"tolerance": "1%"}, TypeError, "tolerance must be a number"),
    ({"class_index": 2}, ValueError, "0 (horse) or 1 (human)"),
])
def test_integrated_gradients_clear_errors(arguments, error, words):
    with pytest.raises(error) as info:
        cam.integrated_gradients(sigmoid_sequential(), IMAGES, **arguments)
    assert words in str(info.value)


# ----------------------------------------------------------------------------
# occlusion
# ----------------------------------------------------------------------------
def region_model(size=16, top=4, left=6, side=4):
    """logit = the mean of the input over one square region (rows top.., columns left.., all channels)."""
    model = keras.Sequential([
        keras.Input(shape=(size, size, 3)),
        keras.layers.Cropping2D(((top, size - top - side), (left, size - left - side)), name="region"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    model.get_layer("out").set_weights([np.full((3, 1), 1 / 3, np.float32), np.zeros(1, np.float32)])
    return model


def occlusion_by_hand(score, image, patch, row_starts, column_starts, fill):
    """The mean score drop over the patches covering each pixel, one occluded image at a time."""
    total, covered = np.zeros(image.shape[:2]), np.zeros(image.shape[:2])
    for row in row_starts:
        for column in column_starts:
            hidden = image.copy()
            hidden[row:row + patch, column:column + patch] = fill
            total[row:row + patch, column:column + patch] += score(image) - score(hidden)
            covered[row:row + patch, column:column + patch] += 1
    return total / covered


def test_occlusion_finds_the_only_region_that_matters():
    model = region_model()
    pictures = 0.5 + 0.5 * np.random.default_rng(3).random((2, 16, 16, 3)).astype("float32")
    maps = cam.occlusion(model, pictures, class_index=1, patch=3, stride=2, fill=0.0)
    assert maps.shape == (2, 16, 16) and maps.dtype == np.float32
    for picture, heat in zip(pictures, maps):
        # patches at 0, 2, ..., 12 and the last one flush with the edge, 13
        expected = occlusion_by_hand(lambda x: x[4:8, 6:10].mean(), picture, 3, [0, 2, 4, 6, 8, 10, 12, 13],
                                     [0, 2, 4, 6, 8, 10, 12, 13], 0.0)
        np.testing.assert_allclose(heat, expected, atol=1e-5)
        assert np.all(heat[4:8, 6:10] > 0.02)  # hiding the region lowers the score
        outside = np.ones((16, 16), bool)
        outside[2:10, 4:12] = False  # no patch that hides these pixels reaches the region
        np.testing.assert_allclose(heat[outside], 0, atol=1e-6)
        assert np.unravel_index(heat.argmax(), heat.shape)[0] in range(4, 8)
    horse = cam.occlusion(model, pictures, class_index=0, patch=3, stride=2, fill=0.0)
    np.testing.assert_allclose(horse, -maps, atol=1e-6)  # class 0 explains -logit


def test_occlusion_defaults_cover_every_pixel_and_mean_fill_hides_with_the_mean_colour():
    model = region_model(size=20, top=9, left=9, side=2)
    picture = 0.5 * np.random.default_rng(4).random((1, 20, 20, 3)).astype("float32")
    picture[:, 9:11, 9:11] = 1.0  # the region the model reads is brighter than the picture's mean
    default = cam.occlusion(model, picture, class_index=1)  # patch round(20 / 8) = 3, stride 1, black
    np.testing.assert_allclose(default, cam.occlusion(model, picture, class_index=1, patch=3, stride=1, fill=0.0))
    assert np.all(np.isfinite(default)) and default[0, 9:11, 9:11].min() > 0
    mean_filled = cam.occlusion(model, picture, class_index=1, fill="mean")
    starts = list(range(18))
    np.testing.assert_allclose(mean_filled[0], occlusion_by_hand(lambda x: x[9:11, 9:11].mean(), picture[0], 3, starts,
                                                                 starts, picture[0].mean(axis=(0, 1))), atol=1e-5)
    odd = cam.occlusion(model, picture, class_index=1, patch=4, stride=3, fill=0.0)
    starts = [0, 3, 6, 9, 12, 15, 16]  # the last one flush with the edge: pixel 19 is hidden too
    np.testing.assert_allclose(odd[0], occlusion_by_hand(lambda x: x[9:11, 9:11].mean(), picture[0], 4, starts, starts,
                                                         0.0), atol=1e-5)
    flat = np.ones((1, 20, 20, 3), np.float32) * np.array([0.2, 0.5, 0.9], np.float32)
    np.testing.assert_allclose(cam.occlusion(model, flat, fill="mean"), 0, atol=1e-6)  # hiding with itself
    assert cam.occlusion(model, flat, class_index=1, fill=0.0)[0, 9, 9] > 0.1


def test_occlusion_of_a_batch_equals_one_image_at_a_time():
    model = sigmoid_sequential()
    together = cam.occlusion(model, IMAGES, patch=8, stride=6)  # 5 x 5 positions: chunks span images
    one_by_one = np.concatenate([cam.occlusion(model, image[None], patch=8, stride=6) for image in IMAGES])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


@pytest.mark.parametrize("arguments, error, words", [
    ({"patch": 0}, ValueError, "patch must be an int from 1 to 32"),
    ({"patch": 33}, ValueError, "patch must be an int from 1 to 32"),
    ({"patch": 4.0}, TypeError, "patch must be an int"),
    ({"patch": 4, "stride": 5}, ValueError, "stride must be at most patch (4)"),
    ({"stride": 0}, ValueError, "stride must be at least 1"),
    ({"fill": "grey"}, ValueError, "a number or 'mean'"),
    ({"fill": [0, 0, 0]}, TypeError, "fill must be a number or 'mean'"),
    ({"fill": True}, TypeError, "fill must be a number or 'mean'"),
    ({"class_index": [0, 1]}, ValueError, "one per image"),
])
def test_occlusion_clear_errors(arguments, error, words):
    with pytest.raises(error) as info:
        cam.occlusion(sigmoid_sequential(), IMAGES, **arguments)
    assert words in str(info.value)


# ----------------------------------------------------------------------------
# guided backprop
# ----------------------------------------------------------------------------
def test_guided_backprop_leaves_the_model_as_it_was():
    model = sigmoid_sequential()
    weights, config = [w.copy() for w in model.get_weights()], model.get_config()
    calls = {layer.name: len(layer._inbound_nodes) for layer in model.layers}
    output = model.predict(IMAGES, verbose=0)
    cam.guided_backprop(model, IMAGES)
    assert model.get_config() == config
    assert [getattr(layer, "activation", None) for layer in model.layers] == \
        [keras.activations.relu, None, keras.activations.relu, None, keras.activations.sigmoid]
    assert {layer.name: len(layer._inbound_nodes) for layer in model.layers} == calls
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.predict(IMAGES, verbose=0), output)
    np.testing.assert_allclose(cam.saliency(model, IMAGES), cam.saliency(sigmoid_sequential(), IMAGES))


def test_guided_backprop_without_relus_is_saliency():
    keras.utils.set_random_seed(11)
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(6, 3, activation="tanh"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(6, 3),
        keras.layers.LeakyReLU(negative_slope=0.2),  # not a plain ReLU: not gated
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    np.testing.assert_allclose(cam.guided_backprop(model, IMAGES, class_index=[0, 1, 2]),
                               cam.saliency(model, IMAGES, class_index=[0, 1, 2]), atol=1e-6)


def tiny_relu_model():
    """3x3x1 input -> Conv2D(2 filters, 2x2, ReLU inside the layer) -> Flatten -> Dense(3) -> ReLU() -> Dense(1, sigmoid)."""
    model = keras.Sequential([
        keras.Input(shape=(3, 3, 1)),
        keras.layers.Conv2D(2, 2, activation="relu", name="conv"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(3, name="hidden"),
        keras.layers.ReLU(name="relu"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    rng = np.random.default_rng(12)
    model.get_layer("conv").set_weights([rng.normal(0, 1, (2, 2, 1, 2)), np.array([0.1, -0.1])])
    model.get_layer("hidden").set_weights([rng.normal(0, 1, (8, 3)), np.array([0.2, 0.0, -0.1])])
    model.get_layer("out").set_weights([np.array([[1.5], [-2.0], [0.7]]), np.array([0.0])])
    return model


def guided_gradient_by_hand(model, image, sign):
    """The guided gradient of sign * logit for one (3, 3, 1) image, with NumPy loops."""
    kernel, conv_bias = model.get_layer("conv").get_weights()
    hidden_weights, hidden_bias = model.get_layer("hidden").get_weights()
    out_weights = model.get_layer("out").get_weights()[0][:, 0] * sign
    conv_in = np.zeros((2, 2, 2))
    for i in range(2):
        for j in range(2):
            conv_in[i, j] = np.einsum("abc,abcf->f", image[i:i + 2, j:j + 2], kernel) + conv_bias
    conv_out = np.maximum(conv_in, 0)
    hidden_in = conv_out.reshape(-1) @ hidden_weights + hidden_bias

    def guided_relu(forward_input, gradient):
        return gradient * (forward_input > 0) * (gradient > 0)

    gradient = guided_relu(hidden_in, out_weights)  # through ReLU(), then Dense(3)
    gradient = guided_relu(conv_in, (hidden_weights @ gradient).reshape(2, 2, 2))  # the ReLU inside the conv
    to_input = np.zeros((3, 3, 1))
    for i in range(2):
        for j in range(2):
            to_input[i:i + 2, j:j + 2] += np.einsum("abcf,f->abc", kernel, gradient[i, j])
    return to_input


def test_guided_backprop_matches_a_guided_gradient_by_hand():
    model = tiny_relu_model()
    pictures = np.random.default_rng(13).normal(0, 1, (6, 3, 3, 1)).astype("float32")
    for class_index, sign in [(1, 1), (0, -1)]:
        expected = np.stack([np.abs(guided_gradient_by_hand(model, p, sign))[..., 0] for p in pictures])
        low, high = expected.min(axis=(1, 2), keepdims=True), expected.max(axis=(1, 2), keepdims=True)
        expected = (expected - low) / np.maximum(high - low, 1e-8)
        ours = cam.guided_backprop(model, pictures, class_index=class_index)
        np.testing.assert_allclose(ours, expected, atol=1e-5)
    # Gating matters here: the plain gradient flows back through the negative output weight too.
    assert not np.allclose(cam.guided_backprop(model, pictures, class_index=1),
                           cam.saliency(model, pictures, class_index=1), atol=1e-3)


def test_guided_backprop_shapes_nested_models_and_a_branching_model_refused():
    model = sigmoid_sequential()
    maps = cam.guided_backprop(model, IMAGES)
    assert maps.shape == (3, 32, 32) and maps.dtype == np.float32 and maps.min() >= 0 and maps.max() == 1
    assert not np.allclose(maps, cam.saliency(model, IMAGES), atol=1e-3)
    np.testing.assert_allclose(maps, np.concatenate([cam.guided_backprop(model, image[None]) for image in IMAGES]),
                               atol=1e-5)
    keras.utils.set_random_seed(1)
    base = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Conv2D(4, 3, activation="relu")],
                            name="base")
    nested = keras.Sequential([keras.Input(shape=(32, 32, 3)), base, keras.layers.Flatten(),
                               keras.layers.Dense(1, activation="sigmoid")])
    flat = keras.Sequential([keras.Input(shape=(32, 32, 3)), base.layers[0], keras.layers.Flatten(),
                             nested.layers[-1]])
    np.testing.assert_allclose(cam.guided_backprop(nested, IMAGES), cam.guided_backprop(flat, IMAGES), atol=1e-6)
    with pytest.raises(ValueError, match="the model branches"):
        cam.guided_backprop(residual_model(), IMAGES[:, :20, :20])
