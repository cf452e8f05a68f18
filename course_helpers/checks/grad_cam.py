"""Checkers for Notebook 07 (Grad-CAM)."""
import numbers

import numpy as np

from .answers import as_number_array, call, function_checker, multiple_choice, verdict

__all__ = ["check_channel_weights", "check_weighted_map", "check_why_logit", "check_centre_bias", "check_conv4_stretch"]


@function_checker
def check_channel_weights(channel_weights):
    """Exercise: ``channel_weights(gradients)``: Grad-CAM's alpha, (N, h, w, K) -> (N, K)."""
    gradients = np.random.default_rng(9).normal(size=(2, 4, 5, 3))
    expected = gradients.mean(axis=(1, 2))
    result, error = call(channel_weights, gradients.copy())
    if error:
        verdict(False, f"on gradients of shape {gradients.shape}, {error}.")
        return
    result = as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape == (2, 4, 5) and np.allclose(result, gradients.mean(axis=-1)):
        verdict(False, "that averages over the channels, the seed articles' mistake: it leaves one number per "
                        "position, where Grad-CAM needs one weight per channel. Which axes should go instead?")
    elif result.shape != expected.shape:
        verdict(False, f"return one weight per image and channel, shape {expected.shape}; got {result.shape}.")
    elif np.allclose(result, expected):
        verdict(True, "The mean gradient over the positions: how much the score cares about each channel.")
    elif np.allclose(result, gradients.sum(axis=(1, 2))):
        verdict(False, "a sum instead of a mean. The map's shape would survive normalization, but which of the "
                        "two does section 2's formula for alpha use (look at its 1/Z)?")
    else:
        verdict(False, "each weight says how much the score cares about one channel, taken over the whole map "
                        "(section 2's formula for alpha). Which axes of (images, height, width, channels) must go, "
                        "and which summary does the formula use?")


@function_checker
def check_weighted_map(weighted_map):
    """Exercise: ``weighted_map(features, alphas)``: ReLU(sum_k alpha_k A^k), (N, h, w, K), (N, K) -> (N, h, w)."""
    rng = np.random.default_rng(10)
    features = np.maximum(rng.normal(size=(2, 4, 4, 3)), 0)
    alphas = np.array([[1.0, -2.0, 0.5], [-1.0, 0.3, 0.2]])
    weighted = np.einsum("nhwk,nk->nhw", features, alphas)
    result, error = call(weighted_map, features.copy(), alphas.copy())
    if error:
        verdict(False, f"{error}.")
        return
    result = as_number_array(result, "Your function's result")
    if result is None:
        return
    if result.shape != weighted.shape:
        verdict(False, f"return one map per image, shape {weighted.shape}; got {result.shape}.")
    elif np.allclose(result, np.maximum(weighted, 0)):
        verdict(True, "Channels weighted by how much the score cares, summed, and only the positive part kept.")
    elif np.allclose(result, weighted):
        verdict(False, "your map keeps evidence against the class too. Which step of section 2's formula for "
                        "the map L (the ReLU) keeps only the positive part, and where is it in your code?")
    elif np.allclose(result, np.maximum(features.sum(axis=-1), 0)) or np.allclose(result, features.sum(axis=-1)):
        verdict(False, "each channel must be multiplied by its own weight before the sum.")
    else:
        verdict(False, "work out one position of one image by hand with section 2's formula for the map L, and "
                        "compare it with your result; then check that each alpha meets its own channel when you "
                        "multiply arrays of shapes (N, h, w, K) and (N, K).")


def check_why_logit(answer):
    """Exercise: a softmax over cat, dog and fox; the gradient of p_cat where the cat's logit gradient is +1."""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "c",
        "p_cat (1.0 - (0.5 * 1.0 + 0.4 * 3.0 + 0.1 * 0)) = 0.5 * (1.0 - 1.7) = -0.35. The activation raises the "
        "cat's logit, but the dog's more, so through the probability it counts against the cat. The logit keeps "
        "each class's evidence apart.",
        {"a": "p(1 - p) is the sigmoid's factor, for a single unit. A softmax's gradient has a second term, the "
              "sum over all classes k: work it out with the numbers given.",
         "b": "that is the first term only. What does the sum over the classes k subtract from the cat's own "
              "gradient, and which sign is left?",
         "d": "check the factor in front of the bracket: the formula is p_c times (the class's gradient minus "
              "the weighted sum). Which number did you multiply by?"})


def check_centre_bias(answer):
    """Exercise: a method scoring 0.90 overall and 0.85 away from the middle, against a centre baseline's 0.92 and 0."""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "A benchmark is only as good as its baselines. Where most subjects sit near the centre, pointing there "
        "scores well without looking; the figures away from it separate a method from that guess, roughly, "
        "on 20 pictures.",
        {"a": "the two overall scores are close, and the baseline's comes from where the figures sit, not from "
              "the pictures. Which column can separate a method from it, and what does it show?",
         "c": "a generous tolerance would raise both scores alike. Does it explain the column where the two "
              "differ by 0.85?",
         "d": "the centre Gaussian ignores the picture, so it cannot explain any one image. What does its "
              "score tell you about the data instead?"})


def _largest_stretch_shift(layer_name, size=150):
    """How far stretching a layer's map over the image moves its values from their units' centres."""
    from .. import anatomy, models

    model = models.build_classifier(size)
    (first, step), _ = anatomy.unit_centres(model, layer_name)
    units = int(model.get_layer(layer_name).output.shape[1])
    aligned = first + step * np.arange(units)
    stretched = (np.arange(units) + 0.5) * size / units - 0.5
    return float(np.abs(stretched - aligned).max())


def check_conv4_stretch(answer):
    """Exercise: the largest distance, in pixels, between conv4's unit centres and where stretching puts them."""
    if answer is None:
        verdict(False, "replace None with your answer, then run the cell again.")
        return
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real) or not np.isfinite(answer):
        verdict(False, f"answer with one number of pixels; got {answer!r}.")
        return
    right = _largest_stretch_shift("conv4")
    if abs(answer - right) <= 0.5:
        verdict(True, "conv4's first unit sits at 18.5 px, and stretching puts it at 4.5 px.")
    elif abs(answer - _largest_stretch_shift("conv5")) <= 0.5:
        verdict(False, "that is conv5's shift, from section 4. Ask cam.unit_centres for conv4's centres.")
    elif abs(answer + right) <= 0.5:
        verdict(False, "a distance is never negative: take the absolute value of the difference.")
    else:
        verdict(False, "compare each aligned centre, first + step * i, with the stretched one, "
                       "(i + 0.5) * 150 / units - 0.5, for every unit i, and keep the largest gap.")
