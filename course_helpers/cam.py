"""Where does the network look? Grad-CAM and gradient saliency, and how to measure them.

Maps (all return float32 (N, H, W) in [0, 1], at the input resolution):

* :func:`grad_cam`: Selvaraju et al. 2017. Channel weights are the spatial mean
  of the gradient of the class score with respect to a conv layer's feature
  maps; the map is ReLU of the weighted sum of the feature maps.
* :func:`grad_cam_plus_plus`: Chattopadhay et al. 2018, pixel-weighted gradients.
* :func:`saliency`: |gradient of the score with respect to the input pixels|.
* :func:`smoothgrad`: the same gradient averaged over noisy copies (Smilkov et al. 2017).

The class score is always the **pre-activation logit**, computed from the
model's own weights: for a single sigmoid unit, +logit for class 1 and -logit
for class 0; for softmax, the chosen class's logit. The model itself is never
modified.

Measurements: :func:`pointing_game`, :func:`energy_in_mask`,
:func:`deletion_insertion` (Petsiuk et al. 2018) and :func:`randomization_test`
(Adebayo et al. 2018).
"""
import matplotlib
import numpy as np
from PIL import Image

from . import activations, seed_for

__all__ = [
    "default_layer",
    "unit_centres",
    "grad_cam",
    "grad_cam_plus_plus",
    "saliency",
    "smoothgrad",
    "overlay",
    "plot_grad_cam",
    "pointing_game",
    "energy_in_mask",
    "deletion_insertion",
    "randomization_test",
    "spearman",
]

_EPSILON = 1e-8


# ----------------------------------------------------------------------------
# The model pieces: a feature layer, and the logits, without touching the model
# ----------------------------------------------------------------------------
def default_layer(model):
    """The layer Grad-CAM uses by default: the last conv layer at the top level of the model.

    When the convolutions live inside a nested base model (e.g. a pretrained
    network used as a layer), that base model's output is used.

    Raises
    ------
    ValueError
        If the model has no convolution layer at all.
    """
    import keras

    for layer in reversed(model.layers):
        if type(layer).__name__ in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
            return layer.name
        if isinstance(layer, keras.Model) and any(
                type(inner).__name__ == "Conv2D" for inner in activations._all_layers(layer)):
            return layer.name
    raise ValueError("the model has no convolution layer, so there is no feature map to explain; "
                     "Grad-CAM needs a CNN (saliency works on any model).")


def _head(model):
    """(layer whose input is the body's output, function body_output -> logits).

    The logits are computed from the last layer's own kernel and bias when that
    layer ends in a sigmoid or softmax; the layer itself is left as it is.
    """
    import tensorflow as tf

    last = model.layers[-1]
    kind = type(last).__name__
    activation = getattr(getattr(last, "activation", None), "__name__", "linear")
    if kind == "Dense" and activation in ("sigmoid", "softmax"):
        kernel, bias = last.kernel, last.bias

        def logits(body):
            value = tf.matmul(body, kernel)
            return value + bias if bias is not None else value

        return last, logits, activation
    if kind == "Activation" and activation in ("sigmoid", "softmax"):
        return last, (lambda body: body), activation
    if activation == "linear":
        units = int(model.outputs[0].shape[-1])
        return None, (lambda body: body), "sigmoid" if units == 1 else "softmax"
    raise ValueError(f"the model ends in {kind} with a {activation!r} activation; Grad-CAM needs logits "
                     f"before a sigmoid or softmax, or a linear output.")


def _leaf_index(model, layer_name):
    """Position of ``layer_name`` in the model's chain of layers (nested models flattened).

    Naming a nested model means its output, i.e. its last layer.
    """
    import keras

    leaves = activations._all_layers(model)
    names = [layer.name for layer in leaves]
    if layer_name in names:
        return leaves, names.index(layer_name)
    for layer in model.layers:
        if layer.name == layer_name and isinstance(layer, keras.Model):
            return leaves, names.index(activations._all_layers(layer)[-1].name)
    valid = names + [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    raise ValueError(f"the model has no layer named {layer_name!r}. Valid names: {valid}.")


def _graph_nodes(model):
    """layer -> the node where ``model``'s own graph calls it, found by walking back from its output.

    A layer called several times (by other models, or on other inputs) has several nodes; only
    the one on the path to this model's output counts. A layer called twice within this graph
    maps to None.
    """
    nodes, stack = {}, list(model.outputs)
    while stack:
        history = getattr(stack.pop(), "_keras_history", None)
        if history is None:
            continue
        layer, node = history[0], history[0]._inbound_nodes[history[1]]
        if layer in nodes:
            if nodes[layer] is not node:
                nodes[layer] = None
            continue
        nodes[layer] = node
        stack.extend(node.input_tensors)
    return nodes


def _is_chain_model(model):
    """True if every layer of ``model`` (nested models' layers too) takes exactly the previous one's output."""
    import keras

    nodes, previous = _graph_nodes(model), None
    for layer in [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]:
        node = nodes.get(layer)
        parents = [] if node is None else [parent.operation for parent in node.parent_nodes]
        if previous is None:
            follows = len(parents) == 1 and type(parents[0]).__name__ == "InputLayer"
        else:
            follows = parents == [previous]
        if not follows or (isinstance(layer, keras.Model) and not _is_chain_model(layer)):
            return False
        previous = layer
    return True


def _score_model(model, layer_name):
    """Split the model at the layer: (input -> feature maps, feature maps -> logits' input, head).

    Splitting the model, rather than asking one model for an inner output,
    makes the feature maps an explicit input of the rest of the network, so
    their gradient is always defined. Both parts use the model's own layers
    (weights shared, nothing changed, and no new nodes added to its graph).

    * A layer (or a nested base model) at the model's top level: the first part
      follows the model's own graph, so networks with branches before it
      (residual connections, as in ResNet or MobileNetV2) work. The layers after
      it must form a chain, as they do after the last conv layer of such classifiers.
    * A layer inside a nested base model (e.g. ``"block5_conv3"`` of VGG16 used as
      a layer): the base must be a chain of layers, which are applied one by one.
    """
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("these explanation methods handle models with one input and one output.")
    last, to_logits, head = _head(model)
    top_level = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    chain_message = (f"could not split the model at {layer_name!r}: these methods need the layers after it "
                     f"to form a chain, and, for a layer inside a nested model, that model too")
    if layer_name in [layer.name for layer in top_level]:
        position = [layer.name for layer in top_level].index(layer_name)
        nodes = _graph_nodes(model)
        split, rest = top_level[position], top_level[position + 1:]
        if nodes.get(split) is None:
            raise ValueError(f"{layer_name!r} is not called exactly once on the way to the model's output, "
                             f"so its feature maps are not defined; choose another layer.")
        previous = split
        for layer in rest:
            node = nodes.get(layer)
            if node is None or [parent.operation for parent in node.parent_nodes] != [previous]:
                raise ValueError(f"the network branches or joins after {layer_name!r} (a residual connection, "
                                 f"for example), so it cannot be split there; choose a later layer, such as the "
                                 f"last conv layer {default_layer(model)!r}.")
            previous = layer
        features = nodes[split].output_tensors[0]
        to_features = keras.Model(model.inputs[0], features)  # built from the graph's tensors: no new calls
        feature_shape = tuple(features.shape)
    else:
        leaves, index = _leaf_index(model, layer_name)
        if not _is_chain_model(model):
            raise ValueError(f"{chain_message}; choose a layer at the model's top level, such as "
                             f"{default_layer(model)!r}.")
        prefix, rest = leaves[: index + 1], leaves[index + 1:]

        def to_features(images, training=False):
            for layer in prefix:
                images = layer(images, training=training)
            return images

        try:
            feature_shape = tuple(keras.ops.shape(to_features(keras.ops.zeros((1,) + tuple(model.inputs[0].shape[1:])))))
        except Exception as error:  # a branching nested model fails in many ways when applied as a chain
            raise ValueError(f"{chain_message} ({type(error).__name__}: {error}).") from None
    if last is not None:
        rest = rest[:-1]  # the head turns the body into logits itself
    if len(feature_shape) != 4:
        raise ValueError(f"{layer_name!r} gives outputs of shape {feature_shape}, not feature maps; "
                         f"choose a conv layer.")

    def to_body(feature_maps, training=False):
        for layer in rest:  # applied one by one on tensors: nothing is added to the model's graph
            feature_maps = layer(feature_maps, training=training)
        return feature_maps

    return to_features, to_body, to_logits, head


def _check_images(model, images):
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


_CHUNK = 32  # images per forward/backward pass: keeps a notebook's memory flat for any batch size


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


_SPATIAL = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D")
_POINTWISE = ("InputLayer", "Activation", "ReLU", "LeakyReLU", "ELU", "BatchNormalization", "LayerNormalization",
              "Dropout", "SpatialDropout2D", "Rescaling", "Normalization", "RandomFlip", "RandomRotation",
              "RandomZoom", "RandomContrast", "RandomBrightness", "RandomTranslation", "GaussianNoise")


def _unit_centres(layers, input_size):
    """Where the units of the last layer sit in the input, per axis: (offset, jump) pairs.

    Unit i of the layer is centred on input pixel offset + jump * i. For 'valid'
    layers the offset grows by half a kernel per layer (the first conv5 unit of
    the course's model is centred on pixel 38.5, not 0). None if a layer that
    changes the geometry in an unknown way is on the way.
    """
    from . import conv

    offset, jump, size = [0.0, 0.0], [1.0, 1.0], list(input_size)
    for layer in layers:
        kind = type(layer).__name__
        if kind in _POINTWISE:
            continue
        if kind not in _SPATIAL:
            return None
        kernel = getattr(layer, "kernel_size", None) or layer.pool_size
        strides, padding = layer.strides, layer.padding
        dilation = getattr(layer, "dilation_rate", (1, 1))
        for axis in (0, 1):
            extent = (kernel[axis] - 1) * dilation[axis] + 1
            before = conv.padding_amounts(size[axis], extent, strides[axis], padding)[0]
            offset[axis] += ((extent - 1) / 2 - before) * jump[axis]
            jump[axis] *= strides[axis]
            size[axis] = conv.output_size(size[axis], extent, strides[axis], padding)
    return list(zip(offset, jump))


def unit_centres(model, layer_name):
    """Where the units of a layer sit in the input image: ``[(offset, step), (offset, step)]``.

    Unit i along an axis is centred on input pixel ``offset + step * i``
    (rows first, then columns). For the course's classifier, conv5 gives
    ``[(38.5, 16.0), (38.5, 16.0)]``. None if a layer on the way changes the
    geometry in a way this does not know (e.g. a Resizing layer).
    """
    leaves, index = _leaf_index(model, layer_name)
    return _unit_centres(leaves[: index + 1], tuple(model.inputs[0].shape[1:3]))


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


def _to_input_size(maps, size, centres=None):
    """Upsample (N, h, w) maps to the input size, bilinearly.

    With ``centres`` (from :func:`_unit_centres`), each map value is placed at
    its unit's receptive-field centre, and pixels beyond the outermost centres
    take the nearest value. Without, the map is stretched over the whole image.
    """
    import tensorflow as tf

    if centres is None:
        resized = tf.image.resize(maps[..., tf.newaxis], size, method="bilinear")[..., 0]
        return tf.clip_by_value(resized, 0.0, 1.0)
    rows = _interpolation(size[0], int(maps.shape[1]), *centres[0])
    columns = _interpolation(size[1], int(maps.shape[2]), *centres[1])
    resized = tf.einsum("ij,njk,lk->nil", rows, tf.cast(maps, tf.float32), columns)
    return tf.clip_by_value(resized, 0.0, 1.0)


# ----------------------------------------------------------------------------
# Maps
# ----------------------------------------------------------------------------
def _cam(model, images, layer_name, class_index, upsample, weigh):
    import tensorflow as tf

    if upsample not in ("aligned", "stretch", False):
        raise ValueError(f"upsample must be 'aligned', 'stretch' or False; got {upsample!r}.")
    array = _check_images(model, images)
    layer_name = layer_name or default_layer(model)
    to_features, to_body, to_logits, head = _score_model(model, layer_name)
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
        chunks.append(_normalize(tf.nn.relu(weigh(feature_maps, gradients, scores))))
    maps = tf.concat(chunks, axis=0)
    if upsample:
        leaves, index = _leaf_index(model, layer_name)
        # None (so: stretch) when a layer the centres cannot follow is on the way, merge layers included
        centres = _unit_centres(leaves[: index + 1], array.shape[1:3]) if upsample == "aligned" else None
        maps = _to_input_size(maps, array.shape[1:3], centres)
    return np.asarray(maps, dtype=np.float32)


def grad_cam(model, images, layer_name=None, class_index=None, upsample="aligned"):
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
        The conv layer to explain. Default: :func:`default_layer`.
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

    Returns
    -------
    numpy.ndarray of float32, shape (N, H, W), values in [0, 1]
        ReLU(sum_k alpha_k A^k) with alpha_k the spatial mean of d score / d A^k,
        min-max normalized per image (an all-zero map stays zeros).
    """
    import tensorflow as tf

    def weigh(feature_maps, gradients, _scores):
        alphas = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # one weight per channel
        return tf.reduce_sum(alphas * feature_maps, axis=-1)

    return _cam(model, images, layer_name, class_index, upsample, weigh)


def grad_cam_plus_plus(model, images, layer_name=None, class_index=None, upsample="aligned"):
    """Grad-CAM++ heatmaps: like :func:`grad_cam`, with per-pixel weights on the gradients.

    Uses the closed form of Chattopadhay et al. (2018) for an exponential of
    the score, which needs only first-order gradients. Parameters and return
    value as in :func:`grad_cam`.
    """
    import tensorflow as tf

    def weigh(feature_maps, gradients, _scores):
        squared, cubed = gradients ** 2, gradients ** 3
        total = tf.reduce_sum(feature_maps, axis=(1, 2), keepdims=True)
        denominator = 2 * squared + total * cubed
        alpha = squared / tf.where(tf.abs(denominator) > _EPSILON, denominator, tf.ones_like(denominator))
        weights = tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=(1, 2), keepdims=True)
        return tf.reduce_sum(weights * feature_maps, axis=-1)

    return _cam(model, images, layer_name, class_index, upsample, weigh)


def _body_model(model):
    """(keras.Model from the input to what the head turns into logits, head function, head kind)."""
    import keras

    last, to_logits, head = _head(model)
    body = last.input if last is not None else model.outputs[0]
    return keras.Model(model.inputs[0], body), to_logits, head


def _predicted_classes(model, array):
    body_model, to_logits, head = _body_model(model)
    chosen = [_class_scores(to_logits(body_model(array[start:start + _CHUNK], training=False)), head, None,
                            len(array[start:start + _CHUNK]))[1] for start in range(0, len(array), _CHUNK)]
    return np.concatenate(chosen)


def _input_gradients(model, array, class_index):
    import tensorflow as tf

    body_model, to_logits, head = _body_model(model)
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

    array = _check_images(model, images)
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

    array = _check_images(model, images)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}.")
    if not 0 <= sigma <= 1:
        raise ValueError(f"sigma is a fraction of the input range, from 0 to 1; got {sigma!r}.")
    if class_index is None:
        class_index = _predicted_classes(model, array)
    rng = np.random.default_rng(seed_for(0) if seed is None else seed)
    spread = (array.max(axis=(1, 2, 3), keepdims=True) - array.min(axis=(1, 2, 3), keepdims=True)) * sigma
    total = tf.zeros_like(tf.convert_to_tensor(array))
    for _ in range(n):
        noisy = array + rng.normal(size=array.shape).astype(np.float32) * spread
        total += _input_gradients(model, noisy, class_index)
    return np.asarray(_normalize(tf.reduce_max(tf.abs(total / n), axis=-1)), dtype=np.float32)


def overlay(image, heatmap, alpha=0.6, cmap="jet"):
    """A heatmap drawn over an image, opaque where it is hot and clear where it is cold.

    Each pixel blends ``alpha * heat`` of the colormap's colour with the rest
    of the image, so parts without evidence keep their own colours.

    Parameters
    ----------
    image : array_like, shape (H, W, 3) or (H, W), values in [0, 1]
    heatmap : array_like, shape (h, w), values in [0, 1]
        Resized (bilinear) to the image's size if needed.
    alpha : float, optional
        Weight of the hottest colour, 0 to 1. Default 0.6.
    cmap : str, optional
        A Matplotlib colormap name. Default "jet".

    Returns
    -------
    numpy.ndarray of float32, shape (H, W, 3), values in [0, 1]
    """
    picture = np.asarray(image, dtype=np.float32)
    if picture.ndim == 2:
        picture = np.repeat(picture[:, :, None], 3, axis=2)
    heat = np.asarray(heatmap, dtype=np.float32)
    if picture.ndim != 3 or picture.shape[2] != 3 or heat.ndim != 2:
        raise ValueError(f"overlay needs an (H, W, 3) image and an (h, w) heatmap; got {picture.shape} and {heat.shape}.")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha!r}.")
    if heat.shape != picture.shape[:2]:
        heat = np.asarray(Image.fromarray(heat, mode="F").resize((picture.shape[1], picture.shape[0]),
                                                                Image.Resampling.BILINEAR))
    heat = np.clip(heat, 0, 1)
    colours = matplotlib.colormaps[cmap](heat)[:, :, :3].astype(np.float32)
    weight = alpha * heat[:, :, np.newaxis]
    return np.clip((1 - weight) * picture + weight * colours, 0, 1)


def plot_grad_cam(model, pictures, layer_name=None, alpha=0.6):
    """For each picture: the picture, then Grad-CAM for class 0 and for class 1, overlaid.

    Parameters
    ----------
    model : keras.Model
        A binary classifier with one sigmoid unit (class 1 = "human").
    pictures : dict of str -> image
        Anything :func:`course_helpers.images.load_image` reads; resized to the
        model's input size as the training pipeline resizes.
    layer_name : str, optional
        Default: :func:`default_layer`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from . import data, plotting

    height, width = model.inputs[0].shape[1:3]
    loaded = [data.model_input(picture, (height, width)) for picture in pictures.values()]
    batch = np.stack(loaded)
    probability = np.asarray(model(batch, training=False)).reshape(-1)
    horse = grad_cam(model, batch, layer_name, class_index=0)
    human = grad_cam(model, batch, layer_name, class_index=1)
    panels, titles = [], []
    for name, picture, p, horse_map, human_map in zip(pictures, loaded, probability, horse, human):
        panels += [picture, overlay(picture, horse_map, alpha), overlay(picture, human_map, alpha)]
        titles += [f"{name}: P(human) = {p:.2f}", "evidence for 'horse'", "evidence for 'human'"]
    layer = layer_name or default_layer(model)
    return plotting.show_images(panels, titles, ncols=3, size=2.3, suptitle=f"Grad-CAM at {layer}")


# ----------------------------------------------------------------------------
# Measuring explanations
# ----------------------------------------------------------------------------
def _check_pairs(heatmaps, masks):
    heat = np.asarray(heatmaps, dtype=np.float64)
    mask = np.asarray(masks).astype(bool)
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
        A hit may miss the mask by this many pixels, as in the original
        protocol. Default 15.

    Returns
    -------
    float
        Hit rate in [0, 1]. Ties for the hottest pixel go to the first one.
    """
    heat, mask = _check_pairs(heatmaps, masks)
    radius = int(tolerance_px)
    if radius < 0:
        raise ValueError(f"tolerance_px must be 0 or more; got {tolerance_px!r}.")
    hits = 0
    for one_heat, one_mask in zip(heat, mask):
        row, column = np.unravel_index(np.argmax(one_heat), one_heat.shape)
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
    total = heat.sum(axis=(1, 2))
    inside = (heat * mask).sum(axis=(1, 2))
    return float(np.mean(np.where(total > 0, inside / np.maximum(total, _EPSILON), 0.0)))


def _blurred(image, sigma):
    """A strong Gaussian blur (separable, reflected edges): insertion's starting point."""
    from numpy.lib.stride_tricks import sliding_window_view

    radius = int(3 * sigma)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    picture = np.asarray(image, dtype=np.float32)
    for axis in (0, 1):
        widths = [(0, 0)] * picture.ndim
        widths[axis] = (radius, radius)
        padded = np.pad(picture, widths, mode="reflect")
        windows = sliding_window_view(padded, len(taps), axis=axis)  # window along the last axis
        picture = (windows @ taps).astype(np.float32)
    return picture


def _class_probability(model, batch, class_index):
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
        The blur's Gaussian sigma in pixels. It must be strong enough that the
        blurred copy no longer shows the figure's shape: 10 px (the default)
        does at 150 px, where RISE's 5 px leaves most figures recognizable.
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
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    if fill not in ("black", "blur"):
        raise ValueError(f"fill must be 'black' or 'blur'; got {fill!r}.")
    pixels = heat.size
    tie_breaker = np.random.default_rng(seed_for(0) if seed is None else seed).random(pixels)
    order = np.lexsort((tie_breaker, -heat.ravel()))  # hottest first; equal heat in random order
    if not np.isfinite(blur_sigma) or blur_sigma <= 0:
        raise ValueError(f"blur_sigma must be a positive number of pixels; got {blur_sigma!r}.")
    blurred = _blurred(picture, blur_sigma)
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
    both = _class_probability(model, np.stack(deleted + inserted), class_index)  # one pass for both curves
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


def randomization_test(model, images, method=grad_cam, seed=None, **method_options):
    """Cascading model-parameter randomization (Adebayo et al. 2018).

    Starting from the output, the trainable weights of one more layer at a
    time are replaced by fresh random ones, each from its own initializer
    (kernels, depthwise and pointwise kernels, biases, a batch normalization's
    gamma and beta), on a copy of the model. After each step the maps are computed again and compared with
    the trained model's maps by Spearman rank correlation. An explanation that
    reflects what the model learned must change, so the correlation must drop.

    Parameters
    ----------
    model : keras.Model
        Not modified.
    images : array_like, shape (N, H, W, C)
    method : callable, optional
        ``method(model, images, class_index=..., **method_options)``; default :func:`grad_cam`.
        The trained model's predicted classes are explained throughout.
    seed : int, optional
        Seeds the fresh weights. Default 0, moved by ``COURSE_SEED``.

    Returns
    -------
    dict of str -> float
        Name of the deepest layer randomized so far (output first) -> mean
        Spearman correlation with the trained model's maps over the images.

    Raises
    ------
    ValueError
        If a layer's trainable weight has no initializer to draw fresh values from.
    """
    import keras

    seed = seed_for(0) if seed is None else seed
    array = _check_images(model, images)
    classes = _predicted_classes(model, array)
    reference = method(model, array, class_index=classes, **method_options)
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    correlations = {}
    trainable = [layer for layer in activations._all_layers(copy) if layer.trainable_weights]
    for step, layer in enumerate(reversed(trainable)):
        layer.set_weights(_reinitialized(layer, seed + step))
        maps = method(copy, array, class_index=classes, **method_options)
        correlations[layer.name] = float(np.mean([spearman(a, b) for a, b in zip(reference, maps)]))
    return correlations
