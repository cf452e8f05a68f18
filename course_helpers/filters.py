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

__all__ = ["plot_kernels", "maximize", "mean_activation", "total_variation"]


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


class Objective(NamedTuple):
    """What :func:`maximize` reports and what it climbs, each images (N, H, W, 3) -> (N,)."""

    report: Callable  # the value shown: a filter's real (after-ReLU) mean activation, or a class logit
    climb: Callable  # the value whose gradient is followed: the same before the ReLU, so a silent filter moves


def _objective(model, layer_name, indices, image_size):
    """(:class:`Objective`, canvas (H, W)) for a filter of a layer, or for a class of the output layer."""
    import tensorflow as tf

    output_layer = model.layers[-1]
    # A model built for any image size (None) has no natural canvas: 224 px at most then.
    input_side = tuple(int(s) if s is not None else 224 for s in model.inputs[0].shape[1:3])
    if layer_name == output_layer.name and type(output_layer).__name__ == "Dense":
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
        climbable = anatomy.pre_activation_model(model, layer_name, canvas + (3,))
    except ValueError:
        if canvas != input_side:
            raise ValueError(f"this model cannot be run on a {canvas} canvas; use image_size={input_side}.") from None
        raise
    channels = int(extractor.outputs[0].shape[-1])
    bad = [i for i in indices if not 0 <= i < channels]
    if bad:
        raise ValueError(f"{layer_name} has filters 0 to {channels - 1}; got filter index {bad[0]}.")

    def filter_activation(batch):  # what is reported: the layer's real output
        return mean_activation(extractor(batch)[layer_name], indices)

    def before_relu(batch):  # what is climbed: the same, before the ReLU, so a silent filter still has a gradient
        return mean_activation(climbable(batch)[layer_name], indices)

    return Objective(filter_activation, before_relu), canvas


def maximize(model, layer_name, filter_indices, steps=100, learning_rate=0.05, image_size=None, jitter=0,
             blur_every=0, l2=0.0, tv=0.0, seed=None, progress=True):
    """Synthesize images that excite chosen filters, by gradient ascent on the pixels.

    Every requested filter gets its own image; all images are optimized
    together, as one batch, by one ``tf.function`` step (Adam on the pixels,
    which are kept in [0, 1]). The objective for image n is the mean activation
    of filter ``filter_indices[n]`` over its feature map, with a 2-position
    border left out, minus the regularization penalties. The climb uses the
    activation before the ReLU, so a filter that is silent on the grey start
    image still has a gradient; ``final_activation`` reports the real output.

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

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``images``: float32 (N, H, W, 3) in [0, 1]; ``final_activation``: float32
        (N,), each image's objective (without penalties) at the end.
    """
    import keras
    import tensorflow as tf

    indices = _as_indices(filter_indices)
    steps, jitter, blur_every = check_int(steps, "steps", 1), check_int(jitter, "jitter", 0), \
        check_int(blur_every, "blur_every", 0)
    for name, value in [("learning_rate", learning_rate), ("l2", l2), ("tv", tv)]:
        if not np.isfinite(value) or value < 0 or (name == "learning_rate" and value == 0):
            raise ValueError(f"{name} must be a non-negative number (learning_rate above 0); got {value!r}.")
    objective, (height, width) = _objective(model, layer_name, indices, image_size)

    generator = tf.random.Generator.from_seed(seed_for(0) if seed is None else seed)
    pixels = tf.Variable(generator.uniform((len(indices), height, width, 3), 0.4, 0.6))
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build([pixels])  # its state now exists, so tracing the step below is quicker
    # Terms that are switched off are left out of the traced graph altogether.
    use_jitter, use_blur, use_l2, use_tv = jitter > 0, blur_every > 0, l2 > 0, tv > 0

    def step(number):
        with tf.GradientTape() as tape:
            if use_jitter:
                shift = generator.uniform((2,), -jitter, jitter + 1, dtype=tf.int32)
                seen = tf.roll(pixels, shift, axis=[1, 2])
            else:
                seen = pixels
            loss = -tf.reduce_sum(objective.climb(seen))
            if use_l2:
                loss += l2 * tf.reduce_sum(tf.reduce_mean(tf.square(pixels - 0.5), axis=(1, 2, 3)))
            if use_tv:
                loss += tv * tf.reduce_sum(total_variation(pixels))
        optimizer.apply_gradients([(tape.gradient(loss, pixels), pixels)])
        if use_blur:
            blur_now = tf.equal(tf.math.floormod(number, blur_every), 0)
            pixels.assign(tf.cond(blur_now, lambda: _blur(pixels), lambda: tf.identity(pixels)))
        pixels.assign(tf.clip_by_value(pixels, 0.0, 1.0))

    @tf.function
    def run(first, last):
        # Several steps per call: the Python loop below only updates the progress bar.
        for number in tf.range(first, last):
            step(number)

    chunk = max(1, steps // 10)
    kind = "class" if objective.climb is objective.report else "filter"
    what = f"{len(indices)} {kind}{'es' if kind == 'class' and len(indices) != 1 else 's' if len(indices) != 1 else ''}"
    what += f" of {layer_name}"
    bar = ProgressBar(steps, f"maximizing {what}") if progress else None
    for first in range(1, steps + 1, chunk):
        last = min(first + chunk, steps + 1)
        run(tf.constant(first), tf.constant(last))
        if bar:
            bar.update(last - 1)
    if bar:
        bar.close()
    final = objective.report(tf.convert_to_tensor(pixels))
    return pixels.numpy().astype(np.float32), np.asarray(final, dtype=np.float32)
