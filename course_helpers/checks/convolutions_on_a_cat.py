"""Checkers for Notebook 03 (convolutions on a cat)."""
import numpy as np

from .. import conv, images
from .answers import as_number_array, as_shape, call, function_checker, verdict

__all__ = ["check_cat_output_shape", "mystery_map", "check_mystery_kernel", "check_relu_then_pool", "check_relu_pool_order",
           "check_sum_experiment"]


def check_cat_output_shape(answer):
    """Exercise: the output shape of Conv2D(8, 7) then MaxPooling2D(3), both 'valid', on the 300x451 cat.

    Parameters
    ----------
    answer : sequence of 3 whole numbers
        (height, width, channels). A size that is not whole, like 148.33, gets
        a hint to round down: pooling keeps only whole windows.
    """
    shape = as_shape(answer)
    if shape is None:
        return
    after_conv = (conv.output_size(300, 7), conv.output_size(451, 7))
    expected = (conv.output_size(after_conv[0], 3, 3), conv.output_size(after_conv[1], 3, 3), 8)
    if shape == expected:
        verdict(True, "The 7x7 conv trims 6 pixels per axis; the 3x3 pool then keeps one value per 3x3 block.")
    elif len(shape) != 3:
        verdict(False, "the output of a Conv2D or pooling layer for one image has 3 numbers: height, width, channels.")
    elif shape[2] != 8:
        verdict(False, "how many channels does a layer with 8 filters output? Pooling keeps the channel count.")
    elif shape[:2] == after_conv:
        verdict(False, "that is the shape after the conv; the 3x3 max pooling (stride 3) comes next.")
    elif shape[:2] == (300 // 3, 451 // 3):
        verdict(False, "the 7x7 'valid' conv shrinks the image before the pooling sees it.")
    elif shape[:2] == (-(-after_conv[0] // 3), -(-after_conv[1] // 3)):
        verdict(False, "'valid' pooling drops a last block that is not full: round down.")
    else:
        verdict(False, "go one layer at a time with out = floor((n - k) / s) + 1; for MaxPooling2D(3), k = s = 3.")


#: The kernel behind :func:`mystery_map` (the checker compares outputs, not this array).
_MYSTERY_KERNEL = -conv.KERNELS["sobel_x"]


def _cat_gray(size=(75, 113)):
    cat = images.cat_image(size=size)
    return images.luminance(cat)


def mystery_map():
    """The gray cat (75x113) filtered by a secret 3x3 kernel with ``padding="same"``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(gray_cat, result)``, both float (75, 113).
    """
    gray = _cat_gray()
    return gray, conv.conv2d(gray, _MYSTERY_KERNEL, padding="same")


def check_mystery_kernel(kernel):
    """Exercise: find the 3x3 kernel that makes :func:`mystery_map`'s result.

    Parameters
    ----------
    kernel : array_like, shape (3, 3)
        The learner's guess; the notebook starts it at ``np.zeros((3, 3))``,
        which gets a reminder rather than a hint.
    """
    k = as_number_array(kernel, "Your kernel")
    if k is None:
        return
    if k.shape != (3, 3):
        verdict(False, f"the mystery kernel is 3x3; yours has shape {k.shape}.")
        return
    if not np.any(k):
        # The exercise starts from np.zeros((3, 3)): its weights add up to 0 like the answer's, and the
        # hints below would read it as a near miss.
        verdict(False, "you have not filled the kernel in yet: replace the zeros with your guess, then run "
                        "the cell again.")
        return
    gray, target = mystery_map()
    result = conv.conv2d(gray, k, padding="same")
    if np.allclose(result, target, atol=1e-4):
        verdict(True, "Positive where the cat gets brighter from left to right: Sobel x with its sign flipped.")
    elif result.std() > 0 and abs(np.corrcoef(result.ravel(), target.ravel())[0, 1]) > 0.95:
        # The right pattern with other numbers (a scaled kernel, Prewitt for Sobel), or its negative.
        scale = float(result.ravel() @ target.ravel() / (result.ravel() @ result.ravel()))
        if scale < 0:
            verdict(False, "right edges, wrong sign: where your output is bright, the mystery output is dark.")
        elif np.allclose(scale * result, target, atol=1e-4):
            verdict(False, f"right pattern, wrong scale: the mystery result is yours times {scale:.3g}. "
                            "Compare the numbers on the colour bars.")
        else:
            verdict(False, "right pattern, nearly: your result rises and falls with the mystery one, but its numbers "
                            "differ. Check the scale on the colour bar and the weights' relative sizes.")
    elif np.allclose(result, -target, atol=1e-4):
        verdict(False, "right edges, wrong sign: where your output is bright, the mystery output is dark.")
    elif np.allclose(conv.conv2d(gray, k.T, padding="same"), target, atol=1e-4) or np.allclose(
            conv.conv2d(gray, -k.T, padding="same"), target, atol=1e-4):
        verdict(False, "you found edges in the other direction: the mystery kernel reacts to vertical edges.")
    elif abs(k.sum()) > 1e-6:
        verdict(False, "the mystery output is 0 on flat regions, so the kernel's weights add up to 0.")
    else:
        verdict(False, "close in spirit, not in numbers. Look again at the mystery output: along which "
                        "direction does the picture change where it is red, and from dark to light or the other way?")


@function_checker
def check_relu_then_pool(relu_then_pool):
    """Exercise: ``relu_then_pool(maps)``: ReLU, then 5x5 max pooling ('valid'), of (H, W, C) maps, written
    without ``conv.max_pool2d`` (by a reshape); the result is compared with ``conv.max_pool2d``."""
    rng = np.random.default_rng(3)
    for shape in [(20, 25, 2), (23, 11, 1)]:
        maps = rng.normal(size=shape) - 1.8  # mostly negative: some 5x5 blocks have no positive value
        expected = conv.max_pool2d(np.maximum(maps, 0), 5)
        result, error = call(relu_then_pool, maps.copy())
        if error:
            verdict(False, f"on maps of shape {shape}, {error}.")
            return
        result = as_number_array(result, "Your function's result")
        if result is None:
            return
        if result.shape != expected.shape:
            verdict(False, f"for maps of shape {shape} your output has shape {result.shape}. A 5x5 pool with "
                            f"stride 5 keeps floor(n / 5) values per axis, and the channels stay.")
            return
        if np.allclose(result, expected):
            continue
        if np.allclose(result, conv.max_pool2d(maps, 5)):
            verdict(False, "some outputs are negative: apply the ReLU, max(0, x), as well.")
            return
        if not np.allclose(result, expected):
            verdict(False, "the shape is right but some values are not. Is it the max (not the mean) of each "
                            "5x5 block, with 5 neighbouring rows and 5 neighbouring columns?")
            return
    verdict(True, "ReLU then 5x5 max pooling, exactly as conv.max_pool2d and the Keras layers compute it.")


def check_relu_pool_order(answer):
    """Exercise: does max pooling then ReLU give the same result as ReLU then max pooling? (True/False)"""
    if answer is None:
        verdict(False, "replace None with True or False.")
        return
    if not isinstance(answer, (bool, np.bool_)):
        verdict(False, f"answer with True or False; got {answer!r}.")
        return
    if answer:
        verdict(True, "ReLU is monotone (it never reverses the order of two values), so the max of the ReLUs is "
                       "the ReLU of the max: the two orders commute. Pooling first is cheaper: ReLU then runs on 25 "
                       "times fewer values.")
    else:
        verdict(False, "try both orders on a small example, e.g. x = np.array([[-3., 2.], [1., -1.]]). Can "
                        "ReLU make the largest value of a window smaller than another one?")


def check_sum_experiment(sums, correlations=None):
    """Exercise (an experiment): each of 30 random 3x3 (or 10x10) filters' sum of weights against its map's
    correlation with the grey cat.

    Parameters
    ----------
    sums : sequence of 30 numbers
        Each filter's sum of its weights (27 for 3x3, 300 for 10x10).
    correlations : sequence of 30 numbers
        Each filter's correlation with the grey cat, in the same order.
    """
    if sums is None or correlations is None:
        verdict(False, "pass both lists, filter by filter: check_sum_experiment(my_sums, my_correlations).")
        return
    sums = as_number_array(sums, "The sums")
    correlations = None if sums is None else as_number_array(correlations, "The correlations")
    if sums is None or correlations is None:
        return
    sums, correlations = sums.ravel(), correlations.ravel()
    if len(sums) != 30 or len(correlations) != 30:
        verdict(False, f"one sum and one correlation per filter of random_conv(30, 3, seed=1) (or 30, 10): 30 of each; got "
                       f"{len(sums)} sums and {len(correlations)} correlations.")
        return
    if not np.all(np.isfinite(sums)) or not np.all(np.abs(correlations) <= 1):
        verdict(False, "a correlation lies between -1 and 1, and every sum is a finite number: check what you stored.")
        return
    if np.ptp(sums) == 0:
        verdict(False, "all 30 sums are equal: sum each filter's own weights, get_weights()[0][..., f].sum().")
        return
    from ..cam import spearman   # the course's rank correlation (ties averaged)

    agreement = spearman(sums, correlations)
    if agreement < 0.8:
        verdict(False, f"in your numbers the correlation hardly follows the sum (rank correlation {agreement:.2f}). "
                       f"Is each filter's sum paired with its own map, the same index f in both lists?")
        return
    positive, negative = correlations[sums > 0], correlations[sums < 0]
    verdict(True, f"the correlation follows the sum (rank correlation {agreement:.2f}): the {len(positive)} positive "
                  f"sums give correlations from {positive.min():.2f} up, the {len(negative)} negative ones from "
                  f"{negative.max():.2f} down. Where do they cross 0.7 and -0.7 in your plot?"
            if len(positive) and len(negative) else
            f"the correlation follows the sum (rank correlation {agreement:.2f}).")
