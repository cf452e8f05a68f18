"""The course's shared figures.

Every function here draws one figure and returns it (a ``matplotlib.figure.Figure``).
The figure is closed in pyplot before it is returned, so a notebook shows it
exactly once: as the cell's result when the call is the cell's last line, or
wherever ``display(fig)`` is called. Nothing here computes a result a learner
needs; that lives in the module for the idea (``conv`` and friends).
"""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from PIL import Image

from . import conv, images

__all__ = [
    "show_matrix",
    "show_matrices",
    "show_images",
    "plot_history",
    "plot_confusion_matrix",
    "describe_layer",
    "show_feature_maps",
    "plot_kernel_result",
    "plot_conv_step",
    "plot_multichannel_conv",
    "plot_conv_geometry",
    "plot_receptive_fields",
    "plot_effective_field",
    "plot_unread_strips",
    "unread_strip",
    "shade_unread",
    "mark_unread",
    "overlay",
    "plot_grad_cam",
    "finish",
]

INPUT_COLOR = "#dbe9f6"
PAD_COLOR = "#d9d9d9"
UNUSED_COLOR = "#fde0c5"
OUTPUT_COLOR = "#d5efcf"
WINDOW_COLOR = "#d62728"


def finish(fig):
    """Detach the figure from pyplot so it is displayed once, by whoever shows it."""
    plt.close(fig)
    return fig


def _format_number(value, fmt=None):
    if fmt is not None:
        return fmt.format(value)
    if np.issubdtype(type(value), np.integer) or float(value).is_integer():
        return f"{int(round(float(value)))}"
    return f"{value:.2f}"


def show_matrix(ax, values, title=None, cmap="Blues", vmin=None, vmax=None, annotate=True, highlight=None,
                fmt=None):
    """Draw a small 2-D array as a grid of coloured cells with its numbers.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : array_like, shape (H, W)
        The numbers. NaN cells are hatched in grey and carry no number (used
        for "not computed yet"), so they cannot be mistaken for any value.
    title : str, optional
    cmap : str, optional
        A Matplotlib colormap name. Default ``"Blues"``.
    vmin, vmax : float, optional
        Colour scale limits; default the array's own min and max.
    annotate : bool, optional
        Write each number in its cell. Default True.
    highlight : (row, col, height, width), optional
        Outline this block of cells in red.
    fmt : str, optional
        How to write each number, as a format string such as ``"{:.2f}"``.
        Default: whole numbers without decimals, others with two.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"show_matrix draws a 2-D array; got shape {array.shape}.")
    finite = array[np.isfinite(array)]
    low = vmin if vmin is not None else (finite.min() if finite.size else 0.0)
    high = vmax if vmax is not None else (finite.max() if finite.size else 1.0)
    if high == low:
        high = low + 1.0
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="white")
    drawn = ax.imshow(np.ma.masked_invalid(array), cmap=colormap, vmin=low, vmax=high)
    for r, c in np.argwhere(~np.isfinite(array)):
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="white", edgecolor="#b0b0b0", hatch="///",
                               linewidth=0))
    ax.set_xticks(np.arange(-0.5, array.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, array.shape[0]), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        for (r, c), value in np.ndenumerate(array):
            if not np.isfinite(value):
                continue
            shade = colormap((value - low) / (high - low))
            brightness = images.luminance(shade[:3])
            ax.text(c, r, _format_number(value, fmt), ha="center", va="center", fontsize=9,
                    color="white" if brightness < 0.5 else "black")
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor=WINDOW_COLOR, linewidth=2.5,
                               zorder=5, clip_on=False))
    if title:
        ax.set_title(title)
    return ax


def _colorbar(fig, ax, label, shrink=0.8):
    """A colour bar for the first image drawn in ``ax`` (or in each of a list of axes, which share it)."""
    first = ax[0] if isinstance(ax, (list, tuple)) else ax
    return fig.colorbar(first.images[0], ax=ax, shrink=shrink, label=label)


def _panels(items, titles, cmap, what):
    """Arrays, one title and one colormap per panel, with the counts checked."""
    arrays = [np.asarray(item) for item in items]
    if not arrays:
        raise ValueError(f"there are no {what} to show.")
    titles = list(titles) if titles is not None else [None] * len(arrays)
    cmaps = [cmap] * len(arrays) if isinstance(cmap, str) else list(cmap)
    if len(titles) != len(arrays) or len(cmaps) != len(arrays):
        raise ValueError(f"got {len(arrays)} {what}, {len(titles)} titles and {len(cmaps)} colormaps.")
    return arrays, titles, cmaps


def show_matrices(matrices, titles=None, cmap="Blues", size=2.6, fmt=None):
    """Several small 2-D arrays side by side, each cell labelled with its number.

    Parameters
    ----------
    matrices : sequence of array_like, each (H, W)
    titles : sequence of str, optional
    cmap : str or sequence of str, optional
        One colormap for all, or one per matrix. Default ``"Blues"``.
    size : float, optional
        Height of the figure in inches; widths follow the matrices' shapes.
    fmt : str or sequence of str, optional
        How to write the numbers (see :func:`show_matrix`): one format string
        for all, or one per matrix (None for the default).

    Returns
    -------
    matplotlib.figure.Figure
    """
    arrays, titles, cmaps = _panels(matrices, titles, cmap, "matrices")
    formats = _per_image(fmt, len(arrays), "fmt") if not isinstance(fmt, str) else [fmt] * len(arrays)
    widths = [a.shape[1] if a.ndim == 2 else 1 for a in arrays]
    tallest = max(a.shape[0] if a.ndim == 2 else 1 for a in arrays)
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * sum(widths) / tallest + 0.6 * len(arrays), size + 0.4),
                             gridspec_kw={"width_ratios": widths}, squeeze=False, constrained_layout=True)
    for ax, array, title, colormap, number_format in zip(axes[0], arrays, titles, cmaps, formats):
        show_matrix(ax, array, title, cmap=colormap, fmt=number_format)
    return finish(fig)


def _limits(array, symmetric, robust):
    """Colour-scale limits: the full range, or the 1st-99th percentiles when ``robust``."""
    if robust:
        low, high = (float(v) for v in np.percentile(array, [1, 99]))
    else:
        low, high = float(array.min()), float(array.max())
    if symmetric and (low < 0 or low == high):  # a constant map too, so all zeros gets the middle colour
        high = max(abs(low), abs(high), 1e-12)
        low = -high
    if high <= low:
        high = low + 1e-12
    return low, high


def _per_image(limit, count, name):
    """One setting per image (a colour-scale limit, a format), from None, one value, or a sequence of them."""
    if limit is None or np.isscalar(limit):
        return [limit] * count
    limits = list(limit)
    if len(limits) != count:
        raise ValueError(f"got {count} images but {len(limits)} values for {name} (use None for automatic).")
    return limits


def show_images(images, titles=None, ncols=None, cmap="gray", shared_scale=False, symmetric=False,
                colorbar=False, size=2.8, suptitle=None, robust=False, outlines=None, vmin=None, vmax=None,
                row_labels=None):
    """Show several 2-D arrays (or RGB images) side by side.

    Parameters
    ----------
    images : sequence of array_like
        Each (H, W) (drawn with ``cmap``) or (H, W, 3) RGB in [0, 1].
    titles : sequence of str, optional
        One per image.
    ncols : int, optional
        Images per row. Default: all in one row (up to 6).
    cmap : str or sequence of str, optional
        Colormap for 2-D arrays, or one per image. Default ``"gray"``.
    shared_scale : bool, optional
        Use one colour scale for every 2-D image (so they can be compared).
    symmetric : bool, optional
        Centre the scale on zero for arrays that have negative values (signed
        outputs such as edge responses), so 0 gets the colormap's middle colour;
        best with a diverging ``cmap`` such as ``"RdBu_r"``. Arrays with no
        negative values keep their own range.
    colorbar : bool, optional
        Add a colour bar to each 2-D image.
    size : float or (float, float), optional
        Size of each panel in inches: one number for a square panel, or
        ``(width, height)``. Default 2.8.
    robust : bool, optional
        Scale colours to the 1st-99th percentiles instead of the full range, so
        a few extreme pixels (often at the border) do not wash out the rest.
    outlines : sequence of (H, W) bool arrays or None, optional
        A mask per image (None for none), drawn as a yellow outline: for
        example the stand-in's figure masks.
    suptitle : str, optional
        A title over the whole figure.
    vmin, vmax : float or sequence of float, optional
        Fixed colour-scale limits for 2-D images, instead of the ones chosen
        above: one number for every image, or one per image (None keeps that
        image's automatic limit). Values outside are drawn in the end colours.
    row_labels : sequence of str, optional
        One label per row of panels, written to the left of the row's first
        panel (for example "untrained" and "trained"). Default: none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    arrays, titles, cmaps = _panels(images, titles, cmap, "images")
    lows, highs = (_per_image(limit, len(arrays), name) for limit, name in ((vmin, "vmin"), (vmax, "vmax")))
    width, height = (size, size) if np.isscalar(size) else size
    ncols = ncols or min(len(arrays), 6)
    nrows = -(-len(arrays) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows + (0.4 if suptitle else 0)),
                             squeeze=False, constrained_layout=True)
    gray = [a for a in arrays if a.ndim == 2]
    shared = None
    if shared_scale and gray:
        shared = _limits(np.concatenate([a.ravel() for a in gray]), symmetric, robust)
    for ax, array, title, colormap, fixed_low, fixed_high in zip(axes.flat, arrays, titles, cmaps, lows, highs):
        if array.ndim == 3:
            ax.imshow(np.clip(array, 0, 1))
        elif array.ndim == 2:
            low, high = shared if shared else _limits(array, symmetric, robust)
            low = low if fixed_low is None else float(fixed_low)
            high = high if fixed_high is None else float(fixed_high)
            shown = ax.imshow(array, cmap=matplotlib.colormaps[colormap], vmin=low, vmax=high)
            if colorbar:
                fig.colorbar(shown, ax=ax, shrink=0.8)
        else:
            raise ValueError(f"each image must be (H, W) or (H, W, 3); got shape {array.shape}.")
        ax.set_xticks([])
        ax.set_yticks([])
        if title:
            ax.set_title(title, fontsize=10)
    if outlines is not None:
        if len(outlines) != len(arrays):
            raise ValueError(f"got {len(arrays)} images but {len(outlines)} outlines (use None for no outline).")
        for ax, outline in zip(axes.flat, outlines):
            if outline is not None and np.asarray(outline).any():
                ax.contour(np.asarray(outline, dtype=float), levels=[0.5], colors="yellow", linewidths=1.2)
    if row_labels is not None:
        if len(row_labels) != nrows:
            raise ValueError(f"got {len(row_labels)} row labels for {nrows} rows of panels.")
        for row, label in enumerate(row_labels):
            axes[row, 0].set_ylabel(label, fontsize=9, rotation=0, ha="right", va="center")
    for ax in list(axes.flat)[len(arrays):]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    return finish(fig)


def plot_history(history, metrics=("loss", "accuracy")):
    """Training and validation curves, one panel per metric.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``model.fit`` returns, or its ``.history`` dict of lists.
    metrics : sequence of str, optional
        Metric names; ``"val_" + name`` is drawn next to each when present.

    Returns
    -------
    matplotlib.figure.Figure
    """
    curves = getattr(history, "history", history)
    missing = [m for m in metrics if m not in curves]
    if missing:
        raise ValueError(f"the history has no {missing}; it has {sorted(curves)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.3), squeeze=False,
                             constrained_layout=True)
    for ax, metric in zip(axes[0], metrics):
        epochs = np.arange(1, len(curves[metric]) + 1)
        ax.plot(epochs, curves[metric], "o-", label="training", markersize=3)
        if f"val_{metric}" in curves:
            ax.plot(epochs, curves[f"val_{metric}"], "s-", label="validation", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig)


def plot_confusion_matrix(matrix, class_names):
    """A 2x2 (or NxN) confusion matrix: rows are true classes, columns predictions.

    Returns
    -------
    matplotlib.figure.Figure
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(class_names):
        raise ValueError(f"need a square matrix with one row per class name; got {matrix.shape} "
                         f"for {len(class_names)} names.")
    fig, ax = plt.subplots(figsize=(3.6, 3.2), constrained_layout=True)
    show_matrix(ax, matrix, "confusion matrix", cmap="Blues")
    ax.tick_params(labelbottom=True, labelleft=True)
    ax.set_xticks(range(len(class_names)), [f"predicted\n{name}" for name in class_names])
    ax.set_yticks(range(len(class_names)), [f"true {name}" for name in class_names])
    return finish(fig)


def describe_layer(layer):
    """A one-line description of a Keras layer: name, kernels, filters, activation.

    Works by duck typing on the layer's attributes, so this module does not
    import Keras. For example ``"conv (Conv2D): 3 filters of 3x3, ReLU"``.
    """
    parts = []
    kernel_size = getattr(layer, "kernel_size", None)
    filters = getattr(layer, "filters", None)
    if kernel_size is not None and filters is not None:
        parts.append(f"{filters} filter{'s' if filters != 1 else ''} of {kernel_size[0]}x{kernel_size[1]}")
    pool_size = getattr(layer, "pool_size", None)
    if pool_size is not None:
        parts.append(f"{pool_size[0]}x{pool_size[1]} pooling")
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    if activation and activation != "linear":
        parts.append("ReLU" if activation == "relu" else activation)
    details = ", ".join(parts)
    return f"{layer.name} ({type(layer).__name__})" + (f": {details}" if details else "")


def show_feature_maps(maps, image=None, layer=None, title=None, max_channels=8, cmap="gray", size=2.6,
                      shared_scale=True, channels=None, vmin=None, colorbar_label=None, ncols=None):
    """The output channels of a layer side by side, after the input image.

    By default all channels share one colour scale, shown by one colour bar, so
    their brightness can be compared. With ``shared_scale=False`` each channel
    gets its own scale and colour bar, so a weak channel is visible too.

    Parameters
    ----------
    maps : array_like, shape (H', W', C) or (1, H', W', C)
        A layer's output for one image (a batch of one is unwrapped).
    image : array_like, shape (H, W, 3) or (H, W), optional
        The input, shown first.
    layer : keras.layers.Layer, optional
        The layer that made the maps; the title then names it, with its kernel
        size, number of filters and activation (see :func:`describe_layer`).
    title : str, optional
        A title of your own, used instead of the layer's description.
    max_channels : int, optional
        Show at most this many channels (the first ones). Default 8.
    cmap : str, optional
        Colormap of the maps. Default ``"gray"``.
    size : float, optional
        Height of each panel in inches.
    shared_scale : bool, optional
        One colour scale for all channels (default), or one per channel.
    channels : sequence of int, optional
        The channels to show, in this order, each titled with its own number;
        overrides ``max_channels``. Pick them by a rule (the strongest, say):
        under another seed, a given channel number means something else.
    vmin : float, optional
        Where the colour scale(s) start, e.g. 0 for maps after a ReLU. Default:
        the smallest value shown (the channel's own, with ``shared_scale=False``).
    colorbar_label : str, optional
        A label for the colour bar(s), e.g. ``"activation"``. Default: none.
    ncols : int, optional
        Wrap the channels into rows of this many panels; the input image, if
        given, then spans all the rows on the left. Default: one row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    maps = np.asarray(maps)
    if ncols is not None and int(ncols) < 1:
        raise ValueError(f"ncols must be a positive number of panels per row; got {ncols}.")
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(f"maps holds a batch of {maps.shape[0]} images; pass one, e.g. maps[0].")
        maps = maps[0]
    if maps.ndim == 2:
        maps = maps[:, :, np.newaxis]
    if maps.ndim != 3:
        raise ValueError(f"maps must be (H, W, C), or (1, H, W, C) for a batch of one; got shape {maps.shape}.")
    if channels is None:
        channels = list(range(min(maps.shape[2], max_channels)))
        more = f" (first {len(channels)} of {maps.shape[2]} channels)" if len(channels) < maps.shape[2] else ""
    else:
        channels = [int(channel) for channel in np.atleast_1d(channels)]
        outside = [channel for channel in channels if not 0 <= channel < maps.shape[2]]
        if outside or not channels:
            raise ValueError(f"channels must be a non-empty list of numbers from 0 to {maps.shape[2] - 1}; "
                             f"got {list(channels)}.")
        more = f" ({len(channels)} chosen of {maps.shape[2]} channels)"
    shown = len(channels)
    panels = shown + (image is not None)
    aspect = maps.shape[1] / maps.shape[0]
    bars = 0.8 if shared_scale else 0.7 * shown  # room for the colour bar(s)
    if ncols is None or int(ncols) >= shown:
        fig, axes = plt.subplots(1, panels, figsize=(size * aspect * panels + bars, size + 0.7), squeeze=False,
                                 constrained_layout=True)
        axes = list(axes[0])
    else:
        ncols = int(ncols)
        rows = -(-shown // ncols)
        bars = 0.8 if shared_scale else 0.7 * ncols
        image_columns = rows if image is not None else 0   # the image spans the rows, as a square
        fig = plt.figure(figsize=(size * aspect * (ncols + image_columns) + bars, size * rows + 0.7),
                         constrained_layout=True)
        grid = fig.add_gridspec(rows, ncols + (image is not None),
                                width_ratios=([rows] if image is not None else []) + [1] * ncols)
        axes = [fig.add_subplot(grid[:, 0])] if image is not None else []
        offset = int(image is not None)
        axes += [fig.add_subplot(grid[i // ncols, offset + i % ncols]) for i in range(shown)]
    if image is not None:
        picture = np.asarray(image)
        ax = axes.pop(0)
        ax.imshow(np.clip(picture, 0, 1), cmap="gray" if picture.ndim == 2 else None)
        ax.set_title(f"input {picture.shape[0]}x{picture.shape[1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    low, high = float(maps[:, :, channels].min()), float(maps[:, :, channels].max())
    low = low if vmin is None else float(vmin)
    for channel, ax in zip(channels, axes):
        if not shared_scale:
            low, high = float(maps[:, :, channel].min()), float(maps[:, :, channel].max())
            low = low if vmin is None else float(vmin)
        drawn = ax.imshow(maps[:, :, channel], cmap=matplotlib.colormaps[cmap], vmin=low, vmax=high)
        if not shared_scale:
            fig.colorbar(drawn, ax=ax, shrink=0.8, pad=0.02, label=colorbar_label)
        ax.set_title(f"channel {channel}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if shared_scale:
        fig.colorbar(drawn, ax=axes, shrink=0.8, pad=0.02, label=colorbar_label)
    heading = title or (describe_layer(layer) if layer is not None else "feature maps")
    fig.suptitle(f"{heading}\noutput {maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}{more}", fontsize=10)
    return finish(fig)


def plot_kernel_result(image, kernel, title=None):
    """An image, a 3x3 (or any small) kernel, and the image filtered by it.

    The result uses ``padding="same"``, so it has the image's size. A kernel
    whose weights add up to 0 (an edge or line detector) gives a signed result,
    drawn on a diverging scale centred on 0; any other kernel gives a picture,
    drawn in gray. Both scales use the 1st-99th percentiles, so the false edges
    that zero padding makes at the border do not wash out the rest.

    Parameters
    ----------
    image : array_like, shape (H, W)
        A grayscale image.
    kernel : array_like, shape (kh, kw)
    title : str, optional
        Title of the result panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"plot_kernel_result needs a 2-D image and a 2-D kernel; got {image.shape} and {kernel.shape}.")
    result = conv.conv2d(image, kernel, padding="same")
    aspect = image.shape[1] / image.shape[0]
    fig, axes = plt.subplots(1, 3, figsize=(2.9 * aspect * 2 + 2.6, 3.2),
                             gridspec_kw={"width_ratios": [aspect, 0.75, aspect]}, constrained_layout=True)
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input", fontsize=10)
    limit = np.abs(kernel).max() or 1.0
    show_matrix(axes[1], kernel, f"kernel (sum {_format_number(round(kernel.sum(), 2))})", cmap="RdBu_r",
                vmin=-limit, vmax=limit)
    signed = abs(kernel.sum()) < 1e-9
    low, high = _limits(result, symmetric=signed, robust=True)
    drawn = axes[2].imshow(result, cmap=matplotlib.colormaps["RdBu_r" if signed else "gray"], vmin=low, vmax=high)
    fig.colorbar(drawn, ax=axes[2], shrink=0.8)
    axes[2].set_title(title or "result", fontsize=10)
    for ax in (axes[0], axes[2]):
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


def plot_conv_step(image, kernel, row, col, image_cmap="gray", colorbar=False):
    """One step of a convolution: the window, the products, and their sum.

    Panels: the input with the window at (``row``, ``col``); the kernel; the
    element-wise products of window and kernel; the output computed so far
    (row by row, up to this position), with the new value outlined. Cells
    not computed yet are hatched. Kernel, products and output use one kind of
    scale: red positive, blue negative, white 0, each panel centred on 0.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Drawn like a picture: with the default ``"gray"``, the lowest value is
        black and the highest white.
    kernel : array_like, shape (kh, kw)
    row, col : int
        Top-left corner of the window, a valid output position.
    image_cmap : str, optional
        Colormap of the input panel. Default ``"gray"``.
    colorbar : bool, optional
        Add a colour bar beside the output panel. Default False.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("plot_conv_step draws a 2-D image and a 2-D kernel.")
    out = conv.conv2d(image, kernel)
    if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
        raise ValueError(
            f"(row, col) = ({row}, {col}) is not an output position: the output is {out.shape[0]}x{out.shape[1]}, "
            f"so row must be 0..{out.shape[0] - 1} and col 0..{out.shape[1] - 1}."
        )
    kh, kw = kernel.shape
    window = image[row:row + kh, col:col + kw]
    products = window * kernel
    done = np.full(out.shape, np.nan)
    flat_index = row * out.shape[1] + col
    done.flat[: flat_index + 1] = out.flat[: flat_index + 1]

    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), gridspec_kw={"width_ratios": [image.shape[1], kw, kw, out.shape[1]]},
                             constrained_layout=True)
    show_matrix(axes[0], image, "input", cmap=image_cmap, highlight=(row, col, kh, kw))
    show_matrix(axes[1], kernel, "kernel", cmap="RdBu_r", vmin=-np.abs(kernel).max(), vmax=np.abs(kernel).max())
    limit = np.abs(products).max() or 1
    show_matrix(axes[2], products, f"window x kernel\nsum = {_format_number(products.sum())}", cmap="RdBu_r",
                vmin=-limit, vmax=limit)
    # The whole output's scale, so a value keeps its colour while the output fills in.
    out_limit = np.abs(out).max() or 1
    show_matrix(axes[3], done, f"output [{row}, {col}] = {_format_number(out[row, col])}", cmap="RdBu_r",
                vmin=-out_limit, vmax=out_limit, highlight=(row, col, 1, 1))
    if colorbar:
        _colorbar(fig, axes[3], "output")
    return finish(fig)


def plot_multichannel_conv(image, kernel, bias=0.0, colorbar=False):
    """How one filter turns C input channels into one output channel.

    Row c shows input channel c, kernel slice c, and their 2-D cross-correlation.
    The last panel is their sum plus the bias: the filter's output. Each column
    has one colour scale for all channels (the inputs, the kernel slices, the
    per-channel results), so equal numbers get equal colours down a column. The
    inputs are drawn like pictures: higher values are lighter.

    Parameters
    ----------
    image : array_like, shape (H, W, C)
    kernel : array_like, shape (kh, kw, C)
    bias : float, optional
    colorbar : bool, optional
        Add one colour bar for the column of per-channel results and one for
        the output. Default False.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    if image.ndim != 3 or kernel.ndim != 3 or image.shape[2] != kernel.shape[2]:
        raise ValueError(
            f"plot_multichannel_conv needs an (H, W, C) image and an (kh, kw, C) kernel with the same C; "
            f"got {image.shape} and {kernel.shape}."
        )
    channels = image.shape[2]
    per_channel = [conv.conv2d(image[:, :, c], kernel[:, :, c]) for c in range(channels)]
    total = conv.conv2d(image, kernel, bias=bias)
    fig = plt.figure(figsize=(11, 2.6 * channels), constrained_layout=True)
    grid = fig.add_gridspec(channels, 4)
    limit = np.abs(kernel).max() or 1
    results = np.stack(per_channel)
    result_axes = []
    for c in range(channels):
        show_matrix(fig.add_subplot(grid[c, 0]), image[:, :, c], f"input channel {c}", cmap="gray",
                    vmin=image.min(), vmax=image.max())
        show_matrix(fig.add_subplot(grid[c, 1]), kernel[:, :, c], f"kernel slice {c}", cmap="RdBu_r",
                    vmin=-limit, vmax=limit)
        result_axes.append(show_matrix(fig.add_subplot(grid[c, 2]), per_channel[c], f"channel {c} result",
                                       cmap="Purples", vmin=results.min(), vmax=results.max()))
    output_ax = show_matrix(fig.add_subplot(grid[:, 3]), total,
                            f"sum of the {channels} results\n+ bias {_format_number(bias)} = output", cmap="Greens")
    if colorbar:
        _colorbar(fig, result_axes, "per-channel result", shrink=0.6)
        _colorbar(fig, output_ax, "output", shrink=0.6)
    return finish(fig)


def _geometry(n, kernel_size, stride, padding):
    out = conv.output_size(n, kernel_size, stride, padding)
    before, after = conv.padding_amounts(n, kernel_size, stride, padding)
    return out, before, after


def _formula(n, k, s, padding, out, before, after):
    if padding == "same":
        text = f"'same': out = ceil(n / s) = ceil({n} / {s}) = {out}"
        if before != after:
            text += f";  pad {before} before, {after} after (the extra one goes at the bottom/right)"
        else:
            text += f";  pad {before} on each side"
        return text
    p = 0 if padding == "valid" else padding
    return f"out = floor((n + 2p - k) / s) + 1 = floor(({n} + 2*{p} - {k}) / {s}) + 1 = {out}"


def plot_conv_geometry(n, kernel_size, stride=1, padding="valid"):
    """The geometry of a square convolution: padded input, windows, output.

    Left: the n x n input (blue) inside its zero padding (grey). The first window
    is outlined in red, and a dot marks the centre of every window position.
    Input cells that no window ever reads are orange. Right: the output grid.
    The title gives the output-size formula with these numbers.

    Parameters
    ----------
    n : int
        Input height and width, at least 1.
    kernel_size : int
    stride : int, optional
    padding : {"valid", "same"} or int, optional
        As in :func:`course_helpers.conv.output_size`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the combination is impossible (the message says why).
    """
    k, s = kernel_size, stride
    out, before, after = _geometry(n, k, s, padding)
    padding = padding.lower() if isinstance(padding, str) else padding
    total = before + n + after
    starts = np.arange(out) * s
    covered = np.zeros(total, dtype=bool)
    for start in starts:
        covered[start:start + k] = True
    real = np.zeros(total, dtype=bool)
    real[before:before + n] = True

    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(9, 4.6), gridspec_kw={"width_ratios": [max(total, 1), max(out, 1)]},
                                        constrained_layout=True)
    for r in range(total):
        for c in range(total):
            if real[r] and real[c]:
                color = INPUT_COLOR if covered[r] and covered[c] else UNUSED_COLOR
            else:
                color = PAD_COLOR
            ax_in.add_patch(Rectangle((c, r), 1, 1, facecolor=color, edgecolor="white", linewidth=1))
            if not (real[r] and real[c]) and total <= 16:
                ax_in.text(c + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=7, color="#7f7f7f")
    centres = starts + k / 2
    grid_r, grid_c = np.meshgrid(centres, centres, indexing="ij")
    ax_in.plot(grid_c.ravel(), grid_r.ravel(), "o", color=WINDOW_COLOR, markersize=4)
    ax_in.add_patch(Rectangle((0, 0), k, k, fill=False, edgecolor=WINDOW_COLOR, linewidth=2.5))
    ax_in.set_xlim(0, total)
    ax_in.set_ylim(total, 0)
    ax_in.set_aspect("equal")
    ax_in.axis("off")
    pad_text = "no padding" if before == after == 0 else f"padding {before} before / {after} after"
    ax_in.set_title(f"input {n}x{n}, {pad_text}\nkernel {k}x{k} (red), stride {s}: dots = window centres", fontsize=10)

    for r in range(out):
        for c in range(out):
            ax_out.add_patch(Rectangle((c, r), 1, 1, facecolor=OUTPUT_COLOR, edgecolor="white", linewidth=1))
    ax_out.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOR, linewidth=2.5))
    ax_out.set_xlim(0, max(out, 1))
    ax_out.set_ylim(max(out, 1), 0)
    ax_out.set_aspect("equal")
    ax_out.axis("off")
    ax_out.set_title(f"output {out}x{out}", fontsize=10)
    fig.suptitle(_formula(n, k, s, padding, out, before, after), fontsize=10)
    if not covered[real].all():
        fig.text(0.01, 0.01, "orange: input cells no window reads (past the last window that fits, or between "
                 "windows)", fontsize=9,
                 color="#b35806")
    return finish(fig)


def plot_receptive_fields(names, sizes, input_size, title=None):
    """Nested squares: how much of the input one unit of each layer sees.

    Each square is drawn around the middle of the input, which is marked in
    pixels along its top and left edges.

    Parameters
    ----------
    names : sequence of str
        Layer names, shallow to deep.
    sizes : sequence of int
        Receptive-field size (pixels per side) of one unit in each layer.
    input_size : int
        Side of the input image, for scale.
    title : str, optional
        Default: "receptive field of one centre unit, on a NxN input".

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(names) != len(sizes):
        raise ValueError(f"got {len(names)} names but {len(sizes)} sizes.")
    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    ax.add_patch(Rectangle((0, 0), input_size, input_size, facecolor=INPUT_COLOR, edgecolor="none"))
    colors = matplotlib.colormaps["tab10"].colors
    centre = input_size / 2
    for i, (name, size) in enumerate(zip(names, sizes)):
        shown = min(size, input_size)
        ax.add_patch(Rectangle((centre - shown / 2, centre - shown / 2), shown, shown, fill=False,
                               edgecolor=colors[i % len(colors)], linewidth=2, label=f"{name}: {size}x{size}"))
    ax.set_xlim(0, input_size)
    ax.set_ylim(input_size, 0)
    ax.set_aspect("equal")
    ticks = np.linspace(0, input_size, 4 if input_size % 3 == 0 else 5)
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=8)
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xlabel("input pixels", fontsize=8)
    ax.xaxis.set_label_position("top")
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#7f7f7f")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    ax.set_title(title or f"receptive field of one centre unit, on a {input_size}x{input_size} input", fontsize=10)
    return finish(fig)


def plot_effective_field(share, field_start, field_size, centre_start, centre_size, profile_legend="best",
                         pixel_title="|gradient| per input pixel"):
    """Where a unit's input gradient lies: the picture, and the sum per column.

    Left: the share of |gradient| per input pixel, with the theoretical
    receptive field (cyan) and a central square (dashed white) whose share of
    the total is given in the legend. Right: the same shares added up per
    column, next to a field in which every pixel counted equally.

    Parameters
    ----------
    share : array_like, shape (H, W)
        |gradient| per pixel, divided by its total (so it adds up to 1).
    field_start, field_size : int
        First row and column of the theoretical field, and its side.
    centre_start, centre_size : int
        First row and column of the central square, and its side.
    profile_legend : str, optional
        Where the right panel's legend goes, as Matplotlib's ``loc`` (default
        ``"best"``), e.g. ``"lower right"`` to keep it off a tall profile.
    pixel_title : str, optional
        The left panel's title. Default ``"|gradient| per input pixel"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    share = np.asarray(share, dtype=float)
    if share.ndim != 2:
        raise ValueError(f"share must be a 2-D map of the gradient per pixel; got shape {share.shape}.")
    for name, start, side in (("field", field_start, field_size), ("centre", centre_start, centre_size)):
        if side < 1 or start < 0 or start + side > min(share.shape):
            raise ValueError(f"the {name} square (start {start}, side {side}) does not fit in the "
                             f"{share.shape[0]}x{share.shape[1]} map.")
    central = share[centre_start:centre_start + centre_size, centre_start:centre_start + centre_size].sum()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.9), constrained_layout=True,
                                      gridspec_kw={"width_ratios": [1.05, 1]})
    fig.get_layout_engine().set(wspace=0.12)
    shown = left.imshow(share, cmap=matplotlib.colormaps["magma"])
    left.add_patch(Rectangle((field_start - 0.5, field_start - 0.5), field_size, field_size, fill=False,
                             edgecolor="cyan", linewidth=1.5, label=f"theoretical field, {field_size} px"))
    left.add_patch(Rectangle((centre_start - 0.5, centre_start - 0.5), centre_size, centre_size, fill=False,
                             edgecolor="white", linestyle="--", label=f"central {centre_size} px: {central:.0%}"))
    left.legend(loc="lower right", fontsize=8)
    left.set_title(pixel_title, fontsize=10)
    fig.colorbar(shown, ax=left, shrink=0.8, label="share of the total")

    columns = np.arange(share.shape[1])
    uniform = np.where((columns >= field_start) & (columns < field_start + field_size), 1 / field_size, 0.0)
    right.plot(columns, share.sum(axis=0), label="measured: the effective field")
    right.plot(columns, uniform, linestyle="--", label="every pixel of the field equal")
    right.set(xlabel="input column", ylabel="share of |gradient|, per column", title="the same, added up per column")
    right.title.set_fontsize(10)
    right.legend(fontsize=8, loc=profile_legend)
    return finish(fig)


def plot_unread_strips(pictures, unread):
    """Pictures with the strip a model never reads tinted orange.

    Parameters
    ----------
    pictures : dict of int -> array_like
        For each input size, an (size, size, 3) picture in [0, 1].
    unread : dict of int -> int
        For each size, how many rows at the bottom (and columns at the right)
        are never read.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if set(pictures) != set(unread):
        raise ValueError(f"pictures and unread need the same sizes; got {sorted(pictures)} and {sorted(unread)}.")
    orange = np.array([1.0, 0.5, 0.0])
    fig, axes = plt.subplots(1, len(pictures), figsize=(3 * len(pictures), 3.3), squeeze=False,
                             constrained_layout=True)
    for ax, (size, picture) in zip(axes[0], pictures.items()):
        picture = np.array(picture, dtype=float)
        if picture.ndim != 3 or picture.shape[2] != 3:
            raise ValueError(f"each picture must be (H, W, 3); the {size} px one has shape {picture.shape}.")
        strip = unread[size]
        never_read = np.zeros(picture.shape[:2], dtype=bool)
        if strip:
            never_read[-strip:, :] = True
            never_read[:, -strip:] = True
        picture[never_read] = 0.5 * picture[never_read] + 0.5 * orange
        ax.imshow(np.clip(picture, 0, 1))
        ax.set_title(f"{size} px: {strip} px never read", fontsize=10)
        ax.axis("off")
    return finish(fig)


def _check_read(read, size):
    if not 0 < read <= size:
        raise ValueError(f"read must be between 1 and size ({size}); got {read!r}.")


def unread_strip(height, width, read, size=150):
    """Where a picture is never read, once it is resized to ``size`` x ``size``.

    Parameters
    ----------
    height, width : int
        The picture's shape in pixels, before any resizing.
    read : int
        How many rows (and columns) of the ``size`` x ``size`` input the
        network reads, counted from the top (and left); notebook 4's
        ``pixels_read(150)`` gives 126.
    size : int, optional
        The network's input side. Default 150.

    Returns
    -------
    numpy.ndarray of bool, shape (height, width)
        True in the bottom and right strip that the network never reads.
    """
    _check_read(read, size)
    strip = np.zeros((height, width), dtype=bool)
    strip[round(read / size * height):, :] = True
    strip[:, round(read / size * width):] = True
    return strip


def shade_unread(picture, read, size=150):
    """The picture with its unread strip (see :func:`unread_strip`) tinted orange.

    Parameters
    ----------
    picture : array_like, shape (H, W, 3), values in [0, 1]
    read, size : int
        As in :func:`unread_strip`.

    Returns
    -------
    numpy.ndarray of float32, shape (H, W, 3), values in [0, 1]
        0.45 of the picture and 0.55 of orange in the strip; elsewhere the picture.
    """
    shaded = np.array(picture, dtype=np.float32)
    if shaded.ndim != 3 or shaded.shape[2] != 3:
        raise ValueError(f"shade_unread needs an (H, W, 3) picture; got shape {shaded.shape}.")
    strip = unread_strip(*shaded.shape[:2], read=read, size=size)
    shaded[strip] = 0.45 * shaded[strip] + 0.55 * np.array([1.0, 0.5, 0.0])
    return shaded


def mark_unread(fig, shapes, read, size=150):
    """A dashed black line along the unread strip's border on each panel of ``fig``.

    The line stays visible where the picture itself is orange.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    shapes : sequence of (int, int)
        The (height, width) of the picture on each panel, in the order of
        ``fig.axes``. Panels beyond the sequence are left alone.
    read, size : int
        As in :func:`unread_strip`.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, for display.
    """
    _check_read(read, size)
    if len(shapes) > len(fig.axes):
        raise ValueError(f"{len(shapes)} shapes for a figure with {len(fig.axes)} panels.")
    for ax, (height, width) in zip(fig.axes, shapes):
        row, column = round(read / size * height) - 0.5, round(read / size * width) - 0.5
        ax.plot([-0.5, column, column], [row, row, -0.5], color="black", linestyle="--", linewidth=1.2)
    return fig


def overlay(image, heatmap, alpha=0.6, cmap="jet", grey=True):
    """A heatmap drawn over an image, opaque where it is hot and clear where it is cold.

    Each pixel blends ``alpha * heat`` of the colormap's colour with the
    image. By default the image is shown in grey underneath, so that the
    heat's colours cannot be mistaken for the picture's own.

    Parameters
    ----------
    image : array_like, shape (H, W, 3) or (H, W), values in [0, 1]
    heatmap : array_like, shape (h, w), values in [0, 1]
        Resized (bilinear) to the image's size if needed. 0 leaves the image
        as it is; 1 is the colormap's hottest colour at weight ``alpha``.
    alpha : float, optional
        Weight of the hottest colour, 0 to 1. Default 0.6.
    cmap : str, optional
        A Matplotlib colormap name. Default "jet".
    grey : bool, optional
        Show the image in grey (its luminance) under the heat. Default True.

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
    if grey:
        picture = np.repeat(images.luminance(picture)[:, :, None], 3, axis=2)
    if heat.shape != picture.shape[:2]:
        heat = np.asarray(Image.fromarray(heat, mode="F").resize((picture.shape[1], picture.shape[0]),
                                                                Image.Resampling.BILINEAR))
    heat = np.clip(heat, 0, 1)
    colours = matplotlib.colormaps[cmap](heat)[:, :, :3].astype(np.float32)
    weight = alpha * heat[:, :, np.newaxis]
    return np.clip((1 - weight) * picture + weight * colours, 0, 1)


def plot_grad_cam(model, pictures, layer_name=None, alpha=0.6):
    """For each picture: the picture, then Grad-CAM for class 0 and for class 1, on one scale per picture.

    The two maps of a picture share one scale, the larger of their two peaks,
    so the weaker evidence looks weaker; each title gives its map's peak, in
    units of the logit's gradient times the activations.

    Parameters
    ----------
    model : keras.Model
        A binary classifier with one sigmoid unit (class 1 = "human").
    pictures : dict of str -> image
        Anything :func:`course_helpers.images.load_image` reads; resized to the
        model's input size as the training pipeline resizes.
    layer_name : str, optional
        Default: :func:`course_helpers.anatomy.default_layer`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from . import cam, data

    height, width = model.inputs[0].shape[1:3]
    loaded = [data.model_input(picture, (height, width)) for picture in pictures.values()]
    batch = np.stack(loaded)
    probability = np.asarray(model(batch, training=False)).reshape(-1)
    horse = cam.grad_cam(model, batch, layer_name, class_index=0, normalize=False)
    human = cam.grad_cam(model, batch, layer_name, class_index=1, normalize=False)
    panels, titles = [], []
    for name, picture, p, horse_map, human_map in zip(pictures, loaded, probability, horse, human):
        scale = max(float(horse_map.max()), float(human_map.max()), 1e-12)
        panels += [picture, overlay(picture, horse_map / scale, alpha), overlay(picture, human_map / scale, alpha)]
        titles += [f"{name}\nP(human) = {p:.2f}", f"evidence for 'horse'\npeak {horse_map.max():.2g}",
                   f"evidence for 'human'\npeak {human_map.max():.2g}"]
    layer = layer_name or cam.default_layer(model)
    return show_images(panels, titles, ncols=3, size=2.3,
                       suptitle=f"Grad-CAM at {layer}; both maps of a picture on one scale")


def add_heat_colorbar(fig, axes=None, label="heat: 0 = none, 1 = the map's maximum", alpha=0.6, cmap="jet"):
    """A colour bar for heat drawn with :func:`overlay`, placed beside ``axes``.

    The bar shows the colours an overlay gives a mid-grey pixel, from heat 0
    (the grey itself: no evidence) to heat 1 (the colormap's hottest colour at
    weight ``alpha``), so it reads the same as the overlays beside it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    axes : sequence of matplotlib.axes.Axes, optional
        The panels the bar belongs to. Default: every panel of ``fig``.
    label : str, optional
        What 0 and 1 mean.
    alpha, cmap : optional
        As given to :func:`overlay`. Defaults 0.6 and "jet".

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, for display.
    """
    heat = np.linspace(0, 1, 256)[:, np.newaxis]
    weight = alpha * heat
    colours = (1 - weight) * 0.5 + weight * matplotlib.colormaps[cmap](heat[:, 0])[:, :3]
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, 1),
                                            cmap=matplotlib.colors.ListedColormap(np.clip(colours, 0, 1)))
    bar = fig.colorbar(mappable, ax=list(fig.axes if axes is None else axes), shrink=0.8, ticks=[0, 0.5, 1])
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=8)
    return fig


_GRID_KINDS = {"unit": "jet", "pixels": "magma", "signed": "RdBu_r"}


def show_explanation_grid(pictures, maps, kinds, column_titles=None, row_titles=None, outlines=None,
                          unread_from=None, size=1.9, suptitle=None, outline_columns=None):
    """Rows of explanation maps, each row led by its picture, each map scaled by its kind.

    Parameters
    ----------
    pictures : sequence of array_like, each (H, W, 3) in [0, 1]
        One picture per row, drawn first.
    maps : sequence of sequences of array_like, each (H, W)
        For each row, its maps: the same number C in every row.
    kinds : sequence of (str or sequence of str)
        For each row, one kind for all its maps or one per map:
        ``"unit"``, a map already in [0, 1], drawn from 0 to 1 ("jet");
        ``"pixels"``, a pixel map, drawn with its brightest 1 % at full colour
        ("magma"); ``"signed"``, a signed map such as occlusion's, centred on 0
        ("RdBu_r": red for the class, blue against), its range in the title.
    column_titles : sequence of str, optional
        C + 1 titles (the picture's column first), shown on the first row.
    row_titles : sequence of str, optional
        One per row, shown over its picture.
    outlines : sequence of (H, W) bool arrays or None, optional
        One mask per row, outlined in yellow on every panel of the row (or on
        the columns ``outline_columns`` names).
    unread_from : int, optional
        A dashed grey line at this row and column on every panel: where the
        part of the picture the network never reads begins.
    size : float, optional
        Panel size in inches. Default 1.9.
    suptitle : str, optional
    outline_columns : sequence of int, optional
        The columns that get the outline, 0 being the pictures' column and 1
        the first map's. Default None: every column. An outline drawn on a
        pixel map sits on its bright edge pixels and hides whether the map
        keeps the figure's shape; ``(0,)`` outlines the pictures only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(pictures) != len(maps) or len(kinds) != len(maps):
        raise ValueError(f"give one picture, one row of maps and one kind per row; got {len(pictures)}, "
                         f"{len(maps)} and {len(kinds)}.")
    columns = len(maps[0])
    if any(len(row) != columns for row in maps):
        raise ValueError("every row needs the same number of maps.")
    panels, titles, cmaps, lows, highs, masks = [], [], [], [], [], []
    for row, (picture, row_maps, row_kinds) in enumerate(zip(pictures, maps, kinds)):
        row_kinds = [row_kinds] * columns if isinstance(row_kinds, str) else list(row_kinds)
        if len(row_kinds) != columns or any(kind not in _GRID_KINDS for kind in row_kinds):
            raise ValueError(f"each kind must be one of {sorted(_GRID_KINDS)}, one per map; got {row_kinds!r}.")
        heads = list(column_titles) if column_titles is not None and row == 0 else [""] * (columns + 1)
        if row_titles is not None:
            heads[0] = row_titles[row]
        panels.append(np.asarray(picture))
        titles.append(heads[0])
        cmaps.append("gray")
        lows.append(None)
        highs.append(None)
        for column, (heat, kind, head) in enumerate(zip(row_maps, row_kinds, heads[1:]), start=1):
            heat = np.asarray(heat, dtype=np.float32)
            panels.append(heat)
            cmaps.append(_GRID_KINDS[kind])
            if kind == "unit":
                lows.append(0.0)
                highs.append(1.0)
                titles.append(head)
            elif kind == "pixels":
                lows.append(0.0)
                highs.append(max(float(np.percentile(heat, 99)), 1e-12))
                titles.append(head)
            else:
                limit = max(float(np.abs(heat).max()), 1e-12)
                lows.append(-limit)
                highs.append(limit)
                # below the first row, a signed map still names its column: its range is its own
                name = head or (column_titles[column].split("\n")[0] if column_titles is not None else "")
                titles.append(f"{name}\n±{limit:.1f}" if name else f"±{limit:.1f}")
        masks += [None if outlines is None or (outline_columns is not None and column not in outline_columns)
                  else outlines[row] for column in range(columns + 1)]
    fig = show_images(panels, titles, ncols=columns + 1, size=size, cmap=cmaps, vmin=lows, vmax=highs,
                      outlines=masks if outlines is not None else None, suptitle=suptitle)
    if unread_from is not None:
        for ax in fig.axes:
            if ax.images:
                for line in (ax.axhline, ax.axvline):   # grey: visible on black and on white
                    line(unread_from - 0.5, color="0.55", linestyle="--", linewidth=0.8)
    return fig


def plot_class_preference(horse_mean, human_mean, margin, floor, title=None):
    """One point per channel: its average activation on horses (x) and on humans (y).

    Draws the diagonal, the two lines at ``margin`` times as much on one class,
    and a grey square below ``floor``, where a channel prefers nothing. Points
    are coloured by the same rule: prefers horses (orange), prefers humans
    (blue), fires for both within ``margin`` (dark grey), below the floor
    (light grey). The legend, below the axes, counts each group and, below
    the floor, the dead channels (both averages 0).

    Parameters
    ----------
    horse_mean, human_mean : array_like, shape (C,)
        Each channel's mean activation over the horse and the human images, 0 or more.
    margin : float
        Greater than 1: how many times as much on one class counts as preferring it.
    floor : float
        0 or more: a channel whose larger average is below it prefers nothing.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    horse_mean, human_mean = np.asarray(horse_mean, dtype=float), np.asarray(human_mean, dtype=float)
    if horse_mean.shape != human_mean.shape or horse_mean.ndim != 1:
        raise ValueError(f"horse_mean and human_mean must be 1-D and of one length; got {horse_mean.shape} "
                         f"and {human_mean.shape}.")
    if margin <= 1:
        raise ValueError(f"margin must be above 1 (1.5 means 50 % more); got {margin}.")
    larger = np.maximum(horse_mean, human_mean)
    strong = larger >= floor
    prefers_horse = strong & (horse_mean >= margin * human_mean)
    prefers_human = strong & (human_mean >= margin * horse_mean)
    both = strong & ~prefers_horse & ~prefers_human
    top = 1.05 * max(float(larger.max()), floor, 1e-12)
    fig, ax = plt.subplots(figsize=(5.2, 6.2), constrained_layout=True)
    ax.add_patch(Rectangle((-top, -top), top + floor, top + floor, facecolor="0.85", edgecolor="0.4", linestyle=":",
                           zorder=0, label=f"the floor, {floor:.2f}: below it a channel prefers nothing"))
    ax.plot([0, top], [0, top], color="0.6", linewidth=1)
    ax.plot([0, top / margin], [0, top], color="0.6", linewidth=1, linestyle="--", label=f"{margin}x as much on one class")
    ax.plot([0, top], [0, top / margin], color="0.6", linewidth=1, linestyle="--")
    for chosen, colour, what in [(prefers_horse, "tab:orange", "prefer horses"),
                                 (prefers_human, "tab:blue", "prefer humans"),
                                 (both, "0.4", f"fire for both, within {margin}x"),
                                 (~strong, "0.75", "below the floor")]:
        label = f"{what}: {chosen.sum()}"
        if what == "below the floor":  # both averages 0: zero on every image, a dead channel
            label += f" ({np.sum(chosen & (larger == 0))} dead, at 0, 0)"
        ax.scatter(horse_mean[chosen], human_mean[chosen], s=18, color=colour, label=label)
    ax.set(xlim=(-0.03 * top, top), ylim=(-0.03 * top, top), aspect="equal", xlabel="mean on the horse images",
           ylabel="mean on the human images")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)  # below the axes: no point hidden
    return finish(fig)


def add_outlines(fig, outlines, color="yellow"):
    """Outline a mask on each panel of a figure, for example the stand-in's figure masks.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    outlines : sequence of (H, W) bool arrays or None
        One per panel of ``fig``, in the order of ``fig.axes`` (None: no outline
        on that panel). Panels beyond the sequence are left alone.
    color : str, optional
        Default "yellow", as :func:`show_images` draws outlines.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, for display.
    """
    for ax, outline in zip(fig.axes, outlines):
        if outline is not None and np.asarray(outline).any():
            ax.contour(np.asarray(outline, dtype=float), levels=[0.5], colors=color, linewidths=1.2)
    return fig
