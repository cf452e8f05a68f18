"""Checkers for Notebook 06 (filter visualization)."""
import numpy as np

from .. import conv
from .answers import as_int, as_number_array, call, function_checker, multiple_choice, verdict

__all__ = ["check_ascent_step", "check_total_variation", "check_receptive_layer", "check_tv_experiment",
           "check_neuron_extent", "check_flat_colour", "MADE_UP_KERNEL"]


def _reference_ascent(image, gradient, learning_rate):
    return np.clip(image + learning_rate * gradient / (np.linalg.norm(gradient) + 1e-8), 0, 1)


@function_checker
def check_ascent_step(ascent_step):
    """Exercise: ``ascent_step(image, gradient, learning_rate)``, one step of normalized gradient ascent."""
    rng = np.random.default_rng(7)
    image = rng.uniform(0.3, 0.7, size=(6, 6, 3))
    gradient = rng.normal(size=(6, 6, 3)) * 50
    expected = _reference_ascent(image, gradient, 2.0)
    result, error = call(ascent_step, image.copy(), gradient.copy(), 2.0)
    if error:
        verdict(False, f"{error}.")
        return
    result = as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape != image.shape:
        verdict(False, f"return an image of the same shape as the input, {image.shape}; got {result.shape}.")
    elif np.allclose(result, expected, atol=1e-6):
        verdict(True, "Up the gradient, a step of fixed length, and back into the valid pixel range.")
    elif np.allclose(result, _reference_ascent(image, -gradient, 2.0), atol=1e-6):
        verdict(False, "that step goes downhill. To increase the activation, add the gradient.")
    elif np.allclose(result, np.clip(image + 2.0 * gradient, 0, 1), atol=1e-6):
        verdict(False, "divide the gradient by its length (np.linalg.norm) first, so the step size does not "
                        "depend on how large the gradient happens to be.")
    elif np.allclose(result, image + 2.0 * gradient / (np.linalg.norm(gradient) + 1e-8), atol=1e-6):
        verdict(False, "keep the pixels in [0, 1] with np.clip after the step.")
    else:
        verdict(False, "compare your step with section 2's: the image moves along the gradient by a step whose "
                        "length is learning_rate whatever the gradient's size, and its pixels stay in [0, 1].")


@function_checker
def check_total_variation(total_variation):
    """Exercise: ``total_variation(image)`` for an (H, W, 3) image: mean |vertical| + mean |horizontal| difference."""
    rng = np.random.default_rng(8)
    for image in [rng.random((5, 7, 3)), np.tile(np.linspace(0, 1, 6), (4, 1))[:, :, None].repeat(3, axis=2)]:
        down = np.abs(np.diff(image, axis=0)).mean()
        right = np.abs(np.diff(image, axis=1)).mean()
        result, error = call(total_variation, image.copy())
        if error:
            verdict(False, f"on an image of shape {image.shape}, {error}.")
            return
        try:
            value = float(result)
        except (TypeError, ValueError):
            verdict(False, f"return one number, not {type(result).__name__}.")
            return
        if abs(value - (down + right)) < 1e-9:
            continue
        if abs(value - down) < 1e-9 or abs(value - right) < 1e-9:
            verdict(False, "add both directions: differences between vertical neighbours and between horizontal ones.")
        elif abs(value - (np.diff(image, axis=0).mean() + np.diff(image, axis=1).mean())) < 1e-9:
            verdict(False, "take the absolute value of each difference, or ups and downs cancel out.")
        else:
            verdict(False, "try an image you can work out by hand: np.arange(6.0).reshape(2, 3, 1) differs by 3 "
                            "between vertical neighbours and by 1 between horizontal ones, so its total "
                            "variation is 4.")
        return
    verdict(True, "Flat images score 0, noisy ones score high: that is what the penalty discourages.")


def _deeper_fields(blocks=20):
    """Receptive field (side, jump) of conv1 to conv``blocks`` if the course's model went on with blocks like its
    own: a 3x3 'valid' conv, and a 2x2 max-pooling before each next conv."""
    fields, stack = {}, []
    for block in range(1, blocks + 1):
        stack.append((3, 1))
        fields[f"conv{block}"] = conv.receptive_field(stack)
        stack.append((2, 2))
    return fields


def check_receptive_layer(answer):
    """Exercise: with more blocks like the model's five, which is the first conv layer whose units see the whole
    150 px input, and how many pixels does it see?

    ``answer`` is the layer's name, or a pair (name, receptive field in px); the pair checks the field too."""
    if answer is None:
        verdict(False, "replace None with a layer name in quotes and its receptive field in px, like ('conv2', 8).")
        return
    fields, input_side = _deeper_fields(), 150   # the course's model takes 150 px images
    field = None
    if isinstance(answer, (tuple, list)):
        if len(answer) != 2:
            verdict(False, f"give two things, the layer's name and its field in px, like ('conv2', 8); got {answer!r}.")
            return
        answer, field = answer
    chosen = answer.strip().lower() if isinstance(answer, str) else None
    if chosen not in fields:
        verdict(False, f"answer with a conv layer's name, 'conv1' or deeper, like 'conv2'; got {answer!r}.")
        return
    first = next(name for name, (side, _) in fields.items() if side >= input_side)
    side, jump = fields[chosen]
    if chosen == first and field is not None and not (np.isscalar(field) and field == side):
        verdict(False, f"{chosen} is the right layer, but its units do not see {field!r} px. Start from conv5's "
                       f"field and jump in section 3's table: the 2x2 pooling adds 1 jump and doubles it, the 3x3 "
                       f"conv adds 2 of the doubled jumps.")
        return
    if chosen == first:
        below_name = f"conv{int(chosen[4:]) - 1}"
        below, below_jump = fields[below_name]
        verdict(True, f"{chosen}'s units would see {side}x{side} px: {below_name}'s {below}, plus {below_jump} for "
                      f"the 2x2 pooling (1 x its input jump, {below_jump} px), plus {2 * jump} for the 3x3 conv "
                      f"(2 x the doubled jump, {jump} px). From one conv to the next, the field grows by 5 x "
                      f"the earlier conv's jump (1 jump from the pooling, 2 doubled jumps from the conv): "
                      f"+5, +10, +20, +40, +80 px.")
    elif side < input_side:
        verdict(False, f"{chosen}'s units see {side}x{side} px, less than the {input_side} px input: go deeper. "
                       f"A 2x2 pooling adds 1 jump and then doubles the jump; a 3x3 conv adds 2 jumps.")
    else:
        verdict(False, f"{chosen}'s units would see {side}x{side} px, but a shallower layer already sees the "
                       f"whole {input_side} px: go back one block at a time.")


def _tv_measurements(measured):
    """The learner's {tv: (mean activation, mean total variation)} as floats; None after a hint when malformed."""
    if measured is None:
        verdict(False, "replace None with your numbers: {0: (activation, total variation), 40: (...), 160: (...)}.")
        return None
    if not isinstance(measured, dict):
        verdict(False, f"pass a dict from each tv to a pair (mean activation, mean total variation); "
                       f"got {type(measured).__name__}.")
        return None
    pairs = {}
    for tv, pair in measured.items():
        try:
            key = float(tv)
            activation, variation = (float(value) for value in np.asarray(pair, dtype=float).ravel())
        except (TypeError, ValueError):
            verdict(False, f"each entry should be tv: (mean activation, mean total variation), two numbers; "
                           f"got {tv!r}: {pair!r}.")
            return None
        if not (np.isfinite(activation) and np.isfinite(variation)) or variation < 0:
            verdict(False, f"at tv={tv!r} the numbers are not a measurement: a total variation is a finite number "
                           f"of 0 or more; got {pair!r}.")
            return None
        pairs[key] = (activation, variation)
    missing = [tv for tv in (0.0, 40.0, 160.0) if tv not in pairs]
    if missing:
        verdict(False, f"measure at tv = 0, 40 and 160; there is no entry for {', '.join(f'{tv:g}' for tv in missing)}.")
        return None
    return pairs


def check_tv_experiment(measured, answer=None):
    """Exercise (an experiment): which falls by the larger share as the total-variation penalty grows.

    Parameters
    ----------
    measured : dict of float -> (float, float)
        For tv = 0, 40 and 160: the mean final activation and the mean total
        variation inside the square the units see.
    answer : str
        The learner's prediction: from tv=0 to tv=160, which falls by the larger
        share of its tv=0 value? (a) the activation, (b) the total variation,
        (c) both by about the same share (within 10 percentage points),
        (d) neither falls. The right letter is read from ``measured``.
    """
    pairs = _tv_measurements(measured)
    if pairs is None:
        return
    (activation_0, variation_0), (activation_160, variation_160) = pairs[0.0], pairs[160.0]
    if not variation_160 < variation_0:
        verdict(False, "in your numbers the total variation did not fall from tv=0 to tv=160. Did each run pass "
                       "its own tv= to filters.maximize, and did you measure the images it returned, inside the "
                       "square (images[:, seen, seen])?")
        return
    if not activation_160 < activation_0:
        verdict(False, "in your numbers the activation did not fall from tv=0 to tv=160. Is it the mean of the "
                       "activations maximize returned (its second result) for each run?")
        return
    activation_fall, variation_fall = 1 - activation_160 / activation_0, 1 - variation_160 / variation_0
    if abs(activation_fall - variation_fall) < 0.1:
        right = "c"
    else:
        right = "b" if variation_fall > activation_fall else "a"
    falls = (f"From tv=0 to tv=160 your activation fell by {activation_fall:.0%} and the total variation by "
             f"{variation_fall:.0%}.")
    activation_40, variation_40 = pairs[40.0]
    if activation_160 <= activation_40 <= activation_0 and variation_160 <= variation_40 <= variation_0:
        middle = " Your tv=40 numbers lie between those at tv=0 and tv=160, as a growing penalty should give."
    else:
        middle = (" Your tv=40 numbers do not both lie between those at tv=0 and tv=160: one climb per setting is "
                  "noisy, so compare the filters one by one too.")
    why = {"b": " The penalty aims at the total variation itself; the activation only pays what smoothing costs it.",
           "a": " In your run smoothing cost the filters a larger share of their activation than it took off the "
                 "total variation.",
           "c": " Here smoothing and activation traded almost one for one."}[right]
    hints = {"a": f"compare the two shares in your numbers: {falls[0].lower() + falls[1:]} Which share is larger?",
             "b": f"compare the two shares in your numbers: {falls[0].lower() + falls[1:]} Which share is larger?",
             "c": f"the two shares differ by 10 points or more in your numbers: {falls[0].lower() + falls[1:]}",
             "d": "both fell in your numbers: the penalty is subtracted from what the ascent climbs, so it gives up "
                  "activation to lower the total variation."}
    multiple_choice(answer, {"a", "b", "c", "d"}, right, falls + middle + why, hints)


def moved_side(image, low=0.4, high=0.6):
    """Side of the smallest square-sided box around the pixels that left the start range ``low`` to ``high``.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        A synthesized image in [0, 1] whose climb started from values in [low, high].

    Returns
    -------
    int
        The larger of the spans of the moved rows and columns (last - first + 1); 0 when nothing moved.
    """
    moved = np.any((image < low) | (image > high), axis=-1)
    rows, columns = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
    if rows.size == 0:
        return 0
    return int(max(rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1))


def _neuron_images(images):
    """The learner's {"conv2": image, "conv3": image} as (H, W, 3) arrays; None after a hint when malformed."""
    if not isinstance(images, dict) or not {"conv2", "conv3"} <= set(images):
        verdict(False, f"pass images as a dict with the image maximize returned for 'conv2' and for 'conv3' "
                       f"(images[0] of each run); got {type(images).__name__}.")
        return None
    arrays = {}
    for layer in ("conv2", "conv3"):
        array = np.asarray(images[layer], dtype=float)
        if array.ndim == 4 and array.shape[0] == 1:
            array = array[0]
        if array.ndim != 3 or array.shape[-1] != 3:
            verdict(False, f"the image for {layer} should be one (height, width, 3) image, images[0] of what "
                           f"maximize returned; got shape {array.shape}.")
            return None
        arrays[layer] = array
    return arrays


def check_neuron_extent(sides, images=None):
    """Exercise (an experiment): the side of the square of pixels that one conv2 unit and one conv3 unit move.

    Parameters
    ----------
    sides : dict
        ``{"conv2": side, "conv3": side}``, in pixels, measured on the images
        ``filters.maximize(..., objective="neuron")`` returned.
    images : dict, optional
        ``{"conv2": image, "conv3": image}``, each (H, W, 3): the images the
        sides were measured on. With them the checker measures the sides
        itself and asks for exactly those; without them it accepts a side
        above the receptive field of the layer below and up to the layer's own.
    """
    if sides is None:
        verdict(False, "replace None with your measurements: {'conv2': side, 'conv3': side}, in pixels.")
        return
    if not isinstance(sides, dict) or not {"conv2", "conv3"} <= set(sides):
        verdict(False, f"pass a dict with a side for 'conv2' and for 'conv3'; got {sides!r}.")
        return
    arrays = None
    if images is not None:
        arrays = _neuron_images(images)
        if arrays is None:
            return
    fields = _deeper_fields(3)
    notes = []
    for layer, below in (("conv2", "conv1"), ("conv3", "conv2")):
        side = as_int(sides[layer], f"The side for {layer}")
        if side is None:
            return
        field, below_field = fields[layer][0], fields[below][0]
        if arrays is not None:
            measured = moved_side(arrays[layer])
            if measured == 0:
                verdict(False, f"no pixel of your {layer} image left the range 0.4 to 0.6: did maximize run with "
                               f"objective='neuron' on {layer}'s most active filter?")
                return
            if measured > field:
                verdict(False, f"in your {layer} image pixels moved across {measured} px, more than one unit sees "
                               f"({field} px): run with objective='neuron' and without jitter, blur_every, l2 or "
                               f"tv, which spread the change.")
                return
            if side != measured:
                verdict(False, f"{layer}: the moved pixels of your image do not span {side} px. Take the "
                               f"first and last row that holds a moved pixel, and the same for columns: the side "
                               f"is last - first + 1, the larger of the two spans (not a count of moved pixels).")
                return
        elif side < 1:
            verdict(False, f"no pixel moved for {layer}: did maximize run with objective='neuron', and did you test "
                           f"the range 0.4 to 0.6 on the image it returned?")
            return
        elif side > field:
            verdict(False, f"{layer}: {side} px is wider than any one unit can see. Run without jitter, blur or "
                           f"total variation, which spread the change, and with objective='neuron', one unit.")
            return
        elif side <= below_field:
            verdict(False, f"{layer}: {side} px is no more than one {below} unit sees ({below_field} px), but a "
                           f"{layer} unit combines a 3x3 window of them. Measure the span of the moved rows and "
                           f"columns (last - first + 1), not a count of moved pixels.")
            return
        notes.append(f"{layer} {side} px of its {field}" + (" (all of it)" if side == field else ""))
    verdict(True, f"{', '.join(notes)}: a pixel outside the unit's receptive field has no path to it, so its "
                  f"gradient is 0 and it never moves.")


#: Exercise 4's made-up conv1 kernel, (3 rows, 3 columns, 3 colours): each colour's weights mislead a quick look.
MADE_UP_KERNEL = np.stack([
    [[0.2, 0.2, 0.2], [0.2, -2.0, 0.2], [0.2, 0.2, 0.2]],       # red: mostly positive, one strong negative
    [[-0.3, -0.3, -0.3], [0.5, 0.5, 0.5], [-0.3, -0.3, -0.3]],  # green: a positive middle row
    [[0.6, -0.2, -0.2]] * 3,                                    # blue: mostly negative, one strong column
], axis=-1)


def check_flat_colour(answer, kernel=None):
    """Exercise: the flat colour that maximizes a linear 3x3 RGB kernel's mean activation.

    Parameters
    ----------
    answer : sequence of 3 numbers
        (red, green, blue), each 0 or 1.
    kernel : array_like, shape (3, 3, 3), optional
        The kernel; default :data:`MADE_UP_KERNEL`.
    """
    kernel = MADE_UP_KERNEL if kernel is None else np.asarray(kernel, dtype=float)
    if answer is None:
        verdict(False, "replace None with three numbers (red, green, blue), each 0 or 1, like (1, 0, 1).")
        return
    colour = as_number_array(answer, "Your colour")
    if colour is None:
        return
    if colour.shape != (3,) or not np.all(np.isin(colour, (0, 1))):
        verdict(False, f"answer with three numbers (red, green, blue), each 0 or 1; got {answer!r}.")
        return
    sums = kernel.sum(axis=(0, 1))
    right = (sums > 0).astype(float)
    if np.array_equal(colour, right):
        verdict(True, f"The summed weights are {', '.join(f'{s:+.1f}' for s in sums)} for red, green and blue: a "
                      f"flat colour meets every weight once, so only each colour's sum counts, and its sign "
                      f"decides 0 or 1.")
        return
    majority = (np.sum(kernel > 0, axis=(0, 1)) > 4.5).astype(float)
    centre = (kernel[1, 1] > 0).astype(float)
    if np.array_equal(colour, majority):
        verdict(False, "that is the colour of the majority of each colour's signs. The mean weighs each weight by "
                       "its size: one strong weight can outweigh eight weak ones. Add up each colour's nine weights.")
    elif np.array_equal(colour, centre):
        verdict(False, "that follows the centre weights. In a flat colour every pixel is the same, so each of the "
                       "nine weights sees the same value: add up each colour's nine weights.")
    else:
        names = [name for name, a, b in zip(("red", "green", "blue"), colour, right) if a != b]
        verdict(False, f"check {' and '.join(names)}: a flat colour's mean activation is each colour's value times "
                       f"the sum of its nine weights (plus the bias), so a colour is 1 where that sum is positive.")
