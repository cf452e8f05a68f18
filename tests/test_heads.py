"""The logits behind a classifier's output, however its last layers are written (anatomy.head, body_model)."""
import keras
import numpy as np
import pytest

from course_helpers import anatomy, cam


def _conv_body(inputs):
    return keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs))


def softmax_layer_model():
    inputs = keras.Input((12, 12, 3))
    logits = keras.layers.Dense(3, name="scores")(_conv_body(inputs))
    return keras.Model(inputs, keras.layers.Softmax(name="probabilities")(logits)), "scores"


def nested_head_model(inner_input):
    """The classifier's head as a nested Sequential, with or without its own Input."""
    head_layers = [keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid", name="out")]
    if inner_input:
        head_layers.insert(0, keras.Input((10, 10, 4)))
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.Sequential(head_layers, name="head")])
    return model, "out"


def functional_nested_head_model():
    inputs = keras.Input((12, 12, 3))
    features = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    head = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax", name="out")], name="head")
    return keras.Model(inputs, head(features)), "out"


def expected_logits(model, layer_name, images):
    """The named layer's output without its activation, by hand from its kernel and bias."""
    layer = model.get_layer(layer_name) if layer_name in [l.name for l in model.layers] else \
        next(l for l in anatomy.all_layers(model) if l.name == layer_name)
    conv = next(l for l in anatomy.all_layers(model) if l.name == "conv")
    features = np.maximum(np.asarray(keras.ops.conv(images, conv.kernel)) + np.asarray(conv.bias), 0)
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    return features.reshape(len(images), -1) @ kernel + bias


@pytest.mark.parametrize("build", [softmax_layer_model, lambda: nested_head_model(False),
                                   lambda: nested_head_model(True), functional_nested_head_model])
def test_the_logits_are_found_behind_any_final_sigmoid_or_softmax(build):
    keras.utils.set_random_seed(3)
    model, logits_layer = build()
    images = np.random.default_rng(3).random((4, 12, 12, 3)).astype("float32")
    body, end = anatomy.body_model(model)
    assert end.activation == ("sigmoid" if model.outputs[0].shape[-1] == 1 else "softmax")
    np.testing.assert_allclose(np.asarray(end.logits(body(images))), expected_logits(model, logits_layer, images),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("build", [softmax_layer_model, lambda: nested_head_model(True), functional_nested_head_model])
def test_integrated_gradients_is_complete_on_these_heads(build):
    keras.utils.set_random_seed(4)
    model, logits_layer = build()
    images = np.random.default_rng(4).random((3, 12, 12, 3)).astype("float32")
    logits = expected_logits(model, logits_layer, images) - expected_logits(model, logits_layer, 0 * images)
    if logits.shape[1] == 1:  # a single sigmoid: class 1 scores the logit, class 0 minus the logit
        logits = np.concatenate([-logits, logits], axis=1)
    for class_index in range(logits.shape[1]):
        attributions = cam.integrated_gradients(model, images, class_index=class_index)
        np.testing.assert_allclose(attributions.sum(axis=(1, 2, 3)), logits[:, class_index], rtol=0.03, atol=1e-4)
