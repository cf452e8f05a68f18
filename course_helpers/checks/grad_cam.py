"""Checkers for Notebook 07 (Grad-CAM)."""
import numbers

import numpy as np

from .answers import as_number_array, call, function_checker, multiple_choice, verdict

__all__ = ["check_channel_weights", "check_weighted_map", "check_why_logit", "check_centre_bias", "check_conv4_stretch",
           "check_seed_map_experiment", "check_ig_steps", "check_occlusion_fill", "check_saliency_randomization"]


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
         "d": "your bracket looks right, but did you multiply it by p_cat? The formula is p_c times (the "
              "class's gradient minus the weighted sum)."})


def check_centre_bias(answer):
    """Exercise: a method scoring 0.90 overall and 0.85 away from the middle, against the centre guess's 0.92 and 0."""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "A benchmark is only as good as the guesses it is compared with. Where most subjects sit near the centre, pointing there "
        "scores well without looking; the figures away from it separate a method from that guess, roughly, "
        "on 20 pictures.",
        {"a": "the two overall scores are close, and the centre guess's comes from where the figures sit, not from "
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


def check_seed_map_experiment(correlations, reading=None):
    """Exercise (an experiment): the seed article's map against Grad-CAM's, picture by picture.

    Parameters
    ----------
    correlations : sequence of float
        One rank correlation per picture (at least 16), between the seed's
        channel-averaged gradient map and Grad-CAM's map, both at conv5.
    reading : str
        The letter that describes the learner's own median.
    """
    if correlations is None or isinstance(correlations, (str, bytes)):
        verdict(False, "pass your list of rank correlations, one per picture, then your letter: "
                       "check_seed_map_experiment(my_correlations, my_seed_reading).")
        return
    values = as_number_array(correlations, "Your correlations")
    if values is None:
        return
    values = values.ravel()
    if len(values) < 16:
        verdict(False, f"measure at least 16 pictures (the exercise asks for 32); got {len(values)}.")
        return
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) > 1 + 1e-9):
        verdict(False, "a rank correlation lies between -1 and 1. Did you pass cam.spearman's results, one per "
                       "picture?")
        return
    if np.all(values > 0.999):
        verdict(False, "every correlation is 1: you compared a map with itself. The seed's map averages the "
                       "gradients over the channels (axis -1) and never touches the activations.")
        return
    median = float(np.median(values))
    right = "a" if median >= 0.8 else ("b" if median >= 0.3 else "c")
    multiple_choice(
        reading, {"a", "b", "c"}, right,
        f"Your median is {median:.2f}, over {len(values)} pictures. One picture could be luck; a median over "
        f"many says how far the seed's shortcut is from Grad-CAM on this model.",
        {letter: f"compare the median of your correlations, {median:.2f}, with the thresholds in the letters "
                 f"(0.8 and 0.3)." for letter in "abc"})


def _pairs_by_steps(results):
    """{steps: (sum, change)} as floats, or None after a hint."""
    expected = {2, 4, 8, 16, 32, 64}
    if not isinstance(results, dict):
        verdict(False, "pass a dict {steps: (sum of the attributions, change of the score)} for steps = 2, 4, 8, "
                       "16, 32 and 64.")
        return None
    try:
        keys = {int(key) for key in results}
    except (TypeError, ValueError):
        keys = set()
    if keys != expected:
        verdict(False, f"use the steps 2, 4, 8, 16, 32 and 64 as the dict's keys; got {sorted(results, key=str)}.")
        return None
    pairs = {}
    for key, value in results.items():
        pair = as_number_array(value, f"The value for {key} steps")
        if pair is None:
            return None
        if pair.shape != (2,) or not np.all(np.isfinite(pair)):
            verdict(False, f"for each number of steps give two numbers, (sum of the attributions, change of the "
                           f"score); for {key} steps got {value!r}.")
            return None
        pairs[int(key)] = (float(pair[0]), float(pair[1]))
    return pairs


def check_ig_steps(results, fewest_steps="unanswered"):
    """Exercise (an experiment): how many steps integrated gradients needs to be complete within 3 %.

    Parameters
    ----------
    results : dict of int -> (float, float)
        For steps = 2, 4, 8, 16, 32 and 64: the sum of the attributions and the
        score's change from the baseline, y(x) - y(x').
    fewest_steps : int or None
        The fewest of those steps whose relative error is under 3 % (None if
        none is).
    """
    pairs = _pairs_by_steps(results)
    if pairs is None:
        return
    changes = np.array([change for _, change in pairs.values()])
    if np.ptp(changes) > 1e-3 * max(np.abs(changes).max(), 1e-12):
        verdict(False, "your change of the score differs between the numbers of steps, but y(x) - y(x') is the "
                       "same whatever the steps: compute it once, from the picture and the black baseline.")
        return
    if abs(changes[0]) < 1e-12:
        verdict(False, "your change of the score is 0: compute logit_of(picture) - logit_of(black).")
        return
    errors = {steps: abs(total - change) / abs(change) for steps, (total, change) in sorted(pairs.items())}
    if max(errors.values()) <= 0.01:
        verdict(False, "every error, even at the fewest steps, is within 1 %: did you pass tolerance=None? "
                       "Without it the helper adds steps itself until the sum is within 1 %.")
        return
    within = [steps for steps, error in errors.items() if error < 0.03]
    right = within[0] if within else None
    if isinstance(fewest_steps, str) and fewest_steps == "unanswered":
        verdict(False, "pass your answer too: check_ig_steps(my_results, my_fewest_steps).")
        return
    if fewest_steps is not None and (isinstance(fewest_steps, (bool, np.bool_))
                                     or not isinstance(fewest_steps, numbers.Real)):
        verdict(False, f"answer with a number of steps, or None if none was within 3 %; got {fewest_steps!r}.")
        return
    listed = ", ".join(f"{steps}: {error:.1%}" for steps, error in errors.items())
    if fewest_steps == right or (right is not None and fewest_steps is not None and float(fewest_steps) == right):
        verdict(True, f"Your relative errors by steps: {listed}. "
                      + (f"{right} steps are the fewest within 3 %." if right else "None got within 3 %."))
    elif right is None:
        verdict(False, f"in your numbers no number of steps gets within 3 % ({listed}): answer None.")
    else:
        verdict(False, "compute each relative error, |sum - change| / |change|, and take the fewest steps whose "
                       "error is below 0.03.")


def check_occlusion_fill(areas, reading=None):
    """Exercise (an experiment): does what hides occlusion's squares change deletion and insertion?

    Parameters
    ----------
    areas : dict
        ``{"black": pairs, "mean": pairs}``, each an array (n, 2) of
        (deletion, insertion) areas, one row per picture, the same pictures in
        both.
    reading : str
        The letter that describes the learner's own means.
    """
    if not isinstance(areas, dict) or set(areas) != {"black", "mean"}:
        verdict(False, 'pass a dict {"black": pairs, "mean": pairs} of (deletion, insertion) areas, one row per '
                       "picture, then your letter.")
        return
    arrays = {}
    for name, pairs in areas.items():
        array = as_number_array(pairs, f"Your areas for {name!r}")
        if array is None:
            return
        if array.ndim != 2 or array.shape[1] != 2 or len(array) < 2:
            verdict(False, f"give one (deletion, insertion) pair per picture, shape (pictures, 2); for {name!r} "
                           f"got shape {array.shape}.")
            return
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
            verdict(False, "deletion and insertion areas lie between 0 and 1: each is the mean of a probability "
                           "along its curve.")
            return
        arrays[name] = array
    if arrays["black"].shape != arrays["mean"].shape:
        verdict(False, "score the same pictures with both fills.")
        return
    if np.allclose(arrays["black"], arrays["mean"]):
        verdict(False, "your two fills give the same areas. Did each run of cam.occlusion get its own fill= "
                       "(0.0, then \"mean\")?")
        return
    (black_deletion, black_insertion), (mean_deletion, mean_insertion) = arrays["black"].mean(0), arrays["mean"].mean(0)
    mean_better = int(mean_deletion < black_deletion) + int(mean_insertion > black_insertion)
    right = {2: "a", 0: "b", 1: "c"}[int(mean_better)]
    summary = (f"black: deletion {black_deletion:.2f}, insertion {black_insertion:.2f}; mean colour: deletion "
               f"{mean_deletion:.2f}, insertion {mean_insertion:.2f}")
    multiple_choice(
        reading, {"a", "b", "c"}, right,
        f"Your means: {summary}. On {len(arrays['black'])} pictures a difference is rough, but the fill is part "
        f"of the question occlusion asks.",
        {letter: f"compare your means again ({summary}): deletion is better when lower, insertion when higher."
         for letter in "abc"})


def check_saliency_randomization(correlations, reading=None):
    """Exercise (an experiment): plain saliency in the weight-randomization test, beside section 10's two methods.

    Parameters
    ----------
    correlations : dict
        ``{"saliency": s, "guided backprop": g, "Grad-CAM": c}``: each method's
        mean rank correlation with the trained maps once every layer is random.
    reading : str
        The letter that places the learner's own saliency value: "a" in the
        third of the gap nearest guided backprop's (or beyond it), "c" in the
        third nearest Grad-CAM's (or beyond it), "b" in the middle third.
    """
    names = {"saliency", "guided backprop", "Grad-CAM"}
    if not isinstance(correlations, dict) or set(correlations) != names:
        verdict(False, 'pass a dict {"saliency": ..., "guided backprop": ..., "Grad-CAM": ...} of mean '
                       "correlations at conv1, then your letter: check_saliency_randomization(my_randomization, "
                       "my_saliency_reading).")
        return
    values = {}
    for name, value in correlations.items():
        number = as_number_array(value, f"Your value for {name!r}")
        if number is None:
            return
        if number.size != 1 or not np.isfinite(number).all() or abs(float(number.ravel()[0])) > 1 + 1e-9:
            verdict(False, f"give one mean rank correlation, between -1 and 1, per method; for {name!r} got "
                           f"{value!r}.")
            return
        values[name] = float(number.ravel()[0])
    saliency, guided, grad_cam = values["saliency"], values["guided backprop"], values["Grad-CAM"]
    if guided <= grad_cam:
        verdict(False, "section 10 asserts that guided backprop's maps stay closer to the trained ones than "
                       "Grad-CAM's: take both from its `mean` at \"conv1\".")
        return
    if saliency == guided:
        verdict(False, "your saliency value is exactly guided backprop's: did you run the test with "
                       "method=cam.saliency?")
        return
    third = (guided - grad_cam) / 3
    right = "a" if saliency >= guided - third else ("c" if saliency <= grad_cam + third else "b")
    summary = f"saliency {saliency:.2f}, guided backprop {guided:.2f}, Grad-CAM {grad_cam:.2f}"
    multiple_choice(
        reading, {"a", "b", "c"}, right,
        f"Your means at conv1: {summary}. A map that stays close to the trained one once every weight is random "
        f"shows the picture more than the model.",
        {letter: f"place your saliency value in the gap ({summary}): split the gap between Grad-CAM's and guided "
                 f"backprop's into thirds." for letter in "abc"})
