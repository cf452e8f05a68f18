"""The anatomy of a Keras image model: its layers, its head, where to split it, where its units look.

Every tool of the course that looks inside a model (``activations``,
``filters``, ``cam``, ``widgets``) asks this module, and only this module, how
the model is built:

* :func:`all_layers`, :func:`list_layers`, :func:`check_layer_names`: the layers
  in order, nested base models (a pretrained network used as a layer) included;
* :func:`submodel`: a model from the input to chosen inner layers, optionally
  with some activations left out (to climb gradients that a ReLU would zero);
* :func:`head`, :func:`body_model`: the last layer and the logits it computes
  before its sigmoid or softmax, from the layer's own weights;
* :func:`default_layer`, :func:`split_at`: the conv layer to explain, and the
  model split there through its own graph;
* :func:`chain_layers`: the layers of a model that is one chain, to apply one by one;
* :func:`centres_of`, :func:`unit_centres`, :func:`receptive_field`: where a
  layer's units sit in the input image, and how much of it each one sees.

Nothing here changes the model it is given.
"""
from typing import Callable, NamedTuple

from . import conv

__all__ = [
    "is_model",
    "all_layers",
    "list_layers",
    "check_layer_names",
    "contains",
    "submodel",
    "pre_activation_model",
    "Head",
    "head",
    "body_model",
    "default_layer",
    "leaf_index",
    "chain_layers",
    "Split",
    "split_at",
    "centres_of",
    "unit_centres",
    "receptive_field",
]

#: Layers whose outputs are images (feature maps), as listed by default.
VISUAL_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D")
#: Layers that move or resample the grid, with a kernel (or pool) size and strides.
SPATIAL_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D")
#: Layers that keep every unit where it is.
POINTWISE_TYPES = ("InputLayer", "Activation", "ReLU", "LeakyReLU", "ELU", "BatchNormalization",
                   "LayerNormalization", "Dropout", "SpatialDropout2D", "Rescaling", "Normalization", "RandomFlip",
                   "RandomRotation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomTranslation",
                   "GaussianNoise")
CONV_TYPES = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")


# ----------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------
def is_model(layer):
    """True for a whole model used as a layer (a nested base model)."""
    import keras

    return isinstance(layer, keras.Model)


def all_layers(model):
    """Every layer, nested models' layers included, in order (input layers left out).

    Returns
    -------
    list of keras.layers.Layer
    """
    found = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if is_model(layer):
            found += all_layers(layer)
        else:
            found.append(layer)
    return found


def list_layers(model, visual_only=True):
    """Names of the model's layers, nested models included.

    Parameters
    ----------
    model : keras.Model
    visual_only : bool, optional
        Only conv and pooling layers (those whose outputs are images). Default True.

    Returns
    -------
    list of str
    """
    return [layer.name for layer in all_layers(model)
            if not visual_only or type(layer).__name__ in VISUAL_TYPES]


def check_layer_names(model, names):
    """Raise a ValueError that lists the valid names if any of ``names`` is not a layer of ``model``."""
    valid = list_layers(model, visual_only=False)
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise ValueError(f"the model has no layer named {', '.join(map(repr, unknown))}. Valid names: {valid}.")


def contains(model, names):
    """True if any layer of ``model`` (nested ones included) has one of ``names``."""
    return any(layer.name in names for layer in all_layers(model))


def _without_activation(layer):
    """A copy of ``layer`` that shares its weights but skips its activation function."""
    linear = type(layer).from_config({**layer.get_config(), "activation": None, "name": f"{layer.name}_linear"})
    linear.build(layer.input.shape)
    linear.set_weights(layer.get_weights())
    return linear


def _walk(layers, tensor, wanted, captured, linear=(), stop_early=True):
    """Apply ``layers`` in order to ``tensor``, descending into nested models; keep wanted outputs.

    Layers named in ``linear`` are applied without their activation function.
    With ``stop_early``, the walk ends once every wanted output is captured.
    """
    for layer in layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if is_model(layer) and contains(layer, wanted):
            tensor = _walk(layer.layers, tensor, wanted, captured, linear, stop_early)
        elif layer.name in linear:
            tensor = _without_activation(layer)(tensor)
        else:
            tensor = layer(tensor)
        if layer.name in wanted:
            captured[layer.name] = tensor
        if stop_early and len(captured) == len(wanted):
            break
    return tensor


def submodel(model, layer_names, image_shape=None, without_activation=()):
    """A new model from an input to the outputs of the named layers, built from ``model``'s layers.

    The layers are applied one after the other (nested models are entered), so
    this works for a chain of layers such as the course's classifier or VGG16,
    for any ``image_shape`` the layers accept. The weights are shared.

    Parameters
    ----------
    model : keras.Model
    layer_names : sequence of str
    image_shape : tuple, optional
        (H, W, C). Default: the model's own input shape.
    without_activation : set of str, optional
        Layers applied without their activation function (copies sharing the weights).

    Returns
    -------
    keras.Model
        Its output is a dict {layer name: tensor}, in the order of ``layer_names``.

    Raises
    ------
    ValueError
        For an unknown layer name, or a model that is not a chain of layers.
    """
    import keras

    layer_names = list(layer_names)
    check_layer_names(model, layer_names)
    if len(model.inputs) != 1:
        raise ValueError("only a model with one input can be rebuilt layer by layer.")
    inputs = keras.Input(shape=tuple(image_shape or model.inputs[0].shape[1:]))
    captured = {}
    try:
        _walk(model.layers, inputs, set(layer_names), captured, set(without_activation))
    except (ValueError, TypeError) as error:
        raise ValueError(f"could not rebuild the model as a chain of layers up to {layer_names} ({error}). "
                         f"Reaching into nested models works when they are simple chains, like VGG16.") from None
    return keras.Model(inputs, {name: captured[name] for name in layer_names})


def pre_activation_model(model, layer_name, image_shape):
    """A model of one layer's output with the ReLU before it removed.

    For a conv layer, its own activation is skipped; for a pooling layer, the
    activation of the conv layer feeding it (max pooling and ReLU commute, so
    nothing else changes). Gradients of this output do not vanish where the
    ReLU would have been silent.

    Returns
    -------
    keras.Model
        Input (batch,) + ``image_shape`` -> the layer's pre-activation output.
    """
    chain = all_layers(model)
    names = [layer.name for layer in chain]
    check_layer_names(model, [layer_name])
    position = names.index(layer_name)
    # Only layers with an activation function can be copied without it (a pooling layer has none).
    if hasattr(chain[position], "activation"):
        linear = {layer_name}
    elif position > 0 and hasattr(chain[position - 1], "activation"):
        linear = {names[position - 1]}
    else:
        linear = set()
    return submodel(model, [layer_name], image_shape, linear)


# ----------------------------------------------------------------------------
# The head: logits from the model's own weights
# ----------------------------------------------------------------------------
class Head(NamedTuple):
    """The end of a classifier: its last layer, the logits it computes, and its activation."""

    layer: object  # the last layer, or None when the model already outputs logits
    logits: Callable  # the last layer's input -> logits, from the layer's own kernel and bias
    activation: str  # "sigmoid" or "softmax"


def _final_layer(model):
    """The layer that computes the model's output, inside nested models if the last layer is one."""
    last = model.layers[-1]
    while is_model(last) and last.layers:
        last = last.layers[-1]
    return last


def head(model):
    """The last layer of a classifier, and a function that gives its logits.

    The logits are computed from the last layer's own kernel and bias when that
    layer ends in a sigmoid or softmax; the layer itself is left as it is. A
    separate ``Activation("sigmoid")``, ``Activation("softmax")`` or
    ``Softmax()`` layer is skipped. When the model's last layer is itself a
    model (a classifier head kept as a nested ``Sequential``), its last layer
    is used. A model with a linear output already outputs logits (``layer``
    is None).

    Returns
    -------
    Head

    Raises
    ------
    ValueError
        If the model ends in anything else.
    """
    import tensorflow as tf

    last = _final_layer(model)
    kind = type(last).__name__
    activation = "softmax" if kind == "Softmax" else getattr(getattr(last, "activation", None), "__name__", "linear")
    if kind == "Dense" and activation in ("sigmoid", "softmax"):
        kernel, bias = last.kernel, last.bias

        def logits(body):
            value = tf.matmul(body, kernel)
            return value + bias if bias is not None else value

        return Head(last, logits, activation)
    if kind in ("Activation", "Softmax") and activation in ("sigmoid", "softmax"):
        return Head(last, lambda body: body, activation)
    if activation == "linear":
        units = int(model.outputs[0].shape[-1])
        return Head(None, lambda body: body, "sigmoid" if units == 1 else "softmax")
    raise ValueError(f"the model ends in {kind} with a {activation!r} activation; the logits must come before "
                     f"a sigmoid or softmax, or be the model's linear output.")


def _apply_all_but(layers, tensor, final):
    """Apply ``layers`` in order, entering nested models, and stop before the layer ``final``."""
    for layer in layers:
        if layer is final:
            return tensor, True
        if type(layer).__name__ == "InputLayer":
            continue
        if is_model(layer) and final in all_layers(layer):
            return _apply_all_but(layer.layers, tensor, final)
        tensor = layer(tensor)
    return tensor, False


def body_model(model):
    """(keras.Model from the input to what the head turns into logits, :class:`Head`)."""
    import keras

    end = head(model)
    if end.layer is None:
        return keras.Model(model.inputs[0], model.outputs[0]), end
    if end.layer is model.layers[-1]:
        return keras.Model(model.inputs[0], end.layer.input), end
    # The head is inside a nested model: rebuild the chain of layers up to it (the weights are shared).
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]))
    try:
        body, reached = _apply_all_but(model.layers, inputs, end.layer)
    except (ValueError, TypeError) as error:
        reached, body = False, error
    if not reached:
        raise ValueError(f"the model's output layer {end.layer.name!r} sits inside a nested model that cannot be "
                         f"rebuilt as a chain of layers ({body if isinstance(body, Exception) else 'not reached'}); "
                         f"put the classifier's last Dense layer at the top level of the model.")
    return keras.Model(inputs, body), end


# ----------------------------------------------------------------------------
# Splitting the model at a layer
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
    for layer in reversed(model.layers):
        if type(layer).__name__ in CONV_TYPES:
            return layer.name
        if is_model(layer) and any(type(inner).__name__ == "Conv2D" for inner in all_layers(layer)):
            return layer.name
    raise ValueError("the model has no convolution layer, so there is no feature map to explain; "
                     "Grad-CAM needs a CNN (saliency works on any model).")


def leaf_index(model, layer_name):
    """(every layer in order, nested models flattened; the position of ``layer_name`` in it).

    Naming a nested model means its output, i.e. its last layer.
    """
    leaves = all_layers(model)
    names = [layer.name for layer in leaves]
    if layer_name in names:
        return leaves, names.index(layer_name)
    for layer in model.layers:
        if layer.name == layer_name and is_model(layer):
            return leaves, names.index(all_layers(layer)[-1].name)
    valid = names + [layer.name for layer in model.layers if is_model(layer)]
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
    nodes, previous = _graph_nodes(model), None
    for layer in [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]:
        node = nodes.get(layer)
        parents = [] if node is None else [parent.operation for parent in node.parent_nodes]
        if previous is None:
            follows = len(parents) == 1 and type(parents[0]).__name__ == "InputLayer"
        else:
            follows = parents == [previous]
        if not follows or (is_model(layer) and not _is_chain_model(layer)):
            return False
        previous = layer
    return True


def chain_layers(model):
    """Every layer of a model that is one chain of layers, in order, nested models flattened.

    In a chain each layer takes exactly the previous one's output (the
    course's classifier, VGG16 used as a base model), so applying the layers
    one by one to a batch computes the model's output, and adds nothing to its graph.

    Returns
    -------
    list of keras.layers.Layer
        As :func:`all_layers`.

    Raises
    ------
    ValueError
        If the model has several inputs or outputs, or branches anywhere
        (a residual connection, for example).
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("only a model with one input and one output can be applied layer by layer.")
    if not _is_chain_model(model):
        raise ValueError("the model branches (a residual connection, for example), so it cannot be applied "
                         "layer by layer; this needs a chain of layers, such as the course's classifier or VGG16.")
    return all_layers(model)


class Split(NamedTuple):
    """A model split at a layer: images -> feature maps -> the head's input -> logits."""

    to_features: Callable  # images (N, H, W, C) -> the layer's feature maps; takes training=
    to_body: Callable  # feature maps -> what the head turns into logits; takes training=
    to_logits: Callable  # that -> logits, from the last layer's own weights
    activation: str  # "sigmoid" or "softmax"


def split_at(model, layer_name):
    """Split the model at a layer, through its own graph.

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

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        If the model has several inputs or outputs, the layer is unknown or
        not a feature map, or the network branches after it. The message says
        which layer to use instead.
    """
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("these explanation methods handle models with one input and one output.")
    end = head(model)
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
        leaves, index = leaf_index(model, layer_name)
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
    if end.layer is not None:
        rest = rest[:-1]  # the head turns the body into logits itself
    if len(feature_shape) != 4:
        raise ValueError(f"{layer_name!r} gives outputs of shape {feature_shape}, not feature maps; "
                         f"choose a conv layer.")

    def to_body(feature_maps, training=False):
        for layer in rest:  # applied one by one on tensors: nothing is added to the model's graph
            feature_maps = layer(feature_maps, training=training)
        return feature_maps

    return Split(to_features, to_body, end.logits, end.activation)


# ----------------------------------------------------------------------------
# Geometry: where units sit and what they see
# ----------------------------------------------------------------------------
def centres_of(layers, input_size):
    """Where the units of the last of ``layers`` sit in the input, per axis: (offset, jump) pairs.

    Unit i of the layer is centred on input pixel offset + jump * i. For 'valid'
    layers the offset grows by half a kernel per layer (the first conv5 unit of
    the course's model is centred on pixel 38.5, not 0).

    Parameters
    ----------
    layers : sequence of keras layers
        From the input up to the layer of interest.
    input_size : (int, int)
        The input's (height, width).

    Returns
    -------
    list of two (float, float), or None
        None if a layer that changes the geometry in an unknown way is on the way
        (a merge layer of a residual block, padding, resizing).
    """
    offset, jump, size = [0.0, 0.0], [1.0, 1.0], list(input_size)
    for layer in layers:
        kind = type(layer).__name__
        if kind in POINTWISE_TYPES:
            continue
        if kind not in SPATIAL_TYPES:
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


def unit_centres(model, layer_name, image_size=None):
    """Where the units of a layer sit in the input image: ``[(offset, step), (offset, step)]``.

    Unit i along an axis is centred on input pixel ``offset + step * i``
    (rows first, then columns). For the course's classifier, conv5 gives
    ``[(38.5, 16.0), (38.5, 16.0)]``. None if a layer on the way changes the
    geometry in a way this does not know (e.g. a Resizing layer).
    ``image_size`` (height, width) is needed only for a model that takes any
    size (its input shape has None); default: the model's input size.
    """
    leaves, index = leaf_index(model, layer_name)
    size = tuple(image_size) if image_size is not None else tuple(model.inputs[0].shape[1:3])
    if None in size:
        raise ValueError(f"the model takes images of any size; pass image_size=(height, width).")
    return centres_of(leaves[: index + 1], size)


def receptive_field(model, layer_name):
    """The side, in input pixels, of what one unit of ``layer_name`` sees, and the jump between units.

    Follows the conv and pooling layers from the input (rows; the course's
    layers are square) with :func:`course_helpers.conv.receptive_field`. For the
    course's classifier: 3, 8, 18, 38 and 78 pixels for conv1 to conv5.

    Returns
    -------
    (int, int)
        ``(size, jump)``.
    """
    leaves, index = leaf_index(model, layer_name)
    stack = []
    for layer in leaves[: index + 1]:
        kind = type(layer).__name__
        sizes = [tuple(getattr(layer, name)) for name in ("kernel_size", "pool_size", "strides", "dilation_rate")
                 if isinstance(getattr(layer, name, None), (tuple, list))]
        if any(len(set(size)) > 1 for size in sizes):
            raise ValueError(f"layer {layer.name!r} is not square ({', '.join(map(str, sizes))}): the course "
                             f"follows receptive fields of square kernels, pools and strides only.")
        if kind in CONV_TYPES:
            extent = (layer.kernel_size[0] - 1) * getattr(layer, "dilation_rate", (1, 1))[0] + 1
            stack.append((extent, layer.strides[0]))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            stack.append((layer.pool_size[0], layer.strides[0]))
    return conv.receptive_field(stack or [(1, 1)])
