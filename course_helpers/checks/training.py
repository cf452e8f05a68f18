"""Checkers for Notebook 04 (training the classifier)."""
import numbers

import numpy as np

from .. import conv
from .answers import as_int, call, function_checker, multiple_choice, verdict

__all__ = ["check_flatten_size", "check_dense_params", "check_unsafe_augmentation",
           "check_build_model", "check_recipe_experiment", "check_mirror_test",
           "check_humans_called_horses", "check_gap_or_overfitting", "GAP_OR_OVERFITTING",
           "EXAMPLE_CONFUSION", "ACCURACY_TOLERANCE", "CODELAB_RECIPE"]


def _classifier_side(img_size):
    side = img_size
    for _ in range(5):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    return side


def _halved_only(img_size):
    """The side after five 2x2 poolings alone: the chain without the convolutions' trim (a common slip)."""
    side = img_size
    for _ in range(5):
        side //= 2
    return side


def _pooled_rounding_up(img_size):
    """The side after five blocks if each pooling rounded up instead of down (a common slip)."""
    side = img_size
    for _ in range(5):
        side = -(-(side - 2) // 2)
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
    elif value == _halved_only(EXERCISE_SIZE) ** 2 * 64:
        verdict(False, "that is the size for another input (300 px), and also what halving 250 five times gives: "
                       "each 3x3 'valid' conv first trims 2 pixels (n - 2) before its pool halves. Go layer by layer.")
    elif value == _pooled_rounding_up(EXERCISE_SIZE) ** 2 * 64:
        verdict(False, "a 2x2 pooling rounds down: 59 -> 29, not 30. Go layer by layer again.")
    elif value in (_classifier_side(150) ** 2 * 64, _classifier_side(300) ** 2 * 64):
        verdict(False, "that is the size for another input (150 or 300 px). Redo the chain of sizes from 250.")
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
    elif value == flat * 512 + 1:
        verdict(False, "the weights are right, but there is one bias per unit: 512 biases, not 1.")
    elif value == flat + 512:
        verdict(False, "a dense layer connects every input to every unit: multiply, do not add.")
    elif value in (_classifier_side(150) ** 2 * 64 * 512 + 512, _classifier_side(300) ** 2 * 64 * 512 + 512):
        verdict(False, "that is the dense layer for another input size. Start from the Flatten length at 250 px.")
    else:
        verdict(False, "first find the Flatten length at 250 px (side x side x 64, exercise 1); each of the 512 "
                        "units has one weight per input plus a bias.")


#: The confusion matrix of the "accuracy from a confusion matrix" exercise (rows: true, columns: predicted).
EXAMPLE_CONFUSION = np.array([[100, 28], [10, 118]])


#: How far an accuracy may be from the exact 218 / 256 = 0.8515625. Three decimals (0.852) pass; an accuracy
#: 0.002 or more away, such as one a training log prints nearby, does not.
ACCURACY_TOLERANCE = 1e-3


def check_humans_called_horses(answer):
    """Exercise: in :data:`EXAMPLE_CONFUSION`, the share of the true humans that the model called horses.

    Parameters
    ----------
    answer : float
        A fraction between 0 and 1 (10 / 128 = 0.078), within :data:`ACCURACY_TOLERANCE`.
    """
    if answer is None:
        verdict(False, "replace None with your answer, then run the cell again.")
        return
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
        verdict(False, f"answer with a number between 0 and 1; got {answer!r}.")
        return
    matrix = EXAMPLE_CONFUSION   # rows: true horse, true human; columns: called horse, called human
    right = matrix[1, 0] / matrix[1].sum()

    def near(value, tolerance=ACCURACY_TOLERANCE):
        return abs(answer - value) <= tolerance

    if near(right):
        verdict(True, f"{matrix[1, 0]} of the {matrix[1].sum()} true humans (the human row) were called horses.")
    elif near(100 * right, 100 * ACCURACY_TOLERANCE):
        verdict(False, "right number, but as a percentage: give a fraction between 0 and 1.")
    elif near(matrix[1, 0] / matrix[:, 0].sum()):
        verdict(False, "that divides by the pictures called horses (a column). The question is about the true "
                        "humans: divide by the human row's sum.")
    elif near(matrix[0, 1] / matrix[0].sum()):
        verdict(False, "that is the share of true horses called humans. Rows are the true classes: use the "
                        "human row.")
    elif near(matrix[1, 0] / matrix.sum()):
        verdict(False, "that divides by all 256 pictures. Divide by the true humans only, the human row's sum.")
    elif near(matrix[1, 1] / matrix[1].sum()):
        verdict(False, "that is the share of true humans called humans, the right answers. Take the other cell "
                        "of the human row.")
    else:
        verdict(False, "rows are the true classes, columns the predictions: take the human row's 'horse' cell "
                        "and divide by the human row's sum.")


#: The right answer to the "gap or overfitting?" exercise: history a, reason x.
GAP_OR_OVERFITTING = ("a", "x")


def check_gap_or_overfitting(answer):
    """Exercise: which of two training histories overfits, and why.

    Parameters
    ----------
    answer : tuple of two str
        (the history, "a" or "b"; the reason, "w", "x", "y" or "z").
    """
    if answer is None:
        verdict(False, "replace None with two letters, for example (\"a\", \"w\"): the history, then the reason.")
        return
    if (not isinstance(answer, (tuple, list)) or len(answer) != 2
            or not all(isinstance(letter, str) for letter in answer)):
        verdict(False, f"answer with two letters in a tuple, the history then the reason, like (\"a\", \"w\"); "
                       f"got {answer!r}.")
        return
    history, reason = (letter.strip().lower() for letter in answer)
    if history not in ("a", "b") or reason not in ("w", "x", "y", "z"):
        verdict(False, f"the history is 'a' or 'b', the reason 'w', 'x', 'y' or 'z'; got {answer!r}.")
        return
    reasons = {
        "w": "Both validation losses end above their training losses: that is the generalization gap, which "
             "every model has. It is not overfitting on its own.",
        "y": "A higher loss at the end means a worse model, not an overfitting one: compare each history with "
             "itself, epoch by epoch.",
        "z": "Both training losses still fall at the last epoch: that is training going on, not overfitting.",
    }
    if history == "b":
        verdict(False, "b's validation loss falls, then stays flat above its training loss: a steady gap. Look for "
                       "the validation loss that turns and rises. " + ("" if reason == "x" else reasons[reason]))
    elif reason != "x":
        verdict(False, "a is right, but not for that reason. " + reasons[reason])
    else:
        verdict(True, "a's validation loss rises for four epochs in a row while its training loss keeps falling: "
                      "more training makes it worse on new pictures. b keeps a steady gap, which is not overfitting.")


def check_unsafe_augmentation(answer):
    """Exercise: which augmentation would teach the model something false about horses and humans?"""
    question = "Which change would give pictures you will never meet?"
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "Horses and humans do not stand on their heads, in renders, drawings or photos: flipping vertically "
        "invents pictures the classifier will never be asked about, and it spends its training on them.",
        {"a": f"a horse facing left is as real as one facing right, in renders and drawings alike. {question}",
         "c": f"figures lean a little and cameras tilt, so a rotation by up to 10 degrees gives pictures like "
              f"those the classifier meets. {question}",
         "d": f"figures come larger and smaller, so a zoom by up to 20 % gives pictures like those the classifier "
              f"meets. {question}"})


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
        if mine.count_params() != theirs.count_params():
            bias = ("it has no bias: leave use_bias at its default, True. " if getattr(mine, "use_bias", True) is False
                    else "")
            verdict(False, f"layer {theirs.name} has the right output shape, but {mine.count_params():,} parameters "
                            f"instead of {theirs.count_params():,}: {bias}Every filter and unit has one weight per "
                            f"input, plus a bias.")
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


CODELAB_RECIPE = {"epochs": 15, "learning_rate": 1e-3}

#: How many of the last epochs the exercise compares, as ``bench/training_recipes.py`` does.
LAST_EPOCHS = 4


def _validation_accuracy(history, name):
    """(val_accuracy as an array, the history's dict, None), or (None, None, a hint) when it is not a history."""
    curves = getattr(history, "history", history)
    if not isinstance(curves, dict):
        return None, None, (f"{name} should be what model.fit returns (a History), or its .history dict; "
                            f"got {type(history).__name__}.")
    if "val_accuracy" not in curves:
        return None, None, (f"{name} has no 'val_accuracy': compile with metrics=['accuracy'] and pass "
                            f"validation_data=validation_ds to fit. It has {sorted(curves)}.")
    try:
        values = np.asarray(curves["val_accuracy"], dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None, None, f"{name}['val_accuracy'] should be a list of numbers, one per epoch."
    if len(values) < LAST_EPOCHS or not np.all(np.isfinite(values)):
        return None, None, f"{name} needs at least {LAST_EPOCHS} epochs of finite validation accuracies."
    return values, curves, None


def _points(values):
    """The last epochs' lowest and highest validation accuracy, and their spread in percentage points."""
    last = values[-LAST_EPOCHS:]
    return last.min(), last.max(), 100 * (last.max() - last.min())


def check_recipe_experiment(codelab_history, course_history=None):
    """Exercise (an experiment): train the codelab's recipe and compare how it settles with the course's.

    Parameters
    ----------
    codelab_history : keras.callbacks.History or dict
        What ``fit`` returned for the codelab's recipe: RMSprop at a learning
        rate of 10^-3 for 15 epochs, with validation data.
    course_history : keras.callbacks.History or dict
        Section 5's ``history``, the course's recipe.
    """
    if codelab_history is None:
        verdict(False, "train a fresh model with the codelab's recipe (RMSprop, learning_rate=0.001, 15 epochs, "
                       "with validation_data) and put what fit returns in codelab_history.")
        return
    codelab, curves, problem = _validation_accuracy(codelab_history, "codelab_history")
    if problem is None and course_history is None:
        problem = "pass section 5's history too, as the second argument: check_recipe_experiment(codelab_history, history)."
    if problem is None:
        course, _, problem = _validation_accuracy(course_history, "the second argument (section 5's history)")
    if problem:
        verdict(False, problem)
        return
    if len(codelab) != CODELAB_RECIPE["epochs"]:
        verdict(False, f"the codelab trains for {CODELAB_RECIPE['epochs']} epochs; codelab_history has "
                       f"{len(codelab)}. Pass epochs={CODELAB_RECIPE['epochs']} to fit, on a fresh model.")
        return
    trained = getattr(codelab_history, "model", None)   # a History knows its model
    if trained is not None and trained is getattr(course_history, "model", None):
        verdict(False, "this history comes from section 5's model, trained a second time: it starts from what "
                       "it had already learned. Train a fresh models.build_classifier(150), not section 5's model.")
        return
    optimizer = getattr(trained, "optimizer", None)
    if optimizer is not None:
        name = type(optimizer).__name__
        if name != "RMSprop":
            verdict(False, f"the codelab trains with RMSprop; this model was compiled with {name}. Compile a fresh "
                           f"model with keras.optimizers.RMSprop(learning_rate=0.001).")
            return
        try:
            rate = float(np.asarray(optimizer.learning_rate))
        except (TypeError, ValueError):   # a schedule, not one number
            rate = None
        if rate is None or not np.isclose(rate, CODELAB_RECIPE["learning_rate"], rtol=1e-3):
            has = "a schedule" if rate is None else f"learning_rate={rate:g}"
            verdict(False, f"the codelab's RMSprop uses learning_rate=0.001 throughout; this one has {has}.")
            return
    rates = curves.get("learning_rate")  # Keras logs it only when a callback sets it
    if rates is not None and not np.allclose(np.asarray(rates, dtype=float), CODELAB_RECIPE["learning_rate"],
                                             rtol=1e-3):
        verdict(False, "the codelab keeps the learning rate at 0.001 for every epoch: leave out the "
                       "LearningRateScheduler callback.")
        return
    (codelab_low, codelab_high, codelab_spread), (course_low, course_high, course_spread) = map(
        _points, (codelab, course))
    verdict(True, f"validation accuracy over the last {LAST_EPOCHS} epochs: the codelab recipe from "
                  f"{codelab_low:.3f} to {codelab_high:.3f} ({codelab_spread:.1f} points apart), the course's "
                  f"from {course_low:.3f} to {course_high:.3f} ({course_spread:.1f} points). One run of each is "
                  f"one draw: on 10 stand-in seeds, the codelab recipe stayed within 2 points on 3, the "
                  f"course's on 7.")


#: How far a mirror-test count may be from the checker's own: a picture whose P(human) lies within rounding
#: of 0.5 may fall either way when the same batch is predicted a second time.
MIRROR_TOLERANCE = 1


def _mirror_counts(model, dataset):
    """Counts of the mirror test over ``dataset``, computed the way the exercise asks and the usual wrong ways.

    Parameters
    ----------
    model : keras.Model
        Maps a batch of shape (n, height, width, 3), values in [0, 1], to P(human), shape (n, 1).
    dataset : iterable of (images, labels)
        Batches of images, shape (n, height, width, 3), and 0/1 labels, shape (n, 1).

    Returns
    -------
    dict of int
        ``"changed"``: pictures whose predicted class changes when mirrored left-right;
        ``"mirrored_wrong"``: mistakes on the mirrored pictures; ``"upside_down"``: changes
        under an up-down flip; ``"channels"``: changes when the colour channels are reversed;
        ``"probability_moved"``: pictures whose P(human) moves at all; ``"pictures"``: all
        pictures; ``"upright_right"`` and ``"mirrored_right"``: correct answers before and after.
    """
    counts = dict.fromkeys(["changed", "mirrored_wrong", "upside_down", "channels", "probability_moved",
                            "pictures", "upright_right", "mirrored_right"], 0)
    for batch, labels in dataset:
        pictures = np.asarray(batch, dtype=np.float32)
        truth = np.asarray(labels).reshape(-1) > 0.5

        def p_human(images):
            return np.asarray(model.predict_on_batch(np.ascontiguousarray(images))).reshape(-1)

        upright, mirrored = p_human(pictures), p_human(pictures[:, :, ::-1])
        counts["changed"] += int(np.sum((upright > 0.5) != (mirrored > 0.5)))
        counts["mirrored_wrong"] += int(np.sum((mirrored > 0.5) != truth))
        counts["upside_down"] += int(np.sum((upright > 0.5) != (p_human(pictures[:, ::-1]) > 0.5)))
        counts["channels"] += int(np.sum((upright > 0.5) != (p_human(pictures[..., ::-1]) > 0.5)))
        counts["probability_moved"] += int(np.sum(np.abs(upright - mirrored) > 1e-6))
        counts["pictures"] += len(truth)
        counts["upright_right"] += int(np.sum((upright > 0.5) == truth))
        counts["mirrored_right"] += int(np.sum((mirrored > 0.5) == truth))
    return counts


def check_mirror_test(answer, model=None, dataset=None):
    """Exercise (an experiment): how many validation pictures change class when mirrored left-right?

    Parameters
    ----------
    answer : int
        The learner's count of validation pictures whose predicted class (P(human) > 0.5)
        differs between the picture and its left-right mirror image.
    model : keras.Model
        The trained classifier of section 5 (input (n, 150, 150, 3), output P(human)).
    dataset : iterable of (images, labels)
        The validation batches, ``validation_ds``.
    """
    value = as_int(answer, "The number of pictures")
    if value is None:
        return
    if model is None or dataset is None or not hasattr(model, "predict_on_batch"):
        verdict(False, "pass the model and the validation set too: check_mirror_test(my_changed, model, "
                       "validation_ds).")
        return
    try:
        counts = _mirror_counts(model, dataset)
    except Exception as error:  # a learner's object that is not a model or a dataset: say so, no traceback
        verdict(False, f"the checker could not predict with this model and dataset ({type(error).__name__}): pass "
                       f"section 5's model and validation_ds.")
        return
    changed, pictures = counts["changed"], counts["pictures"]
    # A named wrong count is told apart before the tolerance, unless it equals the right count.
    named_wrong = value != changed and value in (counts["mirrored_wrong"], counts["upside_down"], counts["channels"],
                                                 counts["probability_moved"])
    if not named_wrong and abs(value - changed) <= MIRROR_TOLERANCE:
        verdict(True, f"{changed} of {pictures} pictures change class when mirrored. Accuracy: "
                      f"{counts['upright_right'] / pictures:.3f} on the pictures as they are, "
                      f"{counts['mirrored_right'] / pictures:.3f} mirrored.")
    elif value < 0 or value > pictures:
        verdict(False, f"count pictures: a number from 0 to {pictures}, the size of the validation set.")
    elif value == counts["mirrored_wrong"]:
        verdict(False, "that counts the mistakes on the mirrored pictures. Count the pictures whose answer "
                       "differs between the picture and its mirror image, whether right or wrong.")
    elif value == counts["upside_down"]:
        verdict(False, "that flips the pictures upside down. A batch is (pictures, height, width, channels): "
                       "mirror left-right by reversing the width axis, axis 2.")
    elif value == counts["channels"]:
        verdict(False, "that reverses the colour channels (RGB to BGR). Mirror left-right by reversing the width "
                       "axis, axis 2 of a batch.")
    elif value == counts["probability_moved"]:
        verdict(False, "that counts pictures whose P(human) moved at all. Count those whose class changes: "
                       "P(human) > 0.5 on one side of the mirror and not on the other.")
    else:
        verdict(False, "for each validation batch, predict the batch and its mirror image (batch[:, :, ::-1]), "
                       "turn both into classes with P(human) > 0.5, and count the pictures where they differ.")
