"""Checkers for Notebook 04 (training the classifier)."""
import numbers

import numpy as np

from .. import conv
from .answers import as_int, call, function_checker, multiple_choice, verdict

__all__ = ["check_flatten_size", "check_dense_params", "check_accuracy_from_confusion", "check_unsafe_augmentation", "check_build_model", "check_fully_read_size",
           "EXAMPLE_CONFUSION", "ACCURACY_TOLERANCE"]


def _classifier_side(img_size):
    side = img_size
    for _ in range(5):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    return side


#: The input size of exercises 1 and 2: not one of the sizes the notebook prints (150 and 300 px).
EXERCISE_SIZE = 250


def check_flatten_size(answer):
    """Exercise: the length of the Flatten output when the classifier takes 250x250 images."""
    value = as_int(answer, "The Flatten length")
    if value is None:
        return
    side = _classifier_side(EXERCISE_SIZE)
    if value == side * side * 64:
        verdict(True, "250 -> 248 -> 124 -> 122 -> 61 -> 59 -> 29 -> 27 -> 13 -> 11 -> 5: 5 x 5 x 64.")
    elif value == side * side:
        verdict(False, "that is one channel's worth. The last conv has 64 filters, and Flatten keeps them all.")
    elif value in (_classifier_side(150) ** 2 * 64, _classifier_side(300) ** 2 * 64):
        verdict(False, "that is the size for another input (150 or 300 px). Redo the chain of sizes from 250.")
    elif value in ((EXERCISE_SIZE // 32) ** 2 * 64, (EXERCISE_SIZE / 32) ** 2 * 64):
        verdict(False, "each 3x3 'valid' conv also trims 2 pixels before its pool halves the size: go layer by layer.")
    else:
        verdict(False, "follow the side length through five blocks: conv 3x3 'valid' (n - 2), then pool 2 "
                        "(floor(n / 2)). Then multiply side x side x filters of the last conv.")


def check_dense_params(answer):
    """Exercise: trainable parameters of Dense(512) after the 250 px model's Flatten."""
    value = as_int(answer, "The parameter count")
    if value is None:
        return
    flat = _classifier_side(EXERCISE_SIZE) ** 2 * 64
    if value == flat * 512 + 512:
        verdict(True, f"{flat} inputs x 512 units, plus 512 biases.")
    elif value == flat * 512:
        verdict(False, "the weights are right. Each of the 512 units also has a bias.")
    elif value == flat + 512 or value == flat * 512 + 1:
        verdict(False, "a dense layer connects every input to every unit: multiply, do not add.")
    elif value in (_classifier_side(150) ** 2 * 64 * 512 + 512, _classifier_side(300) ** 2 * 64 * 512 + 512):
        verdict(False, "that is the dense layer for another input size. Start from the Flatten length at 250 px.")
    else:
        verdict(False, "first find the Flatten length at 250 px (side x side x 64, exercise 1); each of the 512 "
                        "units has one weight per input plus a bias.")


#: The confusion matrix of the "accuracy from a confusion matrix" exercise (rows: true, columns: predicted).
EXAMPLE_CONFUSION = np.array([[120, 8], [5, 123]])


#: How far an accuracy may be from the exact 243 / 256 = 0.94921875. Three decimals (0.949) pass; the
#: accuracies notebook 4 prints for its own model (0.945, 0.953 and the like) are 0.003 or more away.
ACCURACY_TOLERANCE = 1e-3


def check_accuracy_from_confusion(answer):
    """Exercise: the accuracy of :data:`EXAMPLE_CONFUSION`, as a fraction.

    Parameters
    ----------
    answer : float
        A fraction between 0 and 1, within :data:`ACCURACY_TOLERANCE` of the
        exact value.
    """
    if answer is None:
        verdict(False, "replace None with your answer, then run the cell again.")
        return
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
        verdict(False, f"answer with a number between 0 and 1; got {answer!r}.")
        return
    matrix = EXAMPLE_CONFUSION
    accuracy = np.trace(matrix) / matrix.sum()

    def near(value, tolerance=ACCURACY_TOLERANCE):
        return abs(answer - value) <= tolerance

    if near(accuracy):
        verdict(True, "Correct predictions (the diagonal) over all predictions.")
    elif near(100 * accuracy, 100 * ACCURACY_TOLERANCE):
        verdict(False, "right number, but as a percentage: give a fraction between 0 and 1.")
    elif near(matrix[1, 1] / matrix[:, 1].sum()) or near(matrix[1, 1] / matrix[1].sum()):
        verdict(False, "that looks at one class only. Accuracy counts both diagonal cells over everything.")
    elif near(np.trace(matrix) / matrix[0].sum()) or answer > 1:
        verdict(False, "divide by the total number of images, the sum of all four cells.")
    elif near(accuracy, 10 * ACCURACY_TOLERANCE):
        # Most likely an accuracy copied from this notebook's own training run, which lies this close.
        verdict(False, "near, but not this matrix's accuracy: the accuracies printed while training belong to "
                        "your model, not to this one. Work it out from the four cells, to three decimals.")
    else:
        verdict(False, "add the diagonal cells (right answers) and divide by the sum of all cells.")


def check_unsafe_augmentation(answer):
    """Exercise: which augmentation would teach the model something false about horses and humans?"""
    not_real = "happens in real photos all the time. Which change would give pictures you will never meet?"
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "Nobody photographs an upside-down horse: flipping vertically invents images that never occur, and the "
        "model wastes capacity on them.",
        {"a": "a horse facing left is as real as one facing right. Which change would give pictures you will "
              "never meet?",
         "c": f"a little rotation by up to 10 degrees {not_real}",
         "d": f"a little zoom by up to 20 % {not_real}"})


@function_checker
def check_build_model(build_model):
    """Exercise: ``build_model(img_size)`` writes the codelab network for any square image size."""
    import keras

    from .. import models

    model, error = call(build_model, 300)
    if error:
        verdict(False, error)
        return
    if not isinstance(model, keras.Model):
        verdict(False, f"return the model itself (a keras.Sequential), not {type(model).__name__}.")
        return
    if tuple(model.input_shape[1:]) != (300, 300, 3):
        verdict(False, f"build_model(300) should take 300 x 300 RGB images, (300, 300, 3); its input is "
                        f"{tuple(model.input_shape[1:])}. Start with keras.Input(shape=(img_size, img_size, 3)).")
        return
    reference = models.build_classifier(300)
    if len(model.layers) != len(reference.layers):
        verdict(False, f"your model has {len(model.layers)} layers; the codelab network has {len(reference.layers)}: "
                        f"five Conv2D + MaxPooling2D blocks, Flatten, Dense(512) and Dense(1).")
        return
    for mine, theirs in zip(model.layers, reference.layers):
        if type(mine) is not type(theirs):
            verdict(False, f"where the codelab network has a {type(theirs).__name__} ({theirs.name}), yours has a "
                            f"{type(mine).__name__}. Compare the order of your layers with section 4.")
            return
        if tuple(mine.output.shape) != tuple(theirs.output.shape):
            verdict(False, f"layer {theirs.name} should output {tuple(theirs.output.shape)}; yours gives "
                            f"{tuple(mine.output.shape)}. Check its filters, kernel size, pool size or units.")
            return
        activation = getattr(mine, "activation", None)
        if activation is not None and activation.__name__ != theirs.activation.__name__:
            verdict(False, f"layer {theirs.name} should use the {theirs.activation.__name__} activation; yours "
                            f"uses {activation.__name__}.")
            return
        if mine.name != theirs.name:
            verdict(False, f"the shapes are right. Name the layers as in section 4: '{mine.name}' should be "
                            f"'{theirs.name}'.")
            return
    small, error = call(build_model, 150)
    if error or not isinstance(small, keras.Model) or tuple(small.input_shape[1:]) != (150, 150, 3):
        verdict(False, "build_model(300) is right, but build_model(150) is not 150 x 150: use img_size everywhere.")
        return
    verdict(True, f"the codelab network for any size: {model.count_params():,} parameters at 300 px.")


def _rows_read(img_size):
    """How many rows (and columns) of an img_size input reach the output of the five-block network."""
    used = _classifier_side(img_size)
    for _ in range(5):
        used = 2 * used + 2  # back through one 2x2 pooling and one 3x3 'valid' convolution
    return used


def check_fully_read_size(answer):
    """Exercise: the smallest input size above 200 px whose every pixel the network reads."""
    value = as_int(answer, "The input size")
    if value is None:
        return
    if value <= 200:
        verdict(False, "look above 200 px: the exercise asks for a size larger than notebook 2's example.")
    elif _rows_read(value) != value:
        verdict(False, f"at {value} px the network leaves the last {value - _rows_read(value)} row(s) unread. Try the "
                       f"sizes one by one with pixels_read.")
    elif value != min(size for size in range(201, 400) if _rows_read(size) == size):
        verdict(False, f"{value} px is read completely, but a smaller size above 200 is too.")
    else:
        verdict(True, "every 3x3 convolution leaves an even side, so no pooling drops a row.")
