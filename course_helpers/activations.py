"""What a trained network computes inside: the feature maps of its layers.

:func:`feature_extractor` builds a model that returns the outputs of chosen
layers; :func:`plot_feature_maps` draws them, one row per layer;
:func:`sparsity` measures how many activations are exactly zero;
:func:`top_patches` finds the image patches that excite a channel most, and
:func:`plot_top_patches` draws them; :func:`units_read_by` says which units of a
layer a later layer reads at all.
"""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from . import anatomy
from .anatomy import list_layers
from .plotting import finish

__all__ = [
    "list_layers",
    "feature_extractor",
    "plot_feature_maps",
    "sparsity",
    "plot_by_depth",
    "plot_sparsity",
    "plot_channel",
    "top_patches",
    "units_read_by",
    "plot_top_patches",
    "PADDING_VALUE",
    "strongest_channels",
    "centre_unit_gradient",
    "central_gradient_share",
    "wilson_interval",
    "depth_verdict",
    "held_out_correct",
]


def feature_extractor(model, layer_names=None, image_shape=None):
    """A model that maps ``model``'s input to the outputs of the named layers.

    Parameters
    ----------
    model : keras.Model
        A Sequential model that starts with ``keras.Input``, a functional model,
        or either of them with a base model nested inside (e.g. a pretrained
        network used as a layer). Layers inside nested models are found by name.
    layer_names : sequence of str, optional
        Default: every conv and pooling layer, in order.
    image_shape : tuple, optional
        Build for this input shape instead of the model's, e.g. ``(None, None, 3)``
        for any image size (possible for the layers up to the first Flatten).

    Returns
    -------
    keras.Model
        Its output is a dict {layer name: feature maps (batch, H, W, C)}, in the
        order of ``layer_names``.

    Raises
    ------
    ValueError
        For an unknown layer name (the message lists the valid ones), or a
        nested model that is not a simple chain of layers.
    """
    import keras

    if layer_names is None:
        layer_names = anatomy.list_layers(model)
    elif isinstance(layer_names, str):
        layer_names = [layer_names]
    layer_names = list(layer_names)
    if not layer_names:
        raise ValueError("layer_names is empty: name at least one layer, or leave it out for all conv/pool layers.")
    anatomy.check_layer_names(model, layer_names)
    top_level = {layer.name for layer in model.layers}
    if image_shape is None and all(name in top_level for name in layer_names):
        # The model's own graph holds every output: no rebuilding needed.
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # a lone tensor, not a list of one
        return keras.Model(inputs, {name: model.get_layer(name).output for name in layer_names})
    if len(model.inputs) != 1:
        raise ValueError("feature_extractor can reach inside nested models only for a model with one input.")
    return anatomy.submodel(model, layer_names, image_shape)


def _short(value):
    """A maximum in at most 4 characters' worth of precision: 0.0031, 0.52, 5.3, 12."""
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _scaled_to_its_maximum(channel):
    """0 stays 0 and the channel's maximum becomes 1; an all-zero (silent) channel stays all zeros."""
    top = float(channel.max())
    if top <= 0:
        return np.zeros_like(channel), True
    return np.clip(channel, 0, None) / top, False


def plot_feature_maps(maps, image=None, max_channels=8, size=1.25, show_maximum=False, channels=None,
                      label_size=None):
    """Feature maps of one image, one row per layer, each row labelled with its own layer.

    Each channel is scaled on its own, from 0 (black) to its own maximum
    (light), so weak and strong channels are equally visible and an exact 0,
    the ReLU's "no response", is always black. A channel that is all zeros for
    this image ("silent") is drawn hatched and marked. Each row's label gives
    the layer's name, its output's shape and the channels shown (e.g.
    "ch 0-7 of 64").

    Parameters
    ----------
    maps : dict of str -> array, each (1, H, W, C) or (H, W, C)
        What :func:`feature_extractor` returns for one image.
    image : array_like, shape (H, W, 3), optional
        The input, shown at the start of the first row.
    max_channels : int, optional
        Channels shown per layer (the first ones, unless ``channels`` names
        others). Default 8.
    size : float, optional
        Side of each panel in inches.
    show_maximum : bool, optional
        Write each panel's maximum (what its lightest colour stands for) in
        its top left corner, so that panels drawn on their own scales can
        still be compared. Default False.
    channels : dict of str -> sequence of int, optional
        For the layers named in it, the channels to show instead of the first
        ones (at most ``max_channels``, in the order given), for example those a
        rule picks; each panel is then titled with its channel's number. Layers
        not named show their first channels.
    label_size : float, optional
        Font size, in points, of the panels' own labels: the channel titles,
        the corner maxima and the "silent" marks. Default None: 7 to 8 points.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not maps:
        raise ValueError("maps is empty: pass the dict a feature extractor returns.")
    arrays = {}
    for name, value in maps.items():
        array = np.asarray(value)
        if array.ndim == 4:
            if array.shape[0] != 1:
                raise ValueError(f"{name!r} holds a batch of {array.shape[0]} images; pass the maps of one image.")
            array = array[0]
        if array.ndim != 3:
            raise ValueError(f"{name!r} must be (H, W, C) feature maps; got shape {array.shape}.")
        arrays[name] = array
    chosen = {}
    for name, array in arrays.items():
        depth = array.shape[2]
        picked = list(range(min(max_channels, depth))) if channels is None or name not in channels \
            else [int(c) for c in list(channels[name])[:max_channels]]
        if not all(0 <= c < depth for c in picked):
            raise ValueError(f"channels[{name!r}] must hold channel numbers from 0 to {depth - 1}; got {picked}.")
        chosen[name] = picked
    first_ones = all(picked == list(range(len(picked))) for picked in chosen.values())
    columns = max_channels + 1
    fig, axes = plt.subplots(len(arrays), columns, figsize=(size * columns, size * len(arrays) + 0.3),
                             squeeze=False, constrained_layout=True)
    colormap = matplotlib.colormaps["magma"]
    for row, (name, array) in enumerate(arrays.items()):
        label_ax = axes[row, 0]
        if row == 0 and image is not None:
            label_ax.imshow(np.clip(np.asarray(image), 0, 1))
            label_ax.set_title("input", fontsize=label_size or 8)
        label_ax.set_xticks([])
        label_ax.set_yticks([])
        picked = chosen[name]
        if picked == list(range(len(picked))):
            listed = f"ch 0-{len(picked) - 1}" if len(picked) > 1 else "ch 0"
        else:
            listed = f"{len(picked)} chosen ch"
        height, width, depth = array.shape
        label_ax.set_ylabel(f"{name}\n{height}x{width}x{depth}\n{listed} of {depth}", fontsize=8,
                            rotation=0, ha="right", va="center")
        if not (row == 0 and image is not None):
            for spine in label_ax.spines.values():
                spine.set_visible(False)
        for column in range(max_channels):
            ax = axes[row, column + 1]
            ax.set_xticks([])
            ax.set_yticks([])
            if column >= len(picked):
                ax.axis("off")
                continue
            channel = picked[column]
            shown, silent = _scaled_to_its_maximum(array[:, :, channel].astype(float))
            ax.imshow(shown, cmap=colormap, vmin=0, vmax=1)
            if silent:
                ax.add_patch(matplotlib.patches.Rectangle((-0.5, -0.5), array.shape[1], array.shape[0], fill=False,
                                                          hatch="///", edgecolor="0.6", linewidth=0))
                ax.text(0.5, 0.5, "silent", transform=ax.transAxes, ha="center", va="center", fontsize=label_size or 7,
                        color="white", bbox={"facecolor": "0.3", "alpha": 0.7, "pad": 1, "linewidth": 0})
            elif show_maximum:
                ax.text(0.03, 0.97, _short(float(array[:, :, channel].max())), transform=ax.transAxes, ha="left",
                        va="top", fontsize=label_size or 7.5, color="white",
                        bbox={"facecolor": "black", "alpha": 0.6, "pad": 0.8, "linewidth": 0})
            if row == 0 or not first_ones:
                ax.set_title(f"ch {channel}", fontsize=label_size or (8 if first_ones else 7), pad=2)
    shown_channels = max(len(picked) for picked in chosen.values())
    which = f"the first {shown_channels} channels" if first_ones else "the chosen channels"
    fig.suptitle(f"{which} of each layer; each from 0 (black) to its own maximum", fontsize=9)
    return finish(fig)


def sparsity(maps):
    """The fraction of activations that are exactly zero, per layer.

    Parameters
    ----------
    maps : dict of str -> array
        Feature maps per layer, any shape (e.g. (N, H, W, C) for N images).

    Returns
    -------
    dict of str -> float
        In [0, 1], in the order of ``maps``.
    """
    return {name: float(np.mean(np.asarray(value) == 0)) for name, value in maps.items()}


def plot_by_depth(values, ylabel, title=None, percent=True, limits=None, errors=None):
    """One number per layer (e.g. sparsity), against depth: layers in order along x.

    Parameters
    ----------
    values : dict of str -> float
        Layer name -> value, shallow to deep.
    ylabel : str
    title : str, optional
    percent : bool, optional
        Values are fractions: show them as 0-100 %. Default True.
    limits : (float, float), optional
        The y axis's range, fixed so that small changes are not blown up.
        Default: 0 to 100 for percentages, else Matplotlib's choice.
    errors : dict of str -> float, or dict of str -> (float, float), optional
        Error bars, in the units of ``values`` (fractions when ``percent``):
        one half-width per layer, or (below, above) for an uneven interval.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(values)
    scale = 100 if percent else 1
    shown = [scale * v for v in values.values()]
    fig, ax = plt.subplots(figsize=(max(4.5, 0.6 * len(names)), 3.2), constrained_layout=True)
    if errors is not None:
        missing = [name for name in names if name not in errors]
        if missing:
            raise ValueError(f"errors has no entry for {missing}; give one per layer of values.")
        spans = np.array([np.broadcast_to(errors[name], (2,)) for name in names], dtype=float).T * scale
        if np.any(spans < 0):
            raise ValueError("errors must be half-widths of 0 or more.")
        ax.errorbar(range(len(names)), shown, yerr=spans, fmt="none", ecolor="tab:blue", alpha=0.5, capsize=3)
    ax.plot(range(len(names)), shown, "o-")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    if limits is not None:
        ax.set_ylim(*limits)
    elif percent:
        ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return finish(fig)


def plot_sparsity(fractions):
    """Sparsity (from :func:`sparsity`) against depth. Returns a Figure."""
    return plot_by_depth(fractions, "zero activations (%)", "fraction of zero activations by depth")


def plot_channel(maps, layer, channel, image=None):
    """One channel of one layer, large, next to the input.

    Drawn like :func:`plot_feature_maps`: magma, from 0 (black) to the
    channel's maximum, so an exact 0 is black (from the minimum instead, if
    the channel has negative values).

    Parameters
    ----------
    maps : dict of str -> array (1, H, W, C) or (H, W, C)
    layer : str
    channel : int
    image : array_like (H, W, 3), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if layer not in maps:
        raise ValueError(f"no maps for layer {layer!r}; there are maps for {list(maps)}.")
    array = np.asarray(maps[layer])
    array = array[0] if array.ndim == 4 else array
    if not 0 <= channel < array.shape[2]:
        raise ValueError(f"{layer} has channels 0 to {array.shape[2] - 1}; got {channel}.")
    panels = 2 if image is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels + 0.6, 3.2), squeeze=False, constrained_layout=True)
    if image is not None:
        axes[0, 0].imshow(np.clip(np.asarray(image), 0, 1))
        axes[0, 0].set_title("input", fontsize=10)
    values = array[:, :, channel]
    lowest = min(0.0, float(values.min()))
    highest = max(float(values.max()), lowest + 1e-12)   # a silent channel: all black, not an empty scale
    drawn = axes[0, -1].imshow(values, cmap="magma", vmin=lowest, vmax=highest)
    fig.colorbar(drawn, ax=axes[0, -1], shrink=0.8)
    zero = float(np.mean(values == 0))
    axes[0, -1].set_title(f"{layer}, channel {channel}: {values.shape[0]}x{values.shape[1]}, {zero:.0%} zeros",
                          fontsize=10)
    for ax in axes[0]:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish(fig)


#: What the crops of :func:`top_patches` hold beyond the image's border: 0, what a 'same'-padded conv layer sees there.
PADDING_VALUE = 0.0
_CHUNK = 16  # images per forward pass in top_patches: memory stays flat for any number of images


def _channel_list(channels, count, layer_name):
    """``channels`` (one int or a sequence of ints) as a list of ints from 0 to count - 1, or a clear error."""
    import numbers

    channels = [channels] if np.ndim(channels) == 0 else list(channels)
    if not channels:
        raise ValueError("channels is empty: name at least one channel.")
    for channel in channels:
        if isinstance(channel, (bool, np.bool_)) or not isinstance(channel, numbers.Integral):
            raise TypeError(f"channels must be an int or a list of ints; got {channel!r} ({type(channel).__name__}).")
        if not 0 <= channel < count:
            raise ValueError(f"{layer_name} has channels 0 to {count - 1}; got {channel}.")
    return [int(channel) for channel in channels]


def _crop(image, top, left, side):
    """The (side, side) square of ``image`` at (top, left); what lies outside the image is PADDING_VALUE."""
    crop = np.full((side, side, image.shape[2]), PADDING_VALUE, dtype=np.float32)
    first_row, first_column = max(top, 0), max(left, 0)
    last_row, last_column = min(top + side, image.shape[0]), min(left + side, image.shape[1])
    if last_row > first_row and last_column > first_column:
        crop[first_row - top:last_row - top, first_column - left:last_column - left] = \
            image[first_row:last_row, first_column:last_column]
    return crop


def top_patches(model, layer_name, images, channels, k=9, one_per_image=False, return_locations=False):
    """The image patches that excite each channel of a layer most: each one unit's receptive field.

    Every unit of every image is a candidate: for each channel, the ``k``
    units with the highest activation (the layer's output, after its
    activation function) over all images and positions are found, and the
    part of their image that each of them sees is cut out. Equal activations
    are ranked by image, then row, then column. Neighbouring units of one
    image often see nearly the same patch; ``one_per_image=True`` keeps only
    each image's strongest unit, so that the ``k`` patches come from ``k``
    different images.

    Parameters
    ----------
    model : keras.Model
        As in :func:`feature_extractor`. Not modified.
    layer_name : str
        A conv or pooling layer (its output must be feature maps), whose
        units' positions :func:`course_helpers.anatomy.unit_centres` can follow
        from the input (conv, pooling and element-wise layers on the way). The
        layers' kernels are taken as square, as the course's are.
    images : array_like, shape (N, H, W, C)
        The images to search, as the model takes them. The layer sees 16 at a
        time, so memory does not grow with N.
    channels : int or sequence of int
        The channels to explain, each from 0 to the layer's channels - 1.
    k : int, optional
        Patches per channel, from 1 to the number of units (N x rows x columns),
        or to N with ``one_per_image``. Default 9.
    one_per_image : bool, optional
        At most one patch per image: its unit with the highest activation
        (the first in row, then column order on ties). Default False.
    return_locations : bool, optional
        Also return the activations and where the units are. Default False.

    Returns
    -------
    numpy.ndarray of float32, shape (len(channels), k, h, w, C)
        Best first. ``h = w`` is the receptive field's side
        (:func:`course_helpers.anatomy.receptive_field`; 78 px for conv5 of the
        course's classifier). Where a unit's field reaches beyond the image
        (layers with 'same' padding), the crop holds :data:`PADDING_VALUE` (0.0),
        for every crop alike.
    activations : numpy.ndarray of float32, shape (len(channels), k)
        Only with ``return_locations``: each patch's activation.
    locations : numpy.ndarray of int, shape (len(channels), k, 3)
        Only with ``return_locations``: (image, row, column) of each patch's unit in the layer's output.

    Raises
    ------
    ValueError
        For an unknown layer (the message lists the valid names), a layer
        without feature maps or whose units cannot be located, a channel out
        of range, an empty ``channels``, or ``k`` out of range.
    TypeError
        If a channel or ``k`` is not an int.
    """
    from .arguments import check_int
    from .cam.maps import check_images

    anatomy.check_layer_names(model, [layer_name])
    array = check_images(model, images)
    extractor = feature_extractor(model, [layer_name])
    feature_shape = tuple(extractor.outputs[0].shape)
    if len(feature_shape) != 4:
        raise ValueError(f"{layer_name!r} gives outputs of shape {feature_shape}, not feature maps; "
                         f"choose a conv or pooling layer, e.g. one of {anatomy.list_layers(model)}.")
    _, rows, columns, count = feature_shape
    if rows is None or columns is None:  # a model that takes any image size: measure the maps of these images
        rows, columns = np.asarray(extractor(array[:1], training=False)[layer_name]).shape[1:3]
    channels = _channel_list(channels, count, layer_name)
    if not isinstance(one_per_image, (bool, np.bool_)):
        raise TypeError(f"one_per_image must be True or False, not {one_per_image!r}.")
    k = check_int(k, "k", 1, len(array) if one_per_image else len(array) * rows * columns)
    centres = anatomy.unit_centres(model, layer_name, array.shape[1:3])
    if centres is None:
        raise ValueError(f"the units of {layer_name!r} cannot be located in the input: a layer on the way changes "
                         f"the geometry in a way the course does not follow (resizing, padding, merging); "
                         f"choose an earlier layer.")
    side, _ = anatomy.receptive_field(model, layer_name)

    best_values = np.full((len(channels), 0), -np.inf, dtype=np.float32)
    best_places = np.zeros((len(channels), 0), dtype=np.int64)  # flat: image * rows * columns + row * columns + column
    for start in range(0, len(array), _CHUNK):  # bounded memory: the layer's maps of 16 images at a time
        maps = np.asarray(extractor(array[start:start + _CHUNK], training=False)[layer_name])
        chunk_values = maps[..., channels].reshape(-1, len(channels)).T  # (channels, units of these images)
        chunk_places = np.broadcast_to(start * rows * columns + np.arange(chunk_values.shape[1]), chunk_values.shape)
        if one_per_image:  # each image's strongest unit only: (channels, images of this chunk)
            per_image = chunk_values.reshape(len(channels), -1, rows * columns)
            strongest = per_image.argmax(axis=2)  # the first maximum: earliest row, then column
            chunk_values = np.take_along_axis(per_image, strongest[..., np.newaxis], axis=2)[..., 0]
            chunk_places = (start + np.arange(per_image.shape[1])) * rows * columns + strongest
        values = np.concatenate([best_values, chunk_values], axis=1)
        places = np.concatenate([best_places, chunk_places], axis=1)
        order = np.lexsort((places, -values), axis=1)[:, :k]  # highest first, then earliest
        best_values = np.take_along_axis(values, order, axis=1)
        best_places = np.take_along_axis(places, order, axis=1)

    image_index, unit = np.divmod(best_places, rows * columns)
    row, column = np.divmod(unit, columns)
    (row_offset, row_step), (column_offset, column_step) = centres
    tops = np.rint(row_offset + row_step * row - (side - 1) / 2).astype(int)  # the field's first row
    lefts = np.rint(column_offset + column_step * column - (side - 1) / 2).astype(int)
    patches = np.stack([np.stack([_crop(array[image_index[c, rank]], tops[c, rank], lefts[c, rank], side)
                                  for rank in range(k)]) for c in range(len(channels))])
    if return_locations:
        return patches, best_values.astype(np.float32), np.stack([image_index, row, column], axis=-1)
    return patches


def units_read_by(model, layer_name, later_layer_name):
    """Which units of a layer reach a later layer at all: a (rows, columns) array of True/False.

    A unit of ``layer_name`` is read by ``later_layer_name`` when its
    receptive field lies inside the receptive field of some unit of the later
    layer. With ``valid`` padding, the floor in each layer's output size drops
    the last rows and columns that do not fill a window, so the later layer
    may never read them. For the course's classifier, pool5 reads rows and
    columns 0 to 3 of conv5's 5x5 map, never row or column 4.

    Parameters
    ----------
    model : keras.Model
    layer_name, later_layer_name : str
        Conv or pooling layers, the second one after the first.

    Returns
    -------
    numpy.ndarray of bool, shape (rows, columns) of ``layer_name``'s output

    Raises
    ------
    ValueError
        For an unknown layer, a later layer that does not come after the
        first, or units that cannot be located in the input.
    """
    anatomy.check_layer_names(model, [layer_name, later_layer_name])
    leaves, first = anatomy.leaf_index(model, layer_name)
    _, later = anatomy.leaf_index(model, later_layer_name)
    if later <= first:
        raise ValueError(f"{later_layer_name!r} must come after {layer_name!r} in the model.")
    sides = []
    for name in (layer_name, later_layer_name):
        shape = tuple(feature_extractor(model, [name]).outputs[0].shape)
        centres = anatomy.unit_centres(model, name)
        if len(shape) != 4 or centres is None:
            raise ValueError(f"the units of {name!r} cannot be located in the input; choose conv or pooling layers.")
        sides.append((shape[1:3], centres, anatomy.receptive_field(model, name)[0]))
    (shape, centres, field), (later_shape, later_centres, later_field) = sides
    read = []
    for count, (offset, step), later_count, (later_offset, later_step) in zip(shape, centres, later_shape,
                                                                             later_centres):
        starts = offset + step * np.arange(count) - (field - 1) / 2          # each unit's first input pixel
        later_starts = later_offset + later_step * np.arange(later_count) - (later_field - 1) / 2
        inside = ((starts[:, np.newaxis] >= later_starts - 1e-9)
                  & (starts[:, np.newaxis] + field <= later_starts + later_field + 1e-9))
        read.append(inside.any(axis=1))
    return np.outer(read[0], read[1])


def plot_top_patches(model, layer_name, images, channels, found, labels=None, class_names=("horse", "human"),
                     read_by=None):
    """Draw what :func:`top_patches` found: one row per channel.

    Each row shows the picture that holds the channel's best unit, with that
    unit's receptive field outlined; the channel's feature map for that
    picture, from 0 (black) to its maximum, with the unit circled; then the
    top crops, best first, each titled with its activation (and its
    picture's class, coloured, when ``labels`` are given).

    Parameters
    ----------
    model : keras.Model
    layer_name : str
    images : array_like, shape (N, H, W, 3)
        The images :func:`top_patches` searched.
    channels : sequence of int
        The channels it explained, in its order.
    found : tuple
        What ``top_patches(..., return_locations=True)`` returned.
    labels : array_like of int, shape (N,), optional
        Each image's class, an index into ``class_names``.
    class_names : sequence of str, optional
    read_by : str, optional
        A later layer, e.g. ``"pool5"``. Crops from units it never reads
        (:func:`units_read_by`) get a dashed red frame, and each row counts
        them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Rectangle

    patches, values, places = found
    images = np.asarray(images)
    channels = [int(channel) for channel in np.atleast_1d(channels)]
    if len(channels) != len(patches):
        raise ValueError(f"found holds {len(patches)} channels' crops but channels names {len(channels)}; "
                         f"pass the channels given to top_patches.")
    field, jump = anatomy.receptive_field(model, layer_name)
    layer_model = feature_extractor(model, [layer_name])
    read = units_read_by(model, layer_name, read_by) if read_by is not None else None
    class_colours = ["tab:orange", "tab:blue", "tab:green", "tab:red"]
    k = patches.shape[1]
    fig, axes = plt.subplots(len(channels), k + 2, figsize=(0.95 * k + 3.2, 1.4 * len(channels) + 0.5),
                             width_ratios=[1.5, 1.5] + [1] * k, squeeze=False, constrained_layout=True)
    for row_axes, channel, crops, acts, where in zip(axes, channels, patches, values, places):
        image_index, row, column = (int(value) for value in where[0])
        named = f"\n{class_names[int(labels[image_index])]}" if labels is not None else ""
        row_axes[0].imshow(np.clip(images[image_index], 0, 1))
        row_axes[0].add_patch(Rectangle((column * jump - 0.5, row * jump - 0.5), field, field, fill=False,
                                        edgecolor="cyan", linewidth=2))
        if field < 20:  # a small square: ring it so that it can be found on the thumbnail
            row_axes[0].add_patch(matplotlib.patches.Circle((column * jump + field / 2, row * jump + field / 2),
                                                            radius=12, fill=False, edgecolor="cyan", linewidth=1.2))
        row_axes[0].set_title(f"ch {channel}, picture {image_index}{named}", fontsize=8)
        channel_map = np.asarray(layer_model.predict_on_batch(images[image_index:image_index + 1])[layer_name])
        channel_map = channel_map[0, ..., channel]
        row_axes[1].imshow(channel_map, cmap="magma", vmin=0, vmax=max(float(channel_map.max()), 1e-12))
        row_axes[1].plot(column, row, "o", markersize=12, markerfacecolor="none", markeredgecolor="cyan",
                         markeredgewidth=1.5)
        row_axes[1].set_title(f"{channel_map.shape[0]}x{channel_map.shape[1]} map, max {channel_map.max():.2f}",
                              fontsize=8)
        unread = 0
        for ax, crop, activation, (image, unit_row, unit_column) in zip(row_axes[2:], crops, acts, where):
            ax.imshow(np.clip(crop, 0, 1), interpolation="nearest")
            if labels is not None:
                label = int(labels[image])
                ax.set_title(f"{activation:.2f} {class_names[label]}", fontsize=7,
                             color=class_colours[label % len(class_colours)])
            else:
                ax.set_title(f"{activation:.2f}", fontsize=7)
            if read is not None and not read[unit_row, unit_column]:
                unread += 1
                for spine in ax.spines.values():  # drawn around the crop, not over it
                    spine.set(visible=True, color="red", linewidth=2.5, linestyle=(0, (3, 2)))
        if read is not None:
            row_axes[2].set_ylabel(f"{unread} of {k}\nnot read", fontsize=7, color="red" if unread else "0.3")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    note = f"; dashed red frame: a unit {read_by} never reads" if read is not None else ""
    fig.suptitle(f"{layer_name}: the top {k} crops of {len(channels)} channels, {field}x{field} px each, shown at "
                 f"one size; crop titles: activation{' and class' if labels is not None else ''}{note}", fontsize=9)
    return finish(fig)


def strongest_channels(maps, count=8):
    """The ``count`` channels with the largest mean activation, in channel order.

    Parameters
    ----------
    maps : array_like, shape (..., C)
        Feature maps of one or more pictures, channels last, e.g. (N, H, W, C).
    count : int, optional
        How many channels to keep (at most C). Default 8.

    Returns
    -------
    numpy.ndarray of int, shape (min(count, C),)
        Channel numbers, sorted ascending; ties go to the lower channel.
    """
    maps = np.asarray(maps)
    means = maps.reshape(-1, maps.shape[-1]).mean(axis=0)
    return np.sort(np.argsort(-means, kind="stable")[:count])


def centre_unit_gradient(network, layer_name, pictures):
    """|gradient| of one layer's centre unit with respect to the input, per pixel.

    The unit at (side // 2, side // 2) of ``layer_name``'s map, summed over its
    channels, is differentiated with respect to every picture; the absolute
    values are added over pictures and colour channels. Only for models whose
    layers are all ``valid`` and start at pixel 0, like the course's model.

    Parameters
    ----------
    network : keras.Model
    layer_name : str
        A layer of ``network`` with 2-D maps.
    pictures : array_like, shape (N, H, W, 3)
        Inputs in the model's range (the course's model: [0, 1]).

    Returns
    -------
    share : numpy.ndarray, shape (H, W)
        |gradient| per input pixel, divided by its total: 0 or more, adding up to 1.
    field_start : int
        The first row (and column) of the unit's theoretical receptive field.
    field_side : int
        The field's side, in pixels.
    """
    import keras
    import tensorflow as tf

    inner = keras.Model(network.inputs, network.get_layer(layer_name).output)
    inputs = tf.constant(np.asarray(pictures, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        maps = inner(inputs)
        centre_index = maps.shape[1] // 2
        centre = tf.reduce_sum(maps[:, centre_index, centre_index, :])
    gradient = np.abs(tape.gradient(centre, inputs).numpy()).sum(axis=(0, 3))
    field_side, field_jump = anatomy.receptive_field(network, layer_name)
    total = gradient.sum()
    share = gradient / total if total > 0 else gradient
    return share, centre_index * field_jump, field_side


def central_gradient_share(network, layer_name, pictures):
    """How much of a centre unit's |gradient| falls in the middle of its field.

    The middle is the central square whose side is two thirds of the field's
    (``2 * field_side // 3``), as in notebooks 2 and 5.

    Parameters
    ----------
    network, layer_name, pictures
        As for :func:`centre_unit_gradient`.

    Returns
    -------
    share_of_gradient : float
        In [0, 1]: the middle's share of the unit's |gradient|.
    share_of_area : float
        In (0, 1): the middle's share of the field's area.
    """
    share, field_start, field_side = centre_unit_gradient(network, layer_name, pictures)
    middle = 2 * field_side // 3
    start = field_start + (field_side - middle) // 2
    return float(share[start:start + middle, start:start + middle].sum()), middle ** 2 / field_side ** 2


def wilson_interval(accuracy, n, z=1.96):
    """Wilson's interval of an accuracy measured on ``n`` independent images.

    Parameters
    ----------
    accuracy : float
        In [0, 1].
    n : int
        The number of images it was measured on, 1 or more.
    z : float, optional
        1.96 (default) for a 95 % interval.

    Returns
    -------
    (float, float)
        How far the interval reaches below and above ``accuracy``, both 0 or
        more, in the units of ``accuracy``.
    """
    if n < 1:
        raise ValueError(f"an accuracy needs at least one image; got n={n}.")
    centre = (accuracy + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    spread = z * np.sqrt(accuracy * (1 - accuracy) / n + z ** 2 / (4 * n ** 2)) / (1 + z ** 2 / n)
    return max(0.0, accuracy - (centre - spread)), max(0.0, centre + spread - accuracy)


def depth_verdict(measure, layer_names, what):
    """One sentence: does ``measure`` end higher than it starts, and rise at every step?

    Parameters
    ----------
    measure : dict of str -> float
        A fraction in [0, 1] per layer, e.g. the share of exact zeros.
    layer_names : list of str
        The layers to compare, shallow to deep (at least two).
    what : str
        The measure's name, to start the sentence with.

    Returns
    -------
    str
        For example "Exact zeros: 44.0% in conv1, 60.2% in conv5. In this run,
        conv5 is sparser than conv1, but not every step adds sparsity (first step
        that does not: conv2 45.8% → conv3 37.0%)."
    """
    if len(layer_names) < 2:
        raise ValueError("a trend needs at least two layers.")
    first, last = layer_names[0], layer_names[-1]
    steps_not_up = [(a, b) for a, b in zip(layer_names, layer_names[1:]) if measure[b] <= measure[a]]
    ends_sparser = measure[last] > measure[first]
    sentence = (f"{what}: {measure[first]:.1%} in {first}, {measure[last]:.1%} in {last}. In this run, {last} is "
                f"{'' if ends_sparser else 'not '}sparser than {first}, ")
    if not steps_not_up:
        return sentence + "and every step adds sparsity."
    a, b = steps_not_up[0]
    return sentence + (f"{'but' if ends_sparser else 'and'} not every step adds sparsity (first step that does not: "
                       f"{a} {measure[a]:.1%} → {b} {measure[b]:.1%}).")


def held_out_correct(features, labels, half, steps=3000, learning_rate=0.5, l2=1e-3):
    """Per image: is a linear probe trained on the other half right about it?

    The probe is :func:`course_helpers.baseline.logistic_regression_accuracy`'s
    logistic regression (features standardized with the training half's mean and
    spread, gradient descent, a small L2 penalty). It is trained on half 0 and
    scores half 1, then the other way round, so every image is scored once, by a
    probe that never saw it. The mean of the result is that accuracy; keeping it
    per image lets two probes be compared on the same images.

    Parameters
    ----------
    features : array_like, shape (N, D)
        One row of features per image.
    labels : array_like of 0/1, shape (N,)
    half : array_like of 0/1, shape (N,)
        Which half each image belongs to; both halves must hold images.

    Returns
    -------
    numpy.ndarray of bool, shape (N,)
        True where the probe that did not see the image classifies it right.
    """
    features = np.asarray(features, dtype=float)
    labels = np.asarray(labels, dtype=float).reshape(-1)
    half = np.asarray(half).reshape(-1)
    if features.ndim != 2 or len(features) != len(labels) or len(labels) != len(half):
        raise ValueError(f"features must be (N, D) with one label and one half per row; got features "
                         f"{features.shape}, {len(labels)} labels, {len(half)} halves.")
    if not (np.any(half == 0) and np.any(half == 1)):
        raise ValueError("half must put some images in half 0 and some in half 1.")
    right = np.zeros(len(labels), dtype=bool)
    for train, test in [(half == 0, half == 1), (half == 1, half == 0)]:
        mean, spread = features[train].mean(axis=0), features[train].std(axis=0) + 1e-8
        train_x, test_x = (features[train] - mean) / spread, (features[test] - mean) / spread
        weights, bias = np.zeros(features.shape[1]), 0.0
        for _ in range(steps):
            p = 1 / (1 + np.exp(-(train_x @ weights + bias)))
            weights -= learning_rate * (train_x.T @ (p - labels[train]) / train.sum() + l2 * weights)
            bias -= learning_rate * (p - labels[train]).mean()
        right[test] = ((test_x @ weights + bias) > 0) == labels[test]
    return right
