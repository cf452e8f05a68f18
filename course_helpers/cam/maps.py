"""Explanation maps: where in an image is the evidence for a class?

These return float32 (N, H, W) in [0, 1], at the input resolution:

* :func:`grad_cam`: Selvaraju et al. 2017. Channel weights are the spatial mean
  of the gradient of the class score with respect to a conv layer's feature
  maps; the map is ReLU of the weighted sum of the feature maps.
* :func:`grad_cam_plus_plus`: Chattopadhay et al. 2018, pixel-weighted gradients.
* :func:`saliency`: |gradient of the score with respect to the input pixels|.
* :func:`smoothgrad`: the same gradient averaged over noisy copies (Smilkov et al. 2017).
* :func:`guided_backprop`: the gradient with every ReLU also stopping negative
  gradients from above (Springenberg et al. 2015).

These keep the units of the score, unnormalized:

* :func:`integrated_gradients`: (N, H, W, C) attributions that sum to the
  score's change from a baseline (Sundararajan et al. 2017).
* :func:`occlusion`: (N, H, W), the mean drop of the score when a patch
  hides each pixel (Zeiler and Fergus 2014).

The class score is always the **pre-activation logit**, computed from the
model's own weights (:func:`course_helpers.anatomy.head`): for a single sigmoid
unit, +logit for class 1 and -logit for class 0; for softmax, the chosen
class's logit. The model itself is never modified.
"""
import numbers

import numpy as np

from .. import anatomy, seed_for
from ..arguments import check_int

__all__ = ["grad_cam", "grad_cam_plus_plus", "saliency", "smoothgrad", "guided_backprop", "integrated_gradients",
           "occlusion", "check_images", "predicted_classes", "to_input_size"]

_EPSILON = 1e-8


def check_images(model, images):
    """The batch as float32, or a ValueError that names the shape the model takes."""
    array = np.asarray(images, dtype=np.float32)
    expected = tuple(model.inputs[0].shape[1:])
    if array.ndim == len(expected):
        raise ValueError(f"images must be a batch, shape (N,) + {expected}; for one image pass image[np.newaxis].")
    if array.ndim != len(expected) + 1 or any(e is not None and e != a for e, a in zip(expected, array.shape[1:])):
        raise ValueError(f"images must have shape (N,) + {expected} for this model; got {array.shape}.")
    return array


def _class_scores(logits, head, class_index, count):
    """The score per image, and the class indices used (the predicted ones when class_index is None)."""
    import tensorflow as tf

    logits = tf.convert_to_tensor(logits)
    if head == "sigmoid":
        if int(logits.shape[-1]) != 1:
            raise ValueError("a sigmoid head must have a single unit.")
        predicted = (logits[:, 0] >= 0).numpy().astype(int)
        classes = 2
    else:
        predicted = tf.argmax(logits, axis=-1).numpy().astype(int)
        classes = int(logits.shape[-1])
    if class_index is None:
        chosen = predicted
    else:
        chosen = np.broadcast_to(np.asarray(class_index), (count,)).astype(int) if np.ndim(class_index) == 0 \
            else np.asarray(class_index, dtype=int)
        if chosen.shape != (count,):
            raise ValueError(f"class_index must be one int or one per image ({count}); got {class_index!r}.")
        if np.any(chosen < 0) or np.any(chosen >= classes):
            valid = "0 (horse) or 1 (human)" if head == "sigmoid" else f"0 to {classes - 1}"
            raise ValueError(f"class_index must be {valid}; got {class_index!r}.")
    if head == "sigmoid":
        signs = tf.constant(np.where(chosen == 1, 1.0, -1.0), dtype=logits.dtype)
        return signs * logits[:, 0], chosen
    return tf.gather(logits, tf.constant(chosen), axis=1, batch_dims=1), chosen


_CHUNK = 16  # images per forward/backward pass: keeps a notebook's memory flat for any batch size


def _class_indices(class_index, count):
    """None (the predicted classes), or one int per image; a wrong count is reported here."""
    if class_index is None:
        return None
    if np.ndim(class_index) == 0:
        return np.full(count, int(class_index))
    chosen = np.asarray(class_index, dtype=int)
    if chosen.shape != (count,):
        raise ValueError(f"class_index must be one int or one per image ({count}); got {class_index!r}.")
    return chosen


def _normalize(maps):
    """Per-map min-max to [0, 1]; a constant map (e.g. all zeros) becomes all zeros, never NaN."""
    import tensorflow as tf

    low = tf.reduce_min(maps, axis=(1, 2), keepdims=True)
    high = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    return (maps - low) / tf.maximum(high - low, _EPSILON)


def _interpolation(output_length, input_length, offset, jump):
    """(output_length, input_length) bilinear weights placing sample i at offset + jump * i."""
    position = np.clip((np.arange(output_length) - offset) / jump, 0, input_length - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, input_length - 1)
    fraction = position - low
    weights = np.zeros((output_length, input_length), dtype=np.float32)
    np.add.at(weights, (np.arange(output_length), low), 1 - fraction)
    np.add.at(weights, (np.arange(output_length), high), fraction)
    return weights


def to_input_size(maps, size, centres=None):
    """Upsample (N, h, w) maps to the input size, bilinearly.

    With ``centres`` (from :func:`course_helpers.anatomy.centres_of`), each map value is placed at
    its unit's receptive-field centre, and pixels beyond the outermost centres
    take the nearest value. Without, the map is stretched over the whole image.
    """
    import tensorflow as tf

    if centres is None:
        resized = tf.image.resize(maps[..., tf.newaxis], size, method="bilinear")[..., 0]
        return tf.maximum(resized, 0.0)  # bilinear weights never leave the maps' own range
    rows = _interpolation(size[0], int(maps.shape[1]), *centres[0])
    columns = _interpolation(size[1], int(maps.shape[2]), *centres[1])
    resized = tf.einsum("ij,njk,lk->nil", rows, tf.cast(maps, tf.float32), columns)
    return tf.maximum(resized, 0.0)


# ----------------------------------------------------------------------------
# Maps
# ----------------------------------------------------------------------------
def _cam(model, images, layer_name, class_index, upsample, weigh, normalize=True):
    import tensorflow as tf

    if upsample not in ("aligned", "stretch", False):
        raise ValueError(f"upsample must be 'aligned', 'stretch' or False; got {upsample!r}.")
    array = check_images(model, images)
    layer_name = layer_name or anatomy.default_layer(model)
    to_features, to_body, to_logits, head = anatomy.split_at(model, layer_name)
    classes = _class_indices(class_index, len(array))
    chunks = []
    for start in range(0, len(array), _CHUNK):  # bounded memory: a chunk of images at a time
        stop = start + _CHUNK
        feature_maps = to_features(tf.convert_to_tensor(array[start:stop]), training=False)
        with tf.GradientTape() as tape:
            tape.watch(feature_maps)
            logits = to_logits(to_body(feature_maps, training=False))
            scores, _ = _class_scores(logits, head, None if classes is None else classes[start:stop],
                                      len(feature_maps))
            total = tf.reduce_sum(scores)  # each image's score depends on its own maps only
        gradients = tape.gradient(total, feature_maps)
        positive = tf.nn.relu(weigh(feature_maps, gradients, scores))
        chunks.append(_normalize(positive) if normalize else positive)
    maps = tf.concat(chunks, axis=0)
    if upsample:
        leaves, index = anatomy.leaf_index(model, layer_name)
        # None (so: stretch) when a layer the centres cannot follow is on the way, merge layers included
        centres = anatomy.centres_of(leaves[: index + 1], array.shape[1:3]) if upsample == "aligned" else None
        maps = to_input_size(maps, array.shape[1:3], centres)
    return np.asarray(maps, dtype=np.float32)


def grad_cam(model, images, layer_name=None, class_index=None, upsample="aligned", normalize=True):
    """Grad-CAM heatmaps.

    Parameters
    ----------
    model : keras.Model
        Sequential (starting with ``keras.Input``), functional, or with a nested
        base model. Branches before the layer (residual connections) are fine;
        the layers after it must form a chain. Not modified.
    images : array_like, shape (N, H, W, C)
        A batch, as the model takes it.
    layer_name : str, optional
        The conv layer to explain. Default: :func:`course_helpers.anatomy.default_layer`.
    class_index : int or sequence of int, optional
        The class to explain, one for all images or one per image. Default:
        each image's predicted class. For a single sigmoid unit, 1 explains
        +logit ("human") and 0 explains -logit ("horse").
    upsample : {"aligned", "stretch", False}, optional
        How the maps are brought to the input size, bilinearly. ``"aligned"``
        (default) puts each value at its unit's receptive-field centre, which
        'valid' convolutions move inwards (the course model's conv5 units are
        centred on pixels 38.5 to 102.5 of 150). The centres are followed
        through conv, pooling and element-wise layers; with any other layer on
        the way (merge layers of residual blocks, padding, resizing) "aligned"
        stretches instead. ``"stretch"`` stretches the map over the whole
        image, as most libraries do. False returns the maps at the layer's
        resolution.
    normalize : bool, optional
        Scale each map to [0, 1] on its own (default). False keeps the raw
        values, in units of the score, so that maps can be compared: the
        evidence for two classes, or for two images.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W), values in [0, 1] (0 or more when not normalized)
        ReLU(sum_k alpha_k A^k) with alpha_k the spatial mean of d score / d A^k,
        min-max normalized per image (an all-zero map stays zeros).
    """
    import tensorflow as tf

    def weigh(feature_maps, gradients, _scores):
        alphas = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # one weight per channel
        return tf.reduce_sum(alphas * feature_maps, axis=-1)

    return _cam(model, images, layer_name, class_index, upsample, weigh, normalize)


def grad_cam_plus_plus(model, images, layer_name=None, class_index=None, upsample="aligned", normalize=True):
    """Grad-CAM++ heatmaps: like :func:`grad_cam`, with per-pixel weights on the gradients.

    Uses the closed form of Chattopadhay et al. (2018) for an exponential of
    the score, which needs only first-order gradients, and, as the authors'
    code does, scales each channel's pixel weights to sum to 1. Parameters and
    return value as in :func:`grad_cam`.
    """
    import tensorflow as tf

    def weigh(feature_maps, gradients, _scores):
        squared, cubed = gradients ** 2, gradients ** 3
        total = tf.reduce_sum(feature_maps, axis=(1, 2), keepdims=True)
        denominator = 2 * squared + total * cubed
        denominator += tf.cast(squared == 0, denominator.dtype)  # alpha = 0 where the gradient is 0
        alpha = squared / denominator
        alpha_sum = tf.reduce_sum(alpha, axis=(1, 2), keepdims=True)
        alpha = alpha / (alpha_sum + tf.cast(alpha_sum == 0, alpha_sum.dtype))
        weights = tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=(1, 2), keepdims=True)
        return tf.reduce_sum(weights * feature_maps, axis=-1)

    return _cam(model, images, layer_name, class_index, upsample, weigh, normalize)


def predicted_classes(model, images):
    """Each image's predicted class, from the logits: (N,) ints."""
    array = np.asarray(images, dtype=np.float32)
    body_model, (_, to_logits, head) = anatomy.body_model(model)
    chosen = [_class_scores(to_logits(body_model(array[start:start + _CHUNK], training=False)), head, None,
                            len(array[start:start + _CHUNK]))[1] for start in range(0, len(array), _CHUNK)]
    return np.concatenate(chosen)


def _input_gradients(model, array, class_index, reduce=None):
    """The gradient of each image's class score with respect to its pixels, (N, H, W, C), a chunk at a time;
    ``reduce``, when given, is applied to each chunk's gradients, so the full gradients never need to be held."""
    import tensorflow as tf

    body_model, (_, to_logits, head) = anatomy.body_model(model)
    classes = _class_indices(class_index, len(array))
    chunks = []
    for start in range(0, len(array), _CHUNK):  # bounded memory, as in _cam
        inputs = tf.convert_to_tensor(array[start:start + _CHUNK])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            logits = to_logits(body_model(inputs, training=False))
            scores, _ = _class_scores(logits, head, None if classes is None else classes[start:start + _CHUNK],
                                      len(inputs))
            total = tf.reduce_sum(scores)
        gradients = tape.gradient(total, inputs)
        chunks.append(gradients if reduce is None else reduce(gradients))
    return tf.concat(chunks, axis=0)


def saliency(model, images, class_index=None):
    """Gradient saliency: how much each pixel can change the class score.

    Parameters
    ----------
    model, images, class_index
        As in :func:`grad_cam`.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W), values in [0, 1]
        max over colour channels of |d score / d pixel|, min-max normalized per image.
    """
    import tensorflow as tf

    array = check_images(model, images)
    # Reduced over the colours chunk by chunk: a third of the memory of the full gradients.
    pixel_maps = _input_gradients(model, array, class_index, reduce=lambda g: tf.reduce_max(tf.abs(g), axis=-1))
    return np.asarray(_normalize(pixel_maps), dtype=np.float32)


def smoothgrad(model, images, class_index=None, n=20, sigma=0.15, seed=None):
    """SmoothGrad: input gradients averaged over ``n`` noisy copies of each image.

    Parameters
    ----------
    model, images, class_index
        As in :func:`grad_cam`. ``class_index=None`` uses the prediction for
        the clean image, for every noisy copy.
    n : int, optional
        Noisy copies per image. Default 20.
    sigma : float, optional
        Noise standard deviation as a fraction of each image's value range
        (max - min). Default 0.15.
    seed : int, optional
        The same seed gives the same maps. Default 0, moved by ``COURSE_SEED``.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W), values in [0, 1]
    """
    import tensorflow as tf

    array = check_images(model, images)
    check_int(n, "n", 1)
    if not 0 <= sigma <= 1:
        raise ValueError(f"sigma is a fraction of the input range, from 0 to 1; got {sigma!r}.")
    if class_index is None:
        class_index = predicted_classes(model, array)
    rng = np.random.default_rng(seed_for(0) if seed is None else seed)
    spread = (array.max(axis=(1, 2, 3), keepdims=True) - array.min(axis=(1, 2, 3), keepdims=True)) * sigma
    total = tf.zeros_like(tf.convert_to_tensor(array))
    for _ in range(n):
        noisy = array + rng.normal(size=array.shape).astype(np.float32) * spread
        total += _input_gradients(model, noisy, class_index)
    return np.asarray(_normalize(tf.reduce_max(tf.abs(total / n), axis=-1)), dtype=np.float32)


# ----------------------------------------------------------------------------
# Attributions in input space: integrated gradients, occlusion, guided backprop
# ----------------------------------------------------------------------------
def _scorer(model):
    """A function (images, class indices) -> each image's class score (the logit), through the model's graph."""
    body, (_, to_logits, head) = anatomy.body_model(model)

    def scores(inputs, classes):
        logits = to_logits(body(inputs, training=False))
        return _class_scores(logits, head, classes, len(classes))[0]

    return scores


def _pair_chunks(count, per_image):
    """(image indices, inner indices) for every (image, item) pair, at most _CHUNK pairs at a time, in order."""
    total = count * per_image
    for start in range(0, total, _CHUNK):
        yield np.divmod(np.arange(start, min(start + _CHUNK, total)), per_image)


def _baseline_batch(baseline, array):
    """The baseline as a (N, H, W, C) float32 array (a broadcast view), or a clear error."""
    if baseline is None:
        return np.broadcast_to(np.float32(0), array.shape)
    if isinstance(baseline, str):
        raise TypeError(f"baseline must be a number or an array of pixels, not a string ({baseline!r}); "
                        f"e.g. 0.5 for a grey baseline.")
    try:
        value = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"baseline must be a number or an array of pixels; got a {type(baseline).__name__}.") from None
    try:
        batch = np.broadcast_to(value, array.shape)
    except ValueError:
        raise ValueError(f"baseline must broadcast to one image {array.shape[1:]} or to the batch {array.shape}; "
                         f"got shape {value.shape}. Leave it out for black, pass 0.5 for grey, or one image "
                         f"of shape {array.shape[1:]}.") from None
    if not np.all(np.isfinite(value)):
        raise ValueError("baseline holds NaN or infinite values; pass finite pixel values.")
    return batch


def integrated_gradients(model, images, class_index=None, baseline=None, steps=64, tolerance=0.01):
    """Integrated gradients (Sundararajan et al. 2017): each pixel's share of the score's change from a baseline.

    The gradient of the score is averaged along the straight path from the
    baseline x' to the image x, and multiplied by (x - x'). The path integral
    is approximated with the trapezoid rule over ``steps`` equal intervals
    (``steps + 1`` points, the two end points weighted 1/2). The result is
    *complete*: summed over all pixels and channels it equals
    score(x) - score(x'), up to the integration error. That error is checked
    for every image: where it is above ``tolerance`` times the score change,
    that image's intervals are halved (the points already computed are kept),
    again and again, up to ``16 * steps`` intervals. A ReLU network's gradient
    jumps along the path, so some images need many more points than others.

    Parameters
    ----------
    model, images, class_index
        As in :func:`grad_cam`. ``class_index=None`` explains each image's
        predicted class (that of the image, not of the baseline).
    baseline : float or array_like, optional
        The reference "no signal" input x'. Default: black (all zeros). Any
        array that broadcasts to one image (H, W, C), e.g. 0.5 for grey or
        one colour of shape (C,), or to the batch (N, H, W, C), one baseline
        per image.
    steps : int, optional
        Intervals of the path to start with. Default 64. The gradient is
        computed 16 points at a time, so memory does not grow with ``steps``
        or the batch.
    tolerance : float or None, optional
        The completeness error accepted, as a share of \\|score(x) - score(x')\\|
        (an error under 1e-4 of the score, in logits, is always accepted).
        Default 0.01. None: exactly ``steps`` intervals, as the plain
        trapezoid rule gives them, however far from complete.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W, C)
        Signed attributions, in units of the score (the logit): positive
        where the pixel's change from the baseline raised the class score.
        Not normalized: ``attributions.sum(axis=(1, 2, 3))`` is the score difference.

    Raises
    ------
    TypeError
        If ``steps`` is not an int, ``tolerance`` not a number, or ``baseline`` not numbers.
    ValueError
        If ``steps`` < 1, ``tolerance`` is not positive, or ``baseline`` does
        not broadcast to an image or the batch.

    Notes
    -----
    An untrained classifier (Keras starts biases at 0) made of convolutions,
    ReLUs and max pooling scales with its input: along the path from black
    its gradient is constant, except at black itself, where every ReLU sits
    exactly at 0 and the gradient is 0. The plain trapezoid rule then falls
    short by exactly half a step's weight: 1 / (2 * steps), 0.78 % at 64 steps.
    """
    import tensorflow as tf

    array = check_images(model, images)
    steps = check_int(steps, "steps", 1)
    if tolerance is not None:
        if isinstance(tolerance, (bool, np.bool_)) or not isinstance(tolerance, numbers.Real):
            raise TypeError(f"tolerance must be a number like 0.01, or None; got {tolerance!r}.")
        if not tolerance > 0:
            raise ValueError(f"tolerance must be above 0 (a share of the score change, like 0.01); got {tolerance}.")
    start_points = _baseline_batch(baseline, array)
    classes = predicted_classes(model, array) if class_index is None else _class_indices(class_index, len(array))
    score = _scorer(model)
    differences = array - start_points

    def gradient_sums(images_used, fractions):
        """For each image used, the sum of the score's gradients at these fractions of its path."""
        sums = np.zeros((len(images_used),) + array.shape[1:], dtype=np.float32)
        for which, point in _pair_chunks(len(images_used), len(fractions)):  # bounded memory
            chosen = images_used[which]
            on_path = start_points[chosen] + fractions[point, None, None, None] * differences[chosen]
            inputs = tf.convert_to_tensor(on_path)
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                total = tf.reduce_sum(score(inputs, classes[chosen]))  # each point's score depends on it alone
            gradients = tape.gradient(total, inputs).numpy()
            for position in np.unique(which):
                sums[position] += gradients[which == position].sum(axis=0)
        return sums

    every = np.arange(len(array))
    ends = np.array([0, 1], dtype=np.float32)
    interior = (np.arange(1, steps) / steps).astype(np.float32)
    # the trapezoid rule: the mean gradient, the two end points weighted 1/2
    mean_gradient = (gradient_sums(every, ends) / 2 + gradient_sums(every, interior)) / steps
    if tolerance is None:
        return (differences * mean_gradient).astype(np.float32)

    def scores_of(batch):
        return np.concatenate([np.asarray(score(tf.convert_to_tensor(np.ascontiguousarray(batch[start:start + _CHUNK])),
                                                classes[start:start + _CHUNK]))
                               for start in range(0, len(array), _CHUNK)])

    change = scores_of(array) - scores_of(start_points)
    intervals = steps
    while intervals < 16 * steps:
        missed = np.abs((differences * mean_gradient).sum(axis=(1, 2, 3)) - change)
        unfinished = every[missed > np.maximum(tolerance * np.abs(change), 1e-4)]
        if not len(unfinished):
            break
        midpoints = ((np.arange(intervals) + 0.5) / intervals).astype(np.float32)
        # halving every interval: T(2n) = T(n) / 2 + (the mean gradient at the n midpoints) / 2
        mean_gradient[unfinished] = (mean_gradient[unfinished] + gradient_sums(unfinished, midpoints) / intervals) / 2
        intervals *= 2
    return (differences * mean_gradient).astype(np.float32)


def _occlusion_starts(length, patch, stride):
    """Patch positions along an axis: every ``stride`` pixels, plus one flush with the far edge."""
    return sorted(set(range(0, length - patch + 1, stride)) | {length - patch})


def occlusion(model, images, class_index=None, patch=None, stride=None, fill=0.0):
    """Occlusion sensitivity (Zeiler and Fergus 2014): how much hiding each part of the image lowers the score.

    A square patch of ``fill`` slides over the image; for each position the
    class score (the logit, as in :func:`grad_cam`) is recomputed. Each
    pixel gets the mean drop, score(image) - score(occluded image), over all
    patch positions that hide it. The positions start at the top-left corner
    and move by ``stride``; along each axis a last position flush with the
    far edge is added when the steps do not end there, so every pixel is
    hidden by at least one patch and has a value.

    Parameters
    ----------
    model, images, class_index
        As in :func:`grad_cam`. ``class_index=None`` explains each image's
        predicted class.
    patch : int, optional
        Side of the square patch, in pixels, from 1 to the image's shorter
        side. Default: an eighth of the shorter side, rounded (19 px at 150 px).
    stride : int, optional
        Step between patch positions, from 1 to ``patch`` (a longer step would
        leave pixels that no patch hides). Default: ``patch // 2`` (at least 1),
        so that most pixels are hidden by four patches.
    fill : float or "mean", optional
        What hides the patch: a number (default 0.0, black for images in
        [0, 1], the zero baseline other libraries use too), or ``"mean"``,
        each image's own mean colour. Zeiler and Fergus hid patches with grey;
        the mean colour is the same idea, fitted to each picture. For photos,
        prefer ``"mean"``: a black square is itself a strong, unnatural
        feature. On 40 of notebook 7's stand-in pictures, under two course
        seeds, black-filled maps scored worse than a random map on deletion
        and insertion; mean-filled ones scored better than black-filled ones
        on all three scores (pointing game, deletion, insertion). The
        default stays 0.0 because the mean hides nothing where a picture
        already has its mean colour, and because it is the baseline that
        integrated gradients and other libraries use.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W)
        In units of the score (the logit), not normalized: positive where
        hiding the pixel lowers the class score (evidence for the class),
        negative where it raises it, 0 where it changes nothing.
        The model sees ``len(positions) * N`` images, 16 at a time.

    Raises
    ------
    TypeError
        If ``patch`` or ``stride`` is not an int, or ``fill`` is neither a number nor "mean".
    ValueError
        If ``patch`` or ``stride`` is out of range, or ``fill`` is another string.
    """

    import tensorflow as tf

    array = check_images(model, images)
    height, width = array.shape[1:3]
    shorter = min(height, width)
    patch = max(1, int(shorter / 8 + 0.5)) if patch is None else check_int(patch, "patch", 1, shorter)
    stride = max(1, patch // 2) if stride is None else check_int(stride, "stride", 1)
    if stride > patch:
        raise ValueError(f"stride must be at most patch ({patch}): a step of {stride} would leave pixels that no "
                         f"patch hides.")
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f"fill must be a number or 'mean' (each image's mean colour); got {fill!r}.")
        colours = array.mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, C)
    elif isinstance(fill, (bool, np.bool_)) or not isinstance(fill, numbers.Real):
        raise TypeError(f"fill must be a number or 'mean'; got {fill!r} ({type(fill).__name__}).")
    else:
        colours = np.full((len(array), 1, 1, array.shape[3]), fill, dtype=np.float32)
    classes = predicted_classes(model, array) if class_index is None else _class_indices(class_index, len(array))
    score = _scorer(model)
    base_scores = np.concatenate([np.asarray(score(tf.convert_to_tensor(array[start:start + _CHUNK]),
                                                   classes[start:start + _CHUNK]))
                                  for start in range(0, len(array), _CHUNK)])
    positions = [(row, column) for row in _occlusion_starts(height, patch, stride)
                 for column in _occlusion_starts(width, patch, stride)]
    drops = np.zeros(array.shape[:3], dtype=np.float64)
    for which, index in _pair_chunks(len(array), len(positions)):  # bounded memory: 16 occluded images at a time
        occluded = array[which]
        for slot, (image, position) in enumerate(zip(which, index)):
            row, column = positions[position]
            occluded[slot, row:row + patch, column:column + patch] = colours[image]
        changes = base_scores[which] - np.asarray(score(tf.convert_to_tensor(occluded), classes[which]))
        for image, position, change in zip(which, index, changes):
            row, column = positions[position]
            drops[image, row:row + patch, column:column + patch] += change
    hidden_by = np.zeros((height, width))
    for row, column in positions:
        hidden_by[row:row + patch, column:column + patch] += 1
    return (drops / hidden_by).astype(np.float32)


def _ends_in_relu(layer):
    """True for a layer whose last step is a plain ReLU: activation="relu", Activation("relu"), ReLU()."""
    if type(layer).__name__ == "ReLU":
        return float(layer.negative_slope) == 0.0
    return getattr(getattr(layer, "activation", None), "__name__", None) == "relu"


def guided_backprop(model, images, class_index=None):
    """Guided backpropagation (Springenberg et al. 2015): the input gradient with every ReLU gating both ways.

    At each ReLU the gradient flows back only where the ReLU's input was
    positive (as in the ordinary gradient) **and** the gradient arriving from
    above is positive: only evidence that would raise the score is passed
    down. Every other layer passes the gradient as usual. The map is then
    reduced as :func:`saliency` reduces the plain gradient, so the two differ
    only by the gating: on a model without ReLUs they are equal.

    The ReLUs are found in layers with ``activation="relu"`` (Conv2D, Dense,
    ...), ``Activation("relu")`` layers and ``ReLU()`` layers (no negative
    slope). Leaky ReLUs and other activations are not gated. The model is
    applied layer by layer with its own layers (``training=False``); it is
    neither copied nor changed, and nothing is added to its graph.

    Parameters
    ----------
    model : keras.Model
        A chain of layers (Sequential, or functional without branches), nested
        base models allowed, as the course's classifier or VGG16. Not modified.
    images, class_index
        As in :func:`grad_cam`.

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W), values in [0, 1]
        max over colour channels of |guided gradient|, min-max normalized per
        image (an all-zero map stays zeros).

    Raises
    ------
    ValueError
        If the model branches (residual connections): use :func:`saliency`
        or :func:`integrated_gradients` there.
    """
    import tensorflow as tf

    array = check_images(model, images)
    layers = anatomy.chain_layers(model)
    end = anatomy.head(model)
    if end.layer is not None:
        if layers[-1] is not end.layer:
            raise ValueError("the model's last layer, which computes its output, is not the end of its chain of "
                             "layers; guided backprop needs a chain of layers.")
        layers = layers[:-1]  # end.logits applies the last layer without its sigmoid or softmax
    gated = [_ends_in_relu(layer) for layer in layers]

    @tf.custom_gradient
    def pass_positive_gradients(relu_output):
        """Identity forward; backward, only the positive gradient. After a ReLU, whose own backward
        step keeps the gradient where its input was positive, this is the guided ReLU."""
        return tf.identity(relu_output), tf.nn.relu

    classes = _class_indices(class_index, len(array))
    chunks = []
    for start in range(0, len(array), _CHUNK):  # bounded memory, as in _cam
        inputs = tf.convert_to_tensor(array[start:start + _CHUNK])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            tensor = inputs
            for layer, relu in zip(layers, gated):
                tensor = layer(tensor, training=False)  # eager tensors: no node is added to the model's graph
                if relu:
                    tensor = pass_positive_gradients(tensor)
            scores, _ = _class_scores(end.logits(tensor), end.activation,
                                      None if classes is None else classes[start:start + _CHUNK], len(inputs))
            total = tf.reduce_sum(scores)
        chunks.append(tape.gradient(total, inputs))
    gradients = tf.concat(chunks, axis=0)
    return np.asarray(_normalize(tf.reduce_max(tf.abs(gradients), axis=-1)), dtype=np.float32)
