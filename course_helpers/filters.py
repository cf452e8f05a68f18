"""What a filter responds to: its kernel, and an image synthesized to excite it.

:func:`plot_kernels` draws first-layer kernels as tiny RGB images.
:func:`maximize` runs activation maximization: gradient ascent on the input
image, for many filters at once, as one batch in one ``tf.function``.
"""
from typing import Callable, NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from . import activations, anatomy, images, seed_for
from .arguments import check_int
from .plotting import finish
from .progress import ProgressBar

__all__ = ["plot_kernels", "maximize", "mean_activation", "total_variation", "centre_unit", "OBJECTIVES",
           "weight_change", "seen_mask"]


def plot_kernels(layer, max_kernels=16, size=0.9):
    """A first conv layer's kernels as RGB images, normalized two ways.

    Top row: each kernel scaled to [0, 1] on its own, which shows its pattern
    however weak it is. Bottom row: all kernels on one common scale, which
    shows which kernels are strong and which are nearly flat.

    Parameters
    ----------
    layer : keras.layers.Conv2D
        A layer whose input has 3 (RGB) channels.
    max_kernels : int, optional
        Show at most this many kernels. Default 16.
    size : float, optional
        Side of each panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    weights = layer.get_weights()
    if not weights or np.asarray(weights[0]).ndim != 4:
        raise ValueError(f"{layer.name} has no 2-D convolution kernel; pass a Conv2D layer.")
    kernels = np.asarray(weights[0], dtype=float)
    if kernels.shape[2] != 3:
        raise ValueError(f"{layer.name} takes {kernels.shape[2]} input channels; only a layer that sees RGB "
                         f"images (a first layer) has kernels that can be shown as colours.")
    count = min(kernels.shape[3], max_kernels)
    low, high = kernels.min(), kernels.max()
    fig, axes = plt.subplots(2, count, figsize=(size * count + 1.2, size * 2 + 0.5), squeeze=False,
                             constrained_layout=True)
    for f in range(count):
        kernel = kernels[:, :, :, f]
        spread = kernel.max() - kernel.min()
        own = (kernel - kernel.min()) / spread if spread > 0 else np.full_like(kernel, 0.5)
        common = (kernel - low) / (high - low) if high > low else np.full_like(kernel, 0.5)
        for row, picture in enumerate([own, common]):
            ax = axes[row, f]
            ax.imshow(picture, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, f].set_title(str(f), fontsize=8)
    axes[0, 0].set_ylabel("each on\nits own", fontsize=8, rotation=0, ha="right", va="center")
    axes[1, 0].set_ylabel("one common\nscale", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(f"{layer.name}: {kernels.shape[0]}x{kernels.shape[1]} RGB kernels", fontsize=10)
    return finish(fig)


def _as_indices(filter_indices):
    if isinstance(filter_indices, (int, np.integer)) and not isinstance(filter_indices, (bool, np.bool_)):
        return [int(filter_indices)]
    try:
        indices = [int(i) for i in filter_indices]
    except (TypeError, ValueError):
        raise TypeError(f"filter_indices must be an int or a list of ints; got {filter_indices!r}.") from None
    if not indices:
        raise ValueError("filter_indices is empty: name at least one filter.")
    return indices


def _auto_canvas(model, layer_name, input_side):
    """A square canvas about two receptive fields wide (at least 40 px): big enough
    for the pattern to repeat, small enough to be fast. Never larger than the
    model's input."""
    field, _ = anatomy.receptive_field(model, layer_name)
    side = int(np.ceil(max(40, 2 * field) / 8) * 8)
    return min(side, input_side)


def mean_activation(feature_maps, filter_indices, border=2):
    """Each image's mean activation of its own filter, leaving out a border.

    Parameters
    ----------
    feature_maps : array or tensor, shape (N, H, W, C)
    filter_indices : sequence of int, length N
        The filter to read for each image.
    border : int, optional
        Feature-map positions left out on each side (they see the zero padding
        or the canvas edge). Shrunk automatically for small maps.

    Returns
    -------
    tf.Tensor, shape (N,)
    """
    import tensorflow as tf

    maps = tf.convert_to_tensor(feature_maps)
    side = min(int(maps.shape[1]), int(maps.shape[2]))
    border = max(0, min(border, (side - 1) // 2))
    inner = maps[:, border:maps.shape[1] - border, border:maps.shape[2] - border, :]
    per_filter = tf.reduce_mean(inner, axis=(1, 2))
    return tf.gather(per_filter, tf.constant(list(filter_indices)), axis=1, batch_dims=1)


def total_variation(batch):
    """Mean absolute difference between neighbouring pixels, per image: (N, H, W, C) -> (N,)."""
    import tensorflow as tf

    down = tf.abs(batch[:, 1:, :, :] - batch[:, :-1, :, :])
    right = tf.abs(batch[:, :, 1:, :] - batch[:, :, :-1, :])
    return tf.reduce_mean(down, axis=(1, 2, 3)) + tf.reduce_mean(right, axis=(1, 2, 3))


def _blur(batch):
    """A light Gaussian blur (sigma 0.85 px, 3x3) of each channel of a batch, with reflected edges."""
    import tensorflow as tf

    taps = images.gaussian_taps(0.85, radius=1)
    kernel = tf.constant(np.tile(np.outer(taps, taps)[:, :, None, None], (1, 1, 3, 1)))
    padded = tf.pad(batch, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


#: What ``maximize(objective=...)`` climbs for a filter of a conv or pooling layer.
OBJECTIVES = {
    "channel": "the filter's mean over its whole feature map, a 2-position border left out",
    "neuron": "one unit: the filter's value at the centre of its feature map, row (h-1)//2, column (w-1)//2",
}


class Objective(NamedTuple):
    """What :func:`maximize` reports and what it climbs, each images (N, H, W, 3) -> (N,)."""

    report: Callable  # the value shown: a filter's real (after-ReLU) activation, or a class logit
    climb: Callable  # the value whose gradient is followed: the same before the ReLU, so a silent filter moves


def centre_unit(map_shape):
    """The centre unit of a feature map of (height, width) ``map_shape``: ``((height - 1) // 2, (width - 1) // 2)``.

    For an odd side this is the middle; for an even side, the upper (or left)
    of the two middle positions. The neuron objective of :func:`maximize`
    climbs this unit.
    """
    height, width = (int(s) for s in map_shape)
    return (height - 1) // 2, (width - 1) // 2


def _units(objective, map_shape, border=2):
    """The units of a (height, width) map that the objective reads, per axis (first, last): the map without
    a ``border`` (shrunk for small maps, as in :func:`mean_activation`) for "channel", the centre unit for
    "neuron"."""
    height, width = (int(s) for s in map_shape)
    if objective == "neuron":
        row, column = centre_unit(map_shape)
        return (row, row), (column, column)
    edge = max(0, min(border, (min(height, width) - 1) // 2))
    return (edge, height - 1 - edge), (edge, width - 1 - edge)


def _selector(objective, indices, channels, map_shape, units=None):
    """feature maps (N, h, w, C) -> (N,): for image n, filter ``indices[n]``'s mean over the ``units``
    (per axis (first, last); default: :func:`_units`) for "channel", as :func:`mean_activation`, or its
    single unit for "neuron".

    The filter is picked by a one-hot product rather than a gather: the same
    values (the other channels add exact zeros), and a cheaper gradient to trace."""
    import tensorflow as tf

    pick = tf.one_hot(indices, channels, dtype=tf.float32)
    (top, bottom), (left, right) = units or _units(objective, map_shape)
    if objective == "neuron":
        def select(maps):
            return tf.reduce_sum(maps[:, top, left, :] * pick, axis=1)
    else:
        def select(maps):
            inner = maps[:, top:bottom + 1, left:right + 1, :]
            return tf.reduce_sum(tf.reduce_mean(inner, axis=(1, 2)) * pick, axis=1)
    return select


def _input_window(model, layer_name, canvas, units):
    """The part of the canvas that ``units`` (per axis (first, last)) of ``layer_name`` see, as (row slice,
    column slice), or None.

    Only for a chain of 'valid' conv and pooling layers and pointwise layers
    up to ``layer_name``: there, unit i of the layer sees input pixels
    ``jump * i`` to ``jump * i + field - 1``, and a window that starts at a
    multiple of the jump puts every layer's windows where they are on the
    whole canvas, so the layer computes the same values for those units from
    the window alone (and the pixels outside get exactly zero gradient either
    way). None for anything else ('same' padding, resizing, ...), or when the
    window is the whole canvas.
    """
    leaves, index = anatomy.leaf_index(model, layer_name)
    field, jump = [1, 1], [1, 1]
    for layer in leaves[: index + 1]:
        kind = type(layer).__name__
        if kind in anatomy.POINTWISE_TYPES:
            continue
        if kind not in anatomy.SPATIAL_TYPES or str(getattr(layer, "padding", "")).lower() != "valid" \
                or getattr(layer, "data_format", "channels_last") != "channels_last":
            return None
        kernel = getattr(layer, "kernel_size", None) or layer.pool_size
        dilation = getattr(layer, "dilation_rate", (1, 1))
        for axis in (0, 1):
            field[axis] += (kernel[axis] - 1) * dilation[axis] * jump[axis]
            jump[axis] *= layer.strides[axis]
    window = tuple(slice(first * jump[axis], last * jump[axis] + field[axis])
                   for axis, (first, last) in enumerate(units))
    if any(part.stop > side for part, side in zip(window, canvas)) or \
            all(part.start == 0 and part.stop == side for part, side in zip(window, canvas)):
        return None
    return window


def _objective(model, layer_name, indices, image_size, objective="channel"):
    """(:class:`Objective`, canvas (H, W)) for a filter of a layer, or for a class of the output layer."""
    import tensorflow as tf

    output_layer = model.layers[-1]
    # A model built for any image size (None) has no natural canvas: 224 px at most then.
    input_side = tuple(int(s) if s is not None else 224 for s in model.inputs[0].shape[1:3])
    if layer_name == output_layer.name and type(output_layer).__name__ == "Dense":
        if objective != "channel":
            raise ValueError(f"objective={objective!r} is for a filter of a conv or pooling layer; a class of the "
                             f"output layer is one number already (its logit): leave objective out.")
        penultimate, end = anatomy.body_model(model)
        units = int(model.outputs[0].shape[-1])
        classes = range(2) if units == 1 else range(units)
        bad = [i for i in indices if i not in classes]
        if bad:
            names = "0 (horse) or 1 (human)" if units == 1 else f"0 to {units - 1}"
            raise ValueError(f"class index {bad[0]} does not exist: for the output layer use {names}.")
        if image_size is not None and tuple(np.broadcast_to(image_size, 2)) != input_side:
            raise ValueError(f"a class is visualized through the whole model, so the image must be the model's "
                             f"input size {input_side}; leave image_size out.")
        if units == 1:
            signs = tf.constant([1.0 if i == 1 else -1.0 for i in indices])

            def class_score(batch):  # the pre-sigmoid logit, signed: positive means "more human"
                return signs * end.logits(penultimate(batch))[:, 0]
        else:
            def class_score(batch):  # the chosen class's pre-softmax logit
                return tf.gather(end.logits(penultimate(batch)), tf.constant(indices), axis=1, batch_dims=1)

        return Objective(class_score, class_score), input_side

    anatomy.check_layer_names(model, [layer_name])
    if image_size is None:
        side = _auto_canvas(model, layer_name, min(input_side))
        canvas = (side, side)
    else:
        canvas = tuple(int(s) for s in np.broadcast_to(image_size, 2))
    try:
        extractor = activations.feature_extractor(model, [layer_name], image_shape=canvas + (3,))
    except ValueError:
        if canvas != input_side:
            raise ValueError(f"this model cannot be run on a {canvas} canvas; use image_size={input_side}.") from None
        raise
    maps_shape = extractor.outputs[0].shape
    channels = int(maps_shape[-1])
    bad = [i for i in indices if not 0 <= i < channels]
    if bad:
        raise ValueError(f"{layer_name} has filters 0 to {channels - 1}; got filter index {bad[0]}.")
    units = _units(objective, maps_shape[1:3])
    select = _selector(objective, indices, channels, maps_shape[1:3], units)

    def filter_activation(batch):  # what is reported: the layer's real output
        return select(extractor(batch)[layer_name])

    # What is climbed: the same, before the ReLU, so a silent filter still has a gradient.
    return Objective(filter_activation, _before_relu(model, layer_name, canvas, objective, indices, units, select)), \
        canvas


def _before_relu(model, layer_name, canvas, objective, indices, units, select):
    """images (N, H, W, 3) -> (N,): the objective read from the layer's output before its ReLU.

    The objective reads only some units of the map. Where the layers allow it
    (:func:`_input_window`), the model runs on the part of the canvas those
    units see and on nothing else: the same values, for a fraction of the work
    at every step (for conv3 of the course's model, 22 x 22 of the 40 x 40
    pixels; for one neuron, its receptive field)."""
    window = _input_window(model, layer_name, canvas, units)
    if window is not None:
        rows, columns = window
        inside = anatomy.pre_activation_model(model, layer_name, (rows.stop - rows.start, columns.stop - columns.start, 3))
        counts = tuple(last - first + 1 for first, last in units)
        maps_shape = inside.outputs[0].shape
        if tuple(maps_shape[1:3]) == counts:  # the window's map is exactly the units read
            select_inside = _selector(objective, indices, int(maps_shape[-1]), counts,
                                      ((0, counts[0] - 1), (0, counts[1] - 1)))

            def from_window(batch):
                return select_inside(inside(batch[:, rows, columns, :])[layer_name])

            return from_window
    climbable = anatomy.pre_activation_model(model, layer_name, canvas + (3,))

    def from_canvas(batch):
        return select(climbable(batch)[layer_name])

    return from_canvas


def _adam(variable, gradient, momentum, velocity, number, learning_rate, beta_1=0.9, beta_2=0.999,
          epsilon=1e-7):
    """One step of Adam on ``variable`` (step ``number``, from 1), as ``keras.optimizers.Adam`` (Keras 3)
    computes it, operation for operation (so the same numbers), without the optimizer's own machinery, which
    is slow to trace and kept memory alive after every call."""
    import tensorflow as tf

    local_step = tf.cast(number, variable.dtype)
    beta_1_power = tf.pow(tf.constant(beta_1, variable.dtype), local_step)
    beta_2_power = tf.pow(tf.constant(beta_2, variable.dtype), local_step)
    alpha = learning_rate * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    momentum.assign_add((gradient - momentum) * (1 - beta_1))
    velocity.assign_add((tf.square(gradient) - velocity) * (1 - beta_2))
    variable.assign_sub((momentum * alpha) / (tf.sqrt(velocity) + epsilon))


def maximize(model, layer_name, filter_indices, steps=100, learning_rate=0.05, image_size=None, jitter=0,
             blur_every=0, l2=0.0, tv=0.0, seed=None, progress=True, objective="channel"):
    """Synthesize images that excite chosen filters, by gradient ascent on the pixels.

    Every requested filter gets its own image; all images are optimized
    together, as one batch, by one compiled ``tf.function`` (Adam on the
    pixels, which are kept in [0, 1]). With the default objective, image n
    climbs the mean activation of filter ``filter_indices[n]`` over its feature
    map, with a 2-position border left out, minus the regularization
    penalties; with ``objective="neuron"``, the activation of one unit of that
    filter, the one at the centre of the feature map. The climb uses the
    activation before the ReLU, so a filter that is silent on the grey start
    image still has a gradient; ``final_activation`` reports the real output.
    For a chain of 'valid' conv and pooling layers (the course's model), the
    climb runs the model only on the part of the canvas that the units it
    reads can see: the same values and gradients, for less work.

    Parameters
    ----------
    model : keras.Model
        A Sequential or functional model, possibly with a nested base model.
    layer_name : str
        A conv or pooling layer; or the model's output layer, to visualize a class.
    filter_indices : int or sequence of int
        Filters of that layer. For the output layer of the horse-or-human model,
        class indices: 1 maximizes the pre-sigmoid logit ("human"), 0 its
        negative ("horse"). For a softmax output, the class logits.
    steps : int, optional
        Gradient steps. Default 100.
    learning_rate : float, optional
        Adam's step size, in pixel values (0 to 1). Default 0.05.
    image_size : int or (int, int), optional
        The canvas. Default: about two receptive fields of the layer (at
        least 40 px, at most the model's input). The output layer always uses the
        model's input size.
    jitter : int, optional
        Shift the image by up to this many pixels, at random, at every step.
    blur_every : int, optional
        Blur the image slightly every this many steps (0: never).
    l2 : float, optional
        Weight of a penalty on the pixels' distance from mid-grey.
    tv : float, optional
        Weight of a total-variation penalty (differences between neighbours).
    seed : int, optional
        The same seed gives the same images. Default 0, moved by ``COURSE_SEED``.
    progress : bool, optional
        Show a progress bar. Default True.
    objective : {"channel", "neuron"}, optional
        What is climbed for a filter. "channel" (the default): the filter's
        mean over its feature map, a 2-position border left out: the image
        fills with the pattern, repeated. "neuron": one unit of the filter, the
        one at the centre of its feature map, row ``(h - 1) // 2`` and column
        ``(w - 1) // 2`` of an h x w map (for an even side, the upper or left of
        the two middle positions; see :func:`centre_unit`). Only the pixels that
        unit sees (its receptive field) get a gradient from it, so, without
        ``jitter``, ``blur_every``, ``l2`` or ``tv``, every other pixel keeps
        its start value. Not for the output layer, whose classes are single
        units already.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``images``: float32 (N, H, W, 3) in [0, 1]; ``final_activation``: float32
        (N,), each image's objective (without penalties) at the end.
    """
    import tensorflow as tf

    indices = _as_indices(filter_indices)
    steps, jitter, blur_every = check_int(steps, "steps", 1), check_int(jitter, "jitter", 0), \
        check_int(blur_every, "blur_every", 0)
    for name, value in [("learning_rate", learning_rate), ("l2", l2), ("tv", tv)]:
        if not np.isfinite(value) or value < 0 or (name == "learning_rate" and value == 0):
            raise ValueError(f"{name} must be a non-negative number (learning_rate above 0); got {value!r}.")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}; got {objective!r}.")
    target, (height, width) = _objective(model, layer_name, indices, image_size, objective)

    generator = tf.random.Generator.from_seed(seed_for(0) if seed is None else seed)
    pixels = tf.Variable(generator.uniform((len(indices), height, width, 3), 0.4, 0.6))
    momentum, velocity = tf.Variable(tf.zeros_like(pixels)), tf.Variable(tf.zeros_like(pixels))
    rate = tf.constant(learning_rate, tf.float32)
    # Terms that are switched off are left out of the traced graph altogether.
    use_jitter, use_blur, use_l2, use_tv = jitter > 0, blur_every > 0, l2 > 0, tv > 0

    def step(number):
        # Only the pixels are watched: the model's weights need no gradient, and their ops stay off the tape.
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(pixels)
            if use_jitter:
                shift = generator.uniform((2,), -jitter, jitter + 1, dtype=tf.int32)
                seen = tf.roll(pixels, shift, axis=[1, 2])
            else:
                seen = pixels
            loss = -tf.reduce_sum(target.climb(seen))
            if use_l2:
                loss += l2 * tf.reduce_sum(tf.reduce_mean(tf.square(pixels - 0.5), axis=(1, 2, 3)))
            if use_tv:
                loss += tv * tf.reduce_sum(total_variation(pixels))
        _adam(pixels, tape.gradient(loss, pixels), momentum, velocity, number, rate)
        if use_blur:
            blur_now = tf.equal(tf.math.floormod(number, blur_every), 0)
            pixels.assign(tf.cond(blur_now, lambda: _blur(pixels), lambda: tf.identity(pixels)))
        pixels.assign(tf.clip_by_value(pixels, 0.0, 1.0))

    # One compiled step, traced once (the step number is a tensor), called once per step: quicker to trace
    # and to start than a graph loop over the steps, and each call costs only a fraction of a millisecond.
    compiled = tf.function(step, autograph=False)
    kind = "class" if target.climb is target.report else "filter"
    what = f"{len(indices)} {kind}{'es' if kind == 'class' and len(indices) != 1 else 's' if len(indices) != 1 else ''}"
    what += f" of {layer_name}"
    bar = ProgressBar(steps, f"maximizing {what}") if progress else None
    chunk = max(1, steps // 10)  # the bar moves about ten times, whatever the number of steps
    for number in range(1, steps + 1):
        compiled(tf.constant(number))
        if bar and (number % chunk == 0 or number == steps):
            bar.update(number)
    if bar:
        bar.close()
    final = target.report(tf.convert_to_tensor(pixels))
    return pixels.numpy().astype(np.float32), np.asarray(final, dtype=np.float32)


def weight_change(model, reference, layer_names):
    """How far each layer's kernel moved from a reference copy, as a share of the reference's length.

    Parameters
    ----------
    model, reference : keras.Model
        Two models with the same architecture, e.g. a trained model and the
        untrained copy it started from.
    layer_names : sequence of str
        Layers with a kernel (conv or dense) in both.

    Returns
    -------
    dict of str -> float
        For each layer, ``||W_model - W_reference|| / ||W_reference||`` over all
        its kernel weights (the bias left out): 0 for no change, 1 for a
        change as long as the reference kernel itself.
    """
    changes = {}
    for name in layer_names:
        moved = np.asarray(model.get_layer(name).get_weights()[0], dtype=float)
        start = np.asarray(reference.get_layer(name).get_weights()[0], dtype=float)
        if moved.shape != start.shape:
            raise ValueError(f"{name} has kernels of shape {moved.shape} in one model and {start.shape} in the "
                             f"other: pass two models with the same architecture.")
        changes[name] = float(np.linalg.norm(moved - start) / np.linalg.norm(start))
    return changes


def seen_mask(model, layer_name, canvas, objective="channel", border=2):
    """The pixels of a square canvas that the units read by :func:`maximize`'s objective can see.

    Uses the rule of notebook 2: on a chain of 'valid' conv and pooling
    layers, unit i of a row sees input pixels ``i * jump`` to
    ``i * jump + field - 1``. The units read are those of :func:`maximize`:
    the feature map without a ``border`` for ``objective="channel"``, the
    :func:`centre_unit` for ``objective="neuron"``.

    Parameters
    ----------
    model : keras.Model
        A model whose layers up to ``layer_name`` are 'valid' convs and poolings
        (and pointwise layers), like the course's classifier.
    layer_name : str
        A conv or pooling layer.
    canvas : int
        The side of the square canvas, in pixels (e.g. ``images.shape[1]``).
    objective : {"channel", "neuron"}, optional
    border : int, optional
        Feature-map positions left out on each side for "channel", as in
        :func:`maximize`.

    Returns
    -------
    numpy.ndarray of bool, shape (canvas, canvas)
        True for the pixels those units see, e.g. to pass as an outline to
        :func:`course_helpers.plotting.show_images`.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {tuple(OBJECTIVES)}, not {objective!r}.")
    canvas = check_int(canvas, "canvas", minimum=1)
    field, jump = anatomy.receptive_field(model, layer_name)
    if canvas < field:
        raise ValueError(f"a {canvas} px canvas is smaller than one unit of {layer_name} sees ({field} px).")
    units = (canvas - field) // jump + 1
    (first, last), _ = _units(objective, (units, units), border)
    mask = np.zeros((canvas, canvas), bool)
    mask[first * jump:last * jump + field, first * jump:last * jump + field] = True
    return mask
