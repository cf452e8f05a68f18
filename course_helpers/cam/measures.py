"""Measuring explanations: against ground truth, against the model, and against a randomized model.

* :func:`pointing_game` (Zhang et al. 2016) and :func:`energy_in_mask` (Wang et
  al. 2020) need the figure's mask;
* :func:`deletion_insertion` (Petsiuk et al. 2018) asks the model itself, so it
  works on any data;
* :func:`randomization_test` (Adebayo et al. 2018) checks that a method's maps
  change when the model's learning is destroyed;
* :func:`spearman` compares two maps by the order of their values.
"""
import numpy as np

from .. import anatomy, images, seed_for
from ..arguments import check_int
from . import maps

__all__ = ["pointing_game", "energy_in_mask", "deletion_insertion", "class_probability", "spearman",
           "randomization_test", "mean_and_margin", "compare_with", "mask_scores", "deletion_insertion_table",
           "correlations_per_step", "blank_maps", "randomization_table"]

_EPSILON = 1e-8


def _check_pairs(heatmaps, masks):
    # Float maps are kept as they are (no float64 copy of a whole batch); each map is summed in float64 below.
    heat = np.asarray(heatmaps)
    if not np.issubdtype(heat.dtype, np.floating):
        heat = heat.astype(np.float64)
    mask = np.asarray(masks, dtype=bool)
    if heat.ndim == 2:
        heat, mask = heat[None], mask[None] if mask.ndim == 2 else mask
    if heat.shape != mask.shape or heat.ndim != 3:
        raise ValueError(f"heatmaps and masks must both be (N, H, W) and match; got {heat.shape} and {mask.shape}.")
    return heat, mask


def pointing_game(heatmaps, masks, tolerance_px=15):
    """The fraction of maps whose hottest pixel falls on the figure (Zhang et al. 2016).

    Parameters
    ----------
    heatmaps : array_like, shape (N, H, W)
    masks : array_like of bool, shape (N, H, W)
        True on the figure.
    tolerance_px : int, optional
        A hit may miss the mask by this many pixels along both rows and
        columns (a square window, as in the original protocol). Default 15.

    Returns
    -------
    float
        Hit rate in [0, 1].

    Notes
    -----
    When several pixels share the hottest value, the one nearest the
    picture's centre counts (the first in reading order among equally near
    ones). Ties come from flat areas: an aligned Grad-CAM map repeats its
    outermost units' values out to the border, so when an edge unit is the
    hottest, a whole band from the unit's centre to the border ties. The
    pixel nearest the picture's centre is then the unit's own centre, at
    every edge alike; the first pixel in reading order would be the border
    at the top and left edges but the unit's centre at the bottom and right.
    A constant map (all zeros, say) has no hottest pixel and counts as a
    miss.
    """
    heat, mask = _check_pairs(heatmaps, masks)
    radius = int(tolerance_px)
    if radius < 0:
        raise ValueError(f"tolerance_px must be 0 or more; got {tolerance_px!r}.")
    height, width = heat.shape[1:]
    hits = 0
    for one_heat, one_mask in zip(heat, mask):
        peak = one_heat.max()
        if peak == one_heat.min():  # a blank map points nowhere
            continue
        rows, columns = np.nonzero(one_heat == peak)  # reading order
        nearest = np.argmin((rows - (height - 1) / 2) ** 2 + (columns - (width - 1) / 2) ** 2)
        row, column = rows[nearest], columns[nearest]
        # A hit: some figure pixel within the square of side 2 * radius + 1 around the hottest pixel.
        hits += bool(one_mask[max(0, row - radius):row + radius + 1, max(0, column - radius):column + radius + 1].any())
    return hits / len(heat)


def energy_in_mask(heatmaps, masks):
    """Mean share of each map's total heat that lies on the figure (Wang et al. 2020).

    Returns
    -------
    float
        In [0, 1]; a map with no heat at all counts as 0.
    """
    heat, mask = _check_pairs(heatmaps, masks)
    shares = []
    for one_heat, one_mask in zip(heat, mask):  # one map at a time: no copy of the whole batch
        total = one_heat.sum(dtype=np.float64)
        inside = one_heat[one_mask].sum(dtype=np.float64)
        shares.append(inside / max(total, _EPSILON) if total > 0 else 0.0)
    return float(np.mean(shares))


def class_probability(model, batch, class_index):
    """The probability of ``class_index`` for each image of ``batch`` (a sigmoid's 0 is 1 - p)."""
    # Calling the model directly, in chunks, avoids predict()'s per-call set-up.
    outputs = np.concatenate([np.asarray(model(batch[start:start + 64], training=False))
                              for start in range(0, len(batch), 64)])
    if outputs.shape[-1] == 1:
        return outputs[:, 0] if class_index == 1 else 1.0 - outputs[:, 0]
    return outputs[:, class_index]


def deletion_insertion(model, image, heatmap, class_index, steps=50, return_curves=False, fill="black",
                       blur_sigma=10.0, seed=None):
    """Deletion and insertion scores of one heatmap (Petsiuk et al. 2018, RISE).

    Pixels are ranked by the heatmap, hottest first; pixels of equal heat are
    put in a random (seeded) order, so a map with large flat areas (Grad-CAM's
    zeros) is not favoured or punished by the order of the pixels in memory.
    **Deletion** replaces them (with black, or a blurred copy), a growing
    fraction at a time, and follows the class probability: a good map makes it
    fall fast (low area under the curve). **Insertion** starts from a blurred
    copy and restores the original pixels in the same order: a good map makes
    it rise fast (high area).

    Parameters
    ----------
    model : keras.Model
        Outputs probabilities (sigmoid or softmax).
    image : array_like, shape (H, W, C)
    heatmap : array_like, shape (H, W)
    class_index : int
        The class whose probability is followed (for a sigmoid output, 1 is
        the unit's probability and 0 is one minus it).
    steps : int, optional
        Points on each curve after the start. Default 50.
    return_curves : bool, optional
        Also return the two curves, each of length ``steps + 1``.
    fill : {"black", "blur"}, optional
        What deletion puts in place of a pixel: black (0, as in RISE) or the
        pixel of the blurred copy that insertion starts from. Black leaves the
        deleted region's silhouette, which a shape-based model may still
        recognize. Default "black".
    blur_sigma : float, optional
        The blur's Gaussian sigma in pixels. It must be strong enough to blur
        away most of the figure's shape: 10 px (the default) does at 150 px,
        where RISE's 5 px leaves most figures recognizable. A blurred figure
        is still a coloured blob where the figure was, and the model may give
        it a high probability: the end of the deletion curve and the start of
        the insertion curve show how high.
    seed : int, optional
        Orders pixels of equal heat. Default 0, moved by ``COURSE_SEED``.

    Returns
    -------
    (float, float) or (float, float, numpy.ndarray, numpy.ndarray)
        Deletion AUC and insertion AUC, each in [0, 1] (the mean of the curve
        by the trapezoid rule over the fraction of pixels changed).
    """
    picture = np.asarray(image, dtype=np.float32)
    heat = np.asarray(heatmap, dtype=np.float32)
    if picture.ndim != 3 or heat.shape != picture.shape[:2]:
        raise ValueError(f"need an (H, W, C) image and an (H, W) heatmap of the same size; got {picture.shape} "
                         f"and {heat.shape}.")
    check_int(steps, "steps", 1)
    if fill not in ("black", "blur"):
        raise ValueError(f"fill must be 'black' or 'blur'; got {fill!r}.")
    pixels = heat.size
    tie_breaker = np.random.default_rng(seed_for(0) if seed is None else seed).random(pixels)
    order = np.lexsort((tie_breaker, -heat.ravel()))  # hottest first; equal heat in random order
    if not np.isfinite(blur_sigma) or blur_sigma <= 0:
        raise ValueError(f"blur_sigma must be a positive number of pixels; got {blur_sigma!r}.")
    blurred = images.gaussian_blur(picture, blur_sigma)
    deleted, inserted = [], []
    flat_picture = picture.reshape(pixels, -1)
    flat_blurred = blurred.reshape(pixels, -1)
    for step in range(steps + 1):
        chosen = order[: int(round(pixels * step / steps))]
        removed = flat_picture.copy()
        removed[chosen] = 0.0 if fill == "black" else flat_blurred[chosen]
        restored = flat_blurred.copy()
        restored[chosen] = flat_picture[chosen]
        deleted.append(removed.reshape(picture.shape))
        inserted.append(restored.reshape(picture.shape))
    both = class_probability(model, np.stack(deleted + inserted), class_index)  # one pass for both curves
    deletion, insertion = both[: steps + 1], both[steps + 1:]
    x = np.linspace(0, 1, steps + 1)
    areas = float(np.trapezoid(deletion, x)), float(np.trapezoid(insertion, x))
    return areas + (deletion, insertion) if return_curves else areas


def _ranks(values):
    """Average ranks (ties share the mean of their ranks), as in Spearman's correlation."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a, b):
    """Spearman's rank correlation of two arrays of the same size (ties averaged). 0 if one is constant."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else 0.0


def _initializer_of(layer, weight):
    """The initializer ``layer`` made ``weight`` with, or None: ``kernel`` -> ``kernel_initializer``
    (a ``DepthwiseConv2D``'s ``kernel`` -> ``depthwise_initializer``), ``pointwise_kernel`` ->
    ``pointwise_initializer``, ``gamma`` -> ``gamma_initializer``, and so on."""
    name = weight.path.split("/")[-1] if hasattr(weight, "path") else weight.name.split(":")[0]
    candidates = [f"{name}_initializer", f"{name.removesuffix('_kernel')}_initializer"]
    if name == "kernel":
        candidates.append("depthwise_initializer")
    for attribute in candidates:
        initializer = getattr(layer, attribute, None)
        if initializer is not None:
            return initializer
    return None


def _reinitialized(layer, seed):
    """Fresh values for every trainable weight of ``layer``, each from its own initializer, seeded.

    Non-trainable weights (a batch normalization's moving statistics) keep their values.

    Raises
    ------
    ValueError
        If a trainable weight's initializer cannot be found: its layer would be
        reported as randomized while it is not.
    """
    import keras

    trainable = {id(weight) for weight in layer.trainable_weights}
    fresh = []
    for number, weight in enumerate(layer.weights):
        if id(weight) not in trainable:
            fresh.append(np.asarray(weight))
            continue
        initializer = _initializer_of(layer, weight)
        if initializer is None:
            raise ValueError(f"randomization_test cannot re-initialize {layer.name}'s weight {weight.name!r} "
                             f"({type(layer).__name__} has no {weight.name}_initializer). Leave this layer out "
                             f"by explaining a model without it, or give the layer standard initializers.")
        config = initializer.get_config()
        if "seed" in config:
            config["seed"] = seed + 1000 * number  # each weight its own stream
        seeded = type(initializer).from_config(config)
        fresh.append(np.asarray(keras.ops.convert_to_numpy(seeded(tuple(weight.shape), dtype=weight.dtype))))
    return fresh


def randomization_test(model, images, method=maps.grad_cam, seed=None, return_maps=False, **method_options):
    """Cascading model-parameter randomization (Adebayo et al. 2018).

    Starting from the output, the trainable weights of one more layer at a
    time are replaced by fresh random ones, each from its own initializer
    (kernels, depthwise and pointwise kernels, biases, a batch normalization's
    gamma and beta), on a copy of the model. After each step the maps are
    computed again and compared with the trained model's maps by Spearman rank
    correlation. An explanation that reflects what the model learned must
    change, so the correlation must drop. A map that is blank (constant) after
    a step correlates 0 with anything; ``return_maps`` lets you count them.

    Parameters
    ----------
    model : keras.Model
        Not modified.
    images : array_like, shape (N, H, W, C)
    method : callable, optional
        ``method(model, images, class_index=..., **method_options)``; default :func:`course_helpers.cam.grad_cam`.
        The trained model's predicted classes are explained throughout.
    seed : int, optional
        Seeds the fresh weights. Default 0, moved by ``COURSE_SEED``.
    return_maps : bool, optional
        Also return the maps: ``{"trained": maps, <layer>: maps, ...}``, each
        (N, H, W), in the order of the cascade (Adebayo et al.'s figure).

    Returns
    -------
    dict of str -> float, or (that dict, dict of str -> numpy.ndarray)
        Name of the deepest layer randomized so far (output first) -> mean
        Spearman correlation with the trained model's maps over the images.

    Raises
    ------
    ValueError
        If a layer's trainable weight has no initializer to draw fresh values from.
    """
    import keras

    seed = seed_for(0) if seed is None else seed
    array = maps.check_images(model, images)
    classes = maps.predicted_classes(model, array)
    reference = method(model, array, class_index=classes, **method_options)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    correlations, all_maps = {}, {"trained": reference}
    trainable = [layer for layer in anatomy.all_layers(copy) if layer.trainable_weights]
    for step, layer in enumerate(reversed(trainable)):
        layer.set_weights(_reinitialized(layer, seed + step))
        randomized = method(copy, array, class_index=classes, **method_options)
        correlations[layer.name] = float(np.mean([spearman(a, b) for a, b in zip(reference, randomized)]))
        if return_maps:
            all_maps[layer.name] = randomized
    return (correlations, all_maps) if return_maps else correlations


# ----------------------------------------------------------------------------
# Tables and sentences for notebook 7: the bookkeeping around the measurements
# ----------------------------------------------------------------------------

def mean_and_margin(values):
    """The mean of some scores and the half-width of its 95 % confidence interval.

    Parameters
    ----------
    values : array_like, shape (n,), n >= 2
        One score per image.

    Returns
    -------
    (float, float)
        The mean, and 1.96 standard errors (normal approximation: for 8 values
        about a sixth too narrow).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) < 2:
        raise ValueError(f"a confidence interval needs at least 2 values; got {len(values)}.")
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))


def compare_with(value, others, words=("more than", "the same as", "less than"), decimals=2):
    """A phrase saying how one score compares with several others, at the precision printed.

    Parameters
    ----------
    value : float
        The score compared, for example the centre baseline's pointing game.
    others : dict of str -> float
        The scores it is compared with.
    words : (str, str, str), optional
        What to say when ``value`` is higher, equal (after rounding to
        ``decimals``), or lower.
    decimals : int, optional
        Scores are rounded to this many decimals first, as they are printed.

    Returns
    -------
    str
        For example ``"more than A (0.89); the same as B (0.93)"``, or
        ``"more than every one"`` when all compare the same way.
    """
    if not others:
        raise ValueError("compare_with needs at least one other score.")
    reference = round(float(value), decimals)
    groups = {word: [] for word in words}
    for name, score in others.items():
        score = round(float(score), decimals)
        word = words[0] if reference > score else (words[1] if reference == score else words[2])
        groups[word].append(f"{name} ({score:.{decimals}f})")
    for word in (words[0], words[2]):
        if len(groups[word]) == len(others) and len(others) > 1:
            return f"{word} every one"
    return "; ".join(f"{word} {', '.join(names)}" for word, names in groups.items() if names)


def mask_scores(maps_by_name, masks, away, unread_from=None, name_width=20):
    """Pointing game, pointing game on the figures away from the middle, and energy in the mask, as a table.

    Parameters
    ----------
    maps_by_name : dict of str -> (array_like, array_like of int or None)
        For each method, its maps, shape (n, H, W), and the indices of the
        images they explain (None: all of them, n = N).
    masks : array_like of bool, shape (N, H, W)
        The figures' masks.
    away : array_like of bool, shape (N,)
        True for the images whose figure lies away from the middle.
    unread_from : int, optional
        Rows and columns from this one on are set to 0 in every map before
        scoring (the part of the picture the network never reads).
    name_width : int, optional
        Width of the table's first column, in characters (default 20); a
        longer method name would push its row out of line.

    Returns
    -------
    scores : dict of str -> dict
        For each method: ``images`` (n), ``pointing``, ``away`` (NaN when none of
        its images is away from the middle), ``n_away`` and ``energy``, all
        shares in [0, 1].
    table : str
        One line per method, with a header.
    """
    masks = np.asarray(masks, dtype=bool)
    away = np.asarray(away, dtype=bool)
    scores = {}
    lines = [f"{'method':{name_width}} {'images':>6} {'pointing':>9} {'away from middle (n)':>21} {'energy':>7}"]
    for name, (maps, subset) in maps_by_name.items():
        maps = np.array(maps, dtype=np.float32)
        if unread_from is not None:
            maps[:, unread_from:, :] = 0
            maps[:, :, unread_from:] = 0
        subset = np.arange(len(masks)) if subset is None else np.asarray(subset)
        its_masks, its_away = masks[subset], away[subset]
        off_centre = pointing_game(maps[its_away], its_masks[its_away]) if its_away.any() else float("nan")
        scores[name] = {"images": len(subset), "pointing": pointing_game(maps, its_masks), "away": off_centre,
                        "n_away": int(its_away.sum()), "energy": energy_in_mask(maps, its_masks)}
        row = scores[name]
        away_text = f"{off_centre:16.2f}" if its_away.any() else f"{'-':>16}"   # a dash: none of its figures
        lines.append(f"{name:{name_width}} {row['images']:6} {row['pointing']:9.2f} {away_text} ({row['n_away']:2}) "
                     f"{row['energy']:7.2f}")
    return scores, "\n".join(lines)


def deletion_insertion_table(areas, images_of, reference="random"):
    """Deletion and insertion areas, mean ± 95 % interval, and each method's difference from a reference map.

    Parameters
    ----------
    areas : dict of str -> array_like, shape (n, 2)
        For each method, one (deletion, insertion) pair of areas per image.
    images_of : dict of str -> array_like of int, shape (n,)
        The images each method's rows belong to. The reference's images must
        include every other method's, so that each difference is taken image
        by image.
    reference : str, optional
        The method the others are compared with. Default "random".

    Returns
    -------
    str
        Two tables: the areas, then the differences from the reference on the
        same images.
    """
    if reference not in areas:
        raise ValueError(f"the reference {reference!r} is not among the methods {list(areas)}.")
    reference_images = list(np.asarray(images_of[reference]))
    lines = ["mean ± 95 % interval      images   deletion (lower is better)   insertion (higher is better)"]
    for name, pairs in areas.items():
        pairs = np.asarray(pairs, dtype=np.float64)
        (deletion, d_margin), (insertion, i_margin) = mean_and_margin(pairs[:, 0]), mean_and_margin(pairs[:, 1])
        lines.append(f"{name:20} {len(pairs):6} {deletion:20.2f} ± {d_margin:.2f} {insertion:22.2f} ± {i_margin:.2f}")
    lines.append(f"differences from the {reference} map on the same images, image by image (mean ± 95 % interval):")
    for name, pairs in areas.items():
        if name == reference:
            continue
        pairs = np.asarray(pairs, dtype=np.float64)
        rows = [reference_images.index(i) for i in np.asarray(images_of[name])]
        differences = pairs - np.asarray(areas[reference], dtype=np.float64)[rows]
        (deletion, d_margin), (insertion, i_margin) = (mean_and_margin(differences[:, k]) for k in (0, 1))
        lines.append(f"{name:20} {len(pairs):6}   deletion {deletion:+.2f} ± {d_margin:.2f}   "
                     f"insertion {insertion:+.2f} ± {i_margin:.2f}")
    return "\n".join(lines)


def correlations_per_step(maps_by_step, region=None):
    """Each image's rank correlation with the trained model's map, at every step of a randomization test.

    Parameters
    ----------
    maps_by_step : dict of str -> array_like, shape (N, H, W)
        What :func:`randomization_test` returns with ``return_maps=True``:
        ``"trained"`` first, then one entry per step.
    region : tuple of slices, optional
        The part of each map to compare, for example the part of the picture
        the network reads. Default: the whole map.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (N,)
        Step -> Spearman correlations in [-1, 1] (0 for a blank map).
    """
    region = (slice(None), slice(None)) if region is None else region
    trained = np.asarray(maps_by_step["trained"])
    return {step: np.array([spearman(a[region], b[region]) for a, b in zip(trained, np.asarray(maps))])
            for step, maps in maps_by_step.items() if step != "trained"}


def blank_maps(maps):
    """How many maps of a batch are blank (constant): no evidence at all, and an undefined rank correlation.

    Parameters
    ----------
    maps : array_like, shape (N, H, W)

    Returns
    -------
    int
    """
    maps = np.asarray(maps)
    return int(np.sum(maps.max(axis=(1, 2)) == maps.min(axis=(1, 2))))


def randomization_table(correlations_by_method, blanks=None, whole_picture=None):
    """A randomization test as a table: one row per step, mean correlation ± 95 % interval per method.

    Parameters
    ----------
    correlations_by_method : dict of str -> dict of str -> array_like
        Method -> what :func:`correlations_per_step` returns.
    blanks : dict of str -> int, optional
        Step -> the number of blank maps of the first method, printed after it.
    whole_picture : dict of str -> float, optional
        Step -> the last method's mean correlation over the whole picture,
        printed in brackets at the end of each row.

    Returns
    -------
    str
    """
    methods = list(correlations_by_method)
    first = correlations_by_method[methods[0]]
    count = len(next(iter(first.values())))
    lines = [f"mean rank correlation with the trained maps over {count} images, ± 95 % interval:"]
    header = f"{'randomized down to':18}"
    for number, method in enumerate(methods):
        header += f" {method:>17}"
        if number == 0 and blanks is not None:
            header += "   blank maps"
    if whole_picture is not None:
        header += f"   ({methods[-1]}, whole picture)"
    lines.append(header)
    for step in first:
        row = f"{step:18}"
        for number, method in enumerate(methods):
            mean, margin = mean_and_margin(correlations_by_method[method][step])
            row += f" {mean:10.2f} ± {margin:.2f}"
            if number == 0 and blanks is not None:
                row += f"   {blanks[step]:2} of {count}"
        if whole_picture is not None:
            row += f"   ({whole_picture[step]:.2f})"
        lines.append(row)
    return "\n".join(lines)
