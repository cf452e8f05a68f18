"""Checkers for Notebook 05 (intermediate activations)."""
import numpy as np

from .. import conv
from .answers import as_shape, call, function_checker, multiple_choice, verdict

__all__ = ["check_conv3_shape", "check_flat_picture", "check_dead_meaning", "check_pools_leaving_unread",
           "check_preferring", "check_most_preferring", "check_central_share"]


def check_conv3_shape(answer):
    """Exercise: the shape of conv3's output for one 200x200 image, (height, width, channels).

    200 px, not the 150 px the notebook's grids print, so the answer is worked out, not read off.
    """
    shape = as_shape(answer)
    if shape is None:
        return
    side = 200
    for _ in range(2):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    side = conv.output_size(side, 3)
    if shape == (side, side, 64):
        verdict(True, f"200 -> 198 -> 99 -> 97 -> 48 -> {side}, with one channel per filter of conv3.")
    elif len(shape) != 3:
        verdict(False, "one image's feature maps have 3 numbers: height, width and channels (no batch axis).")
    elif shape[2] != 64:
        verdict(False, "the number of channels is the number of filters in conv3: the conv3 row of section 4's grids "
                       "gives its shape, channels last.")
    elif shape[:2] == (34, 34):
        verdict(False, "that is conv3's output for a 150x150 image, as the grids print it. Follow a 200 px side.")
    elif shape[:2] == (side // 2, side // 2):
        verdict(False, "that is after pool3. conv3's output comes just before that pooling.")
    else:
        verdict(False, "follow the side length: each 3x3 conv takes 2 pixels off, each 2x2 pool halves it "
                        "(rounding down).")


_POOL_NAMES = ("pool1", "pool2", "pool3", "pool4", "pool5")


def _pools_leaving_unread(side, blocks=5):
    """The pooling layers that leave a row and column of their conv map unread, for a square input."""
    leaving = []
    for block in range(1, blocks + 1):
        side = conv.output_size(side, 3)                        # 3x3 valid convolution
        if side % 2:                                            # 2x2 windows, 2 apart, miss the last row
            leaving.append(f"pool{block}")
        side = conv.output_size(side, 2, stride=2)
    return leaving


def check_pools_leaving_unread(answer, input_side=160):
    """Exercise: for a 160-px input, which pooling layers leave a row or column of their conv map unread?"""
    hint_chain = (f"Work out each conv map's side, block by block: {input_side} -> "
                  f"{conv.output_size(input_side, 3)} (conv1) -> "
                  f"{conv.output_size(conv.output_size(input_side, 3), 2, stride=2)} (pool1) -> ...")
    if answer is None or isinstance(answer, str) or not hasattr(answer, "__iter__"):
        verdict(False, "give a tuple of pooling layer names, such as (\"pool1\", \"pool4\"), or (\"pool1\",) "
                       "for one name (mind the comma), or () if none.")
        return
    names = [str(name).strip().lower() for name in answer]
    unknown = [name for name in names if name not in _POOL_NAMES]
    if unknown:
        verdict(False, f"{unknown[0]!r} is not one of the model's pooling layers: use names from "
                       f"{', '.join(_POOL_NAMES)}.")
        return
    right = set(_pools_leaving_unread(input_side))
    chosen = set(names)
    if chosen == right:
        verdict(True, "2x2 windows, 2 apart, tile a map of even side exactly and leave the last row and column "
                      f"of an odd one unread: here {', '.join(sorted(right))}.")
    elif chosen - right:
        verdict(False, f"{sorted(chosen - right)[0]} reads every unit of its conv map at {input_side} px. "
                       f"{hint_chain}; which sides are odd?")
    else:
        verdict(False, f"a layer is missing. {hint_chain}; a 2x2 pooling with stride 2 misses a row only "
                       "when its conv map's side is odd.")


def check_flat_picture(answer):
    """Exercise: on a flat grey picture, how do the silent-channel share and the zero share compare?"""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "with valid padding, every window of a flat picture holds the same pixels, so every map is constant, at "
        "every depth: a channel is either zero everywhere (silent) or nowhere, and the two shares coincide.",
        {"a": "count the zeros of one map of the flat picture: can a channel have some zeros without being "
              "silent, when every window it reads holds the same pixels?",
         "c": "look at the deeper layers of your printout: does the zero share ever differ from the silent share "
              "there? Then ask what a 3x3 window of a flat picture contains, wherever it sits.",
         "d": "look at your printout again, layer by layer; then ask what a 3x3 window of a flat picture "
              "contains, wherever it sits."})


def check_dead_meaning(answer):
    """Exercise: what does "dead on the validation set" tell you about a channel?"""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "c",
        "dead is a fact about a set of pictures: none of them drives the channel above 0 anywhere. Other inputs, "
        "unlike any validation picture, may.",
        {"a": "zero weights are one way to be dead, but the measurement only saw outputs: a channel with any "
              "weights is dead on a set when every response to it is 0 or below before the ReLU.",
         "b": "the measurement covered the validation pictures only. Did your experiment's other inputs wake "
              "any dead channel? Even if not, a few kinds of input do not cover every input.",
         "d": "training changes weights; it removes no channel. The channel is still there and still computes "
              "a response, which the ReLU turns into 0 on these pictures."})


_PREFERENCE_CASES = [
    # horse means, human means, margin, floor share
    ([2.0, 1.0, 0.0, 0.10, 3.0, 1.2, 1.5, 0.2], [1.0, 2.0, 0.0, 0.05, 3.0, 1.0, 1.0, 0.6], 1.5, 0.1),
    ([4.0, 0.5, 1.0, 0.30, 0.0, 2.5], [1.0, 0.4, 3.5, 0.01, 0.0, 1.0], 2.0, 0.01),
    ([4.0, 0.5, 1.0, 0.30, 0.0, 2.5], [1.0, 0.4, 3.5, 0.01, 0.0, 1.0], 3.0, 0.2),
]


def _preference_counts(horse_mean, human_mean, margin, floor_share):
    horse_mean, human_mean = np.asarray(horse_mean), np.asarray(human_mean)
    larger = np.maximum(horse_mean, human_mean)
    strong = larger >= floor_share * larger.max()
    return (int(np.sum(strong & (horse_mean >= margin * human_mean))),
            int(np.sum(strong & (human_mean >= margin * horse_mean))))


@function_checker
def check_preferring(preferring):
    """Exercise: ``preferring(horse_mean, human_mean, margin, floor_share)``: (horse-, human-preferring) counts."""
    for horse_mean, human_mean, margin, floor_share in _PREFERENCE_CASES:
        expected = _preference_counts(horse_mean, human_mean, margin, floor_share)
        result, error = call(preferring, np.array(horse_mean), np.array(human_mean), margin, floor_share)
        shown = f"preferring(np.array({horse_mean}), np.array({human_mean}), {margin}, {floor_share})"
        if error:
            verdict(False, f"{shown}: {error}.")
            return
        try:
            counts = tuple(int(c) for c in result)
        except (TypeError, ValueError):
            verdict(False, f"return two counts, (horse-preferring, human-preferring); got {type(result).__name__}.")
            return
        if counts == expected:
            continue
        if len(counts) != 2:
            verdict(False, f"return two counts, (horse-preferring, human-preferring); got {len(counts)} numbers.")
        elif counts == expected[::-1]:
            verdict(False, f"{shown} should give {expected}: horses first, then humans.")
        elif counts == _preference_counts(horse_mean, human_mean, margin, 0.0):
            verdict(False, f"{shown} should give {expected}, not {counts}: a channel counts only when its larger "
                           f"average reaches floor_share times the layer's largest average.")
        else:
            verdict(False, f"{shown} should give {expected}, not {counts}. Check the margin test (at least margin "
                           f"times as much, >=) and that you use the margin and floor_share you were given.")
        return
    verdict(True, "the same rule as section 6's, for any layer, margin and floor.")


_LEANING_CASES = [
    # horse means, human means, alive
    ([1.0, 3.0, 0.0, 2.0, 0.5], [1.2, 0.5, 0.0, 2.1, 2.5], [True, True, False, True, True]),
    ([1.0, 0.2, 0.0, 0.4], [2.0, 1.0, 0.0, 0.5], [True, True, False, True]),  # every live channel leans human
    ([3.0, 0.0, 2.5, 0.0], [0.5, 0.0, 2.0, 0.0], [True, False, True, False]),  # every live channel leans horse
]


@function_checker
def check_most_preferring(most_preferring):
    """Exercise: ``most_preferring(horse_mean, human_mean, alive)``: [most horse-leaning, most human-leaning] live channel."""
    for horse_mean, human_mean, alive in _LEANING_CASES:
        difference = np.where(alive, np.subtract(horse_mean, human_mean), np.nan)
        expected = [int(np.nanargmax(difference)), int(np.nanargmin(difference))]
        result, error = call(most_preferring, np.array(horse_mean), np.array(human_mean), np.array(alive))
        shown = f"most_preferring(np.array({horse_mean}), np.array({human_mean}), np.array({alive}))"
        if error:
            verdict(False, f"{shown}: {error}.")
            return
        try:
            found = [int(c) for c in np.asarray(result).reshape(-1)]
        except (TypeError, ValueError):
            verdict(False, f"return two channel numbers, [horse-leaning, human-leaning]; got {type(result).__name__}.")
            return
        if found == expected:
            continue
        if len(found) != 2:
            verdict(False, f"return two channel numbers, [horse-leaning, human-leaning]; got {len(found)}.")
        elif found == expected[::-1]:
            verdict(False, f"{shown} should give {expected}: the horse-leaning channel first.")
        elif any(not alive[c] for c in found if 0 <= c < len(alive)):
            verdict(False, f"{shown} should give {expected}, not {found}: a dead channel (alive False) prefers "
                           f"nothing, even when every live channel leans the other way.")
        else:
            verdict(False, f"{shown} should give {expected}, not {found}: rank the live channels by "
                           f"horse_mean - human_mean, the difference, not the ratio.")
        return
    verdict(True, "the largest and the smallest difference among the live channels.")


@function_checker
def check_central_share(central_share):
    """Exercise: ``central_share(network, layer_name, some_pictures)``: the middle's share of |gradient| and of area."""
    from .. import activations, models

    network = models.build_classifier(150)   # any weights do: the answer is compared with the reference on them
    some_pictures = np.random.default_rng(5).uniform(size=(4, 150, 150, 3)).astype("float32")
    for layer_name in ("conv5", "conv4"):
        expected = activations.central_gradient_share(network, layer_name, some_pictures)
        result, error = call(central_share, network, layer_name, some_pictures.copy())
        shown = f"on an untrained copy of the model, for {layer_name}"
        if error:
            verdict(False, f"{shown}, {error}.")
            return
        try:
            values = tuple(float(v) for v in result)
        except (TypeError, ValueError):
            verdict(False, f"return two numbers, (share of |gradient|, share of area); got {type(result).__name__}.")
            return
        if len(values) != 2:
            verdict(False, f"return two numbers, (share of |gradient|, share of area); got {len(values)}.")
            return
        if np.allclose(values, expected, rtol=1e-3, atol=1e-5):
            continue
        if np.allclose(values, expected[::-1], rtol=1e-3, atol=1e-5):
            verdict(False, "the share of |gradient| comes first, then the share of area.")
        elif not np.isclose(values[1], expected[1], rtol=1e-3):
            verdict(False, f"{shown}, the middle's share of the field's area should be {expected[1]:.3f}, not "
                           f"{values[1]:.3f}: the middle is a square of side 2 * field // 3, inside a square of "
                           f"side field.")
        elif not 0 <= values[0] <= 1:
            verdict(False, f"{shown}, a share lies between 0 and 1; got {values[0]:.3f}. Divide the middle's "
                           f"|gradient| by the total |gradient|.")
        else:
            verdict(False, f"{shown}, the middle's share of |gradient| should be {expected[0]:.3f}, not "
                           f"{values[0]:.3f}. Take the absolute value before adding up, use the unit at "
                           f"(map side // 2, map side // 2) of the layer's map, place the field at that "
                           f"unit's row times the jump, and start the middle at first + (field - middle) // 2, "
                           f"as in section 10.")
        return
    verdict(True, "the same measurement as section 10's, for any layer and any network.")
