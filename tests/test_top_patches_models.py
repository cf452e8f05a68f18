"""top_patches on models of other shapes: any input size, and kernels it cannot follow."""
import keras
import numpy as np
import pytest

from course_helpers import activations


def test_top_patches_on_a_model_that_takes_any_image_size():
    keras.utils.set_random_seed(5)
    inputs = keras.Input((None, None, 3))
    maps = keras.layers.Conv2D(3, 3, activation="relu", name="cv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(maps)))
    pictures = np.random.default_rng(5).random((3, 20, 20, 3)).astype("float32")
    patches, values, places = activations.top_patches(model, "cv", pictures, [0], k=2, return_locations=True)
    assert patches.shape == (1, 2, 3, 3, 3)
    for rank, (image, row, column) in enumerate(places[0]):
        np.testing.assert_array_equal(patches[0, rank], pictures[image, row:row + 3, column:column + 3])
    with pytest.raises(ValueError, match="k must be an int from 1 to 972"):  # 3 pictures x 18 x 18 units
        activations.top_patches(model, "cv", pictures, [0], k=973)


def test_top_patches_refuses_a_kernel_that_is_not_square():
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(3, (1, 5), name="wide"),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="'wide' is not square"):
        activations.top_patches(model, "wide", np.zeros((2, 12, 12, 3), np.float32), 0, k=1)
