"""Checkers for Notebook 07 (Grad-CAM)."""
import numpy as np

from .answers import as_number_array, call, function_checker, multiple_choice, verdict

__all__ = ["check_channel_weights", "check_weighted_map", "check_why_logit", "check_centre_bias"]


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
                        "position. Grad-CAM averages over the positions and keeps one weight per channel.")
    elif result.shape != expected.shape:
        verdict(False, f"return one weight per image and channel, shape {expected.shape}; got {result.shape}.")
    elif np.allclose(result, expected):
        verdict(True, "The mean gradient over the positions: how much the score cares about each channel.")
    elif np.allclose(result, gradients.sum(axis=(1, 2))):
        verdict(False, "a sum instead of a mean. The map's shape would survive normalization, but the weights "
                        "are defined as the spatial mean.")
    else:
        verdict(False, "take the mean over the height and width axes (1 and 2).")


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
        verdict(False, "keep only the positive evidence: apply a ReLU, np.maximum(..., 0), to the sum.")
    elif np.allclose(result, np.maximum(features.sum(axis=-1), 0)) or np.allclose(result, features.sum(axis=-1)):
        verdict(False, "each channel must be multiplied by its own weight before the sum.")
    else:
        verdict(False, "multiply features by alphas[:, None, None, :], sum over the last axis, then ReLU.")


def check_why_logit(answer):
    """Exercise: why does Grad-CAM differentiate the logit rather than the sigmoid's probability?"""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "The sigmoid flattens out near 0 and 1, so for a confident prediction its gradient is almost zero.",
        {"a": "both are computed in one forward pass, at the same cost. What happens to the sigmoid's slope "
              "when the model is confident?",
         "c": "the logit and the probability rise and fall together; no sign changes. Think about the slope of "
              "the sigmoid near 0 and 1.",
         "d": "Grad-CAM works with any differentiable score. What does the sigmoid do to the gradient when "
              "P is close to 1?"})


def check_centre_bias(answer):
    """Exercise: what does a centre Gaussian scoring about 0.9 in the pointing game tell you?"""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "A benchmark is only as good as its baselines. Where subjects sit in the middle, pointing at the middle "
        "scores well, so a method must also be judged where the figure is not in the middle.",
        {"a": "the centre Gaussian ignores the image completely; it cannot explain anything. What does its score "
              "say about the data instead?",
         "c": "Grad-CAM's own score is high too; the baseline's score is about the images, not about Grad-CAM.",
         "d": "the masks come from the renderer that drew the figures; they are exact. Where do the figures "
              "usually sit?"})
