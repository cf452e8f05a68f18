"""Explanation maps: where in an image is the evidence for a class?

All return float32 (N, H, W) in [0, 1], at the input resolution:

* :func:`grad_cam`: Selvaraju et al. 2017. Channel weights are the spatial mean
  of the gradient of the class score with respect to a conv layer's feature
  maps; the map is ReLU of the weighted sum of the feature maps.
* :func:`grad_cam_plus_plus`: Chattopadhay et al. 2018, pixel-weighted gradients.
* :func:`saliency`: |gradient of the score with respect to the input pixels|.
* :func:`smoothgrad`: the same gradient averaged over noisy copies (Smilkov et al. 2017).

The class score is always the **pre-activation logit**, computed from the
model's own weights (:func:`course_helpers.anatomy.head`): for a single sigmoid
unit, +logit for class 1 and -logit for class 0; for softmax, the chosen
class's logit. The model itself is never modified.
"""
import numpy as np

from .. import anatomy, seed_for
from ..arguments import check_int

__all__ = ["grad_cam", "grad_cam_plus_plus", "saliency", "smoothgrad", "check_images", "predicted_classes",
           "to_input_size"]

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


def _input_gradients(model, array, class_index):
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
        chunks.append(tape.gradient(total, inputs))
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
    gradients = _input_gradients(model, array, class_index)
    return np.asarray(_normalize(tf.reduce_max(tf.abs(gradients), axis=-1)), dtype=np.float32)


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
