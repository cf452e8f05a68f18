"""Notebook 4's table of the seed articles' Keras 2 calls: each line's last column, checked against
the installed Keras (an error, a warning, or still there)."""
import importlib
import warnings

import keras
import pytest
import tensorflow as tf


def test_image_data_generator_is_gone_from_keras_and_deprecated_under_tf_keras():
    with pytest.raises(ImportError):
        exec("from keras.preprocessing.image import ImageDataGenerator")
    assert hasattr(tf.keras.preprocessing.image, "ImageDataGenerator")


def test_rmsprop_no_longer_takes_lr():
    with pytest.raises(ValueError, match="lr"):
        keras.optimizers.RMSprop(lr=0.001)
    assert keras.optimizers.RMSprop(learning_rate=0.001).learning_rate.numpy() == pytest.approx(0.001)


def test_input_shape_on_a_layer_warns_but_still_works():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.Sequential([keras.layers.Conv2D(2, 3, input_shape=(8, 8, 3))])
    assert any("input_shape" in str(warning.message) for warning in caught)
    assert model.output_shape == (None, 6, 6, 2)


def test_the_generator_methods_and_the_backend_function_are_gone():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    for name in ("fit_generator", "evaluate_generator", "predict_generator"):
        assert not hasattr(model, name)
    backend = importlib.import_module("keras.backend")
    assert not hasattr(backend, "function") and not hasattr(backend, "learning_phase")


def test_acc_is_still_accepted_and_logged_as_acc():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(tf.zeros((4, 4)), tf.zeros((4, 1)), verbose=0)
    assert "acc" in history.history


def test_a_functional_models_layers_start_with_its_input_layer():
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert type(vgg.layers[0]).__name__ == "InputLayer" and vgg.layers[1].name == "block1_conv1"


def test_a_sequential_models_layers_do_not_start_with_an_input_layer():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv1")])
    assert [layer.name for layer in model.layers] == ["conv1"]
