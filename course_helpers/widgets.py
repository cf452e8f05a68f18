"""Interactive explorers for the notebooks.

Each explorer is a thin layer of ipywidgets controls over a plotting function
that also works on its own, so every picture exists without a live kernel.
Only widgets present in both ipywidgets 7.7 (Colab) and 8 are used.

The picture is shown in an ``Image`` widget, as PNG bytes, rather than through
an ``Output`` widget: nothing is printed into the notebook cell, so the cell's
stored output is the same whether or not a browser is attached (and nbval can
compare it).
"""
import io

import ipywidgets as widgets

import numpy as np

from . import activations, anatomy, conv, data, images, plotting

__all__ = ["conv_explorer", "conv_step_explorer", "kernel_playground", "uploaded_files", "image_classifier",
           "activation_browser", "grad_cam_explorer"]


class Explorer(widgets.VBox):
    """A VBox with a short, stable text form (what a notebook shows as plain text)."""

    def __init__(self, name, controls, image, message):
        self._name = name
        self.controls = controls
        self.image = image
        self.message = message
        super().__init__([widgets.HBox(list(controls.values())), message, image])

    def __repr__(self):
        def shown(control):
            if isinstance(control, widgets.FileUpload):
                return f"{len(uploaded_files(control))} file(s)"
            return repr(control.value)

        settings = ", ".join(f"{key}={shown(control)}" for key, control in self.controls.items())
        return f"{self._name}({settings})"


def _encode(figure, image_format="png"):
    """The figure as PNG (diagrams) or JPEG (photos: several times smaller) bytes."""
    buffer = io.BytesIO()
    options = {"pil_kwargs": {"quality": 85}} if image_format == "jpeg" else {}
    figure.savefig(buffer, format=image_format, dpi=80, bbox_inches="tight", **options)
    return buffer.getvalue()


def _explorer(name, controls, draw, image_format="png"):
    """Wire the controls to ``draw(**values)``, which returns a Figure."""
    image = widgets.Image(format=image_format)
    message = widgets.HTML()

    def redraw(_change=None):
        try:
            figure = draw(**{key: control.value for key, control in controls.items()})
        except ValueError as error:
            message.value = f"<b>Not possible:</b> {error}"
            image.layout.visibility = "hidden"
            return
        message.value = ""
        image.value = _encode(figure, image_format)
        image.layout.visibility = "visible"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Explorer(name, controls, image, message)


def conv_explorer(n=7, kernel_size=3, stride=1, padding="valid"):
    """Sliders for input size, kernel size, stride and padding over
    :func:`course_helpers.plotting.plot_conv_geometry`.

    Parameters
    ----------
    n, kernel_size, stride, padding
        Starting values (padding: ``"valid"``, ``"same"``, 1 or 2).

    Returns
    -------
    Explorer
        An ipywidgets box; display it (make it a cell's last line).
    """
    padding_options = [("valid", "valid"), ("same", "same"), ("1 per side", 1), ("2 per side", 2)]
    if padding not in [value for _, value in padding_options]:
        raise ValueError(f"padding must be one of 'valid', 'same', 1 or 2; got {padding!r}.")
    conv.output_size(n, kernel_size, stride, padding)  # reject an impossible start with its reason
    style = {"description_width": "70px"}
    controls = {
        "n": widgets.IntSlider(value=n, min=1, max=16, description="input n", style=style),
        "kernel_size": widgets.IntSlider(value=kernel_size, min=1, max=7, description="kernel k", style=style),
        "stride": widgets.IntSlider(value=stride, min=1, max=4, description="stride s", style=style),
        "padding": widgets.Dropdown(options=padding_options, value=padding, description="padding", style=style),
    }
    return _explorer("conv_explorer", controls, plotting.plot_conv_geometry)


def conv_step_explorer(image, kernel):
    """A slider that walks a kernel over an image, one step at a time,
    over :func:`course_helpers.plotting.plot_conv_step`.

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel : array_like, shape (kh, kw)

    Returns
    -------
    Explorer
    """
    out_shape = conv.conv2d(image, kernel).shape
    steps = out_shape[0] * out_shape[1]
    controls = {"step": widgets.IntSlider(value=0, min=0, max=steps - 1, description="step")}

    def draw(step):
        return plotting.plot_conv_step(image, kernel, *divmod(step, out_shape[1]))

    return _explorer("conv_step_explorer", controls, draw)


def kernel_playground(image=None, preset="sobel_x"):
    """Pick a preset kernel or type your own 3x3 weights, and see the result,
    over :func:`course_helpers.plotting.plot_kernel_result`.

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, 3), optional
        The picture to filter (colour images are turned gray). Default: the
        course's cat photo, in gray.
    preset : str, optional
        A name from :data:`course_helpers.conv.KERNELS`. Default ``"sobel_x"``.

    Returns
    -------
    Explorer
        ``controls["preset"]`` is the preset menu; ``weights`` holds the nine
        weight boxes, ``"w00"`` to ``"w22"`` (row, then column).
    """
    if preset not in conv.KERNELS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(conv.KERNELS)}.")
    picture = images.cat_image() if image is None else images.load_image(image)
    gray = images.luminance(picture)

    menu = widgets.Dropdown(options=list(conv.KERNELS) + ["custom"], value=preset, description="preset")
    boxes = {f"w{r}{c}": widgets.FloatText(value=float(conv.KERNELS[preset][r, c]), step=0.5,
                                           layout=widgets.Layout(width="70px"))
             for r in range(3) for c in range(3)}
    image_widget = widgets.Image(format="jpeg")
    message = widgets.HTML()
    filling = []  # non-empty while a preset writes its weights into the boxes

    def current_kernel():
        return np.array([[boxes[f"w{r}{c}"].value for c in range(3)] for r in range(3)])

    def redraw(_change=None):
        if filling:
            return
        kernel = current_kernel()
        if not np.all(np.isfinite(kernel)):
            message.value = "<b>Not possible:</b> every weight must be a finite number."
            return
        message.value = ""
        name = menu.value if menu.value != "custom" else "your kernel"
        image_widget.value = _encode(plotting.plot_kernel_result(gray, kernel, title=f"filtered with {name}"), "jpeg")

    def preset_chosen(change):
        if change["new"] == "custom":
            return
        filling.append(True)
        try:
            for (r, c), weight in np.ndenumerate(conv.KERNELS[change["new"]]):
                boxes[f"w{r}{c}"].value = float(weight)
        finally:
            filling.clear()
        redraw()

    def weight_typed(_change):
        if filling:
            return
        matching = [name for name, k in conv.KERNELS.items() if np.array_equal(k, current_kernel())]
        filling.append(True)
        try:
            menu.value = matching[0] if matching else "custom"
        finally:
            filling.clear()
        redraw()

    menu.observe(preset_chosen, names="value")
    for box in boxes.values():
        box.observe(weight_typed, names="value")
    redraw()

    grid = widgets.VBox([widgets.HBox([boxes[f"w{r}{c}"] for c in range(3)]) for r in range(3)])
    explorer = Explorer("kernel_playground", {"preset": menu}, image_widget, message)
    explorer.weights = boxes
    explorer.children = (widgets.HBox([menu, grid]), message, image_widget)
    return explorer


def uploaded_files(upload):
    """The files in a ``FileUpload`` widget, as (name, bytes) pairs.

    ipywidgets 7 (Colab) keeps a dict ``{name: {"content": bytes, ...}}``;
    ipywidgets 8 a tuple of dicts with ``"name"`` and ``"content"`` (a
    memoryview). Both come out the same here.
    """
    value = upload.value
    if isinstance(value, dict):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def _prediction_figure(model, named_images):
    from . import models

    pictures, titles = [], []
    for name, source in named_images:
        try:
            label, probability = models.predict_image(model, source)
        except (ValueError, TypeError) as error:
            pictures.append(np.ones((8, 8, 3)))
            titles.append(f"{name}\ncannot read it: {str(error)[:40]}...")
            continue
        probability_human = probability if label == "human" else 1.0 - probability
        pictures.append(images.load_image(source))
        # the model's output, P(human), as notebook 4 prints it everywhere else
        titles.append(f"{name}\n{label}: P(human) = {probability_human:.2f}")
    return plotting.show_images(pictures, titles, ncols=min(len(pictures), 4), size=2.6)


def image_classifier(model, samples=None):
    """Upload photos and see what the classifier makes of them.

    Without an upload it shows the predictions for ``samples``. Works with
    ipywidgets 7 (Colab) and 8; anything :func:`course_helpers.images.load_image`
    cannot read gets its reason in place of a prediction.

    Parameters
    ----------
    model : keras.Model
        The horse-or-human classifier.
    samples : dict of name -> image, optional
        Shown before anything is uploaded. Default: the bundled astronaut,
        horse silhouette and cat.

    Returns
    -------
    Explorer
        ``controls["upload"]`` is the FileUpload widget.
    """
    if samples is None:
        samples = {name: images.sample_image(name) for name in ("astronaut", "horse", "cat")}
    upload = widgets.FileUpload(accept="image/*", multiple=True, description="Upload photos")
    image_widget = widgets.Image(format="jpeg")
    message = widgets.HTML("Showing the bundled sample photos. Upload your own to classify them.")

    def show(named_images):
        image_widget.value = _encode(_prediction_figure(model, named_images), "jpeg")

    def uploaded(_change):
        files = uploaded_files(upload)
        if files:
            message.value = f"{len(files)} uploaded file(s):"
            show(files)

    upload.observe(uploaded, names="value")
    show(list(samples.items()))
    return Explorer("image_classifier", {"upload": upload}, image_widget, message)


def activation_browser(model, pictures, layer_names=None):
    """Choose an image, a layer and a channel, and see that feature map,
    over :func:`course_helpers.activations.plot_channel`.

    Parameters
    ----------
    model : keras.Model
    pictures : dict of name -> image
        Any image :func:`course_helpers.images.load_image` reads; resized to
        the model's input size. The feature maps are computed once, up front.
    layer_names : sequence of str, optional
        Default: every conv and pooling layer.

    Returns
    -------
    Explorer
    """
    if not pictures:
        raise ValueError("pictures is empty: pass a dict like {'horse': image, 'human': image}.")
    extractor = activations.feature_extractor(model, layer_names)
    height, width = model.inputs[0].shape[1:3]
    loaded = {name: data.model_input(picture, (height, width)) for name, picture in pictures.items()}
    maps = {name: {layer: np.asarray(value) for layer, value in extractor(picture[np.newaxis]).items()}
            for name, picture in loaded.items()}
    layers = list(next(iter(maps.values())))
    channels = {layer: next(iter(maps.values()))[layer].shape[-1] for layer in layers}
    controls = {
        "image": widgets.Dropdown(options=list(loaded), description="image"),
        "layer": widgets.Dropdown(options=layers, description="layer"),
        "channel": widgets.IntSlider(value=0, min=0, max=channels[layers[0]] - 1, description="channel"),
    }

    def fit_channel_range(change):
        slider = controls["channel"]
        slider.value = min(slider.value, channels[change["new"]] - 1)
        slider.max = channels[change["new"]] - 1

    # Registered first, so the slider's range is right before the picture is redrawn.
    controls["layer"].observe(fit_channel_range, names="value")

    def draw(image, layer, channel):
        return activations.plot_channel(maps[image], layer, channel, image=loaded[image])

    return _explorer("activation_browser", controls, draw)


def grad_cam_explorer(model, samples=None, layer_names=None):
    """Upload photos and see the prediction and Grad-CAM for both classes, at a chosen layer,
    over :func:`course_helpers.cam.plot_grad_cam`.

    Parameters
    ----------
    model : keras.Model
        The horse-or-human classifier.
    samples : dict of name -> image, optional
        Shown until something is uploaded. Default: the bundled astronaut,
        horse silhouette and cat.
    layer_names : sequence of str, optional
        The layers to choose from. Default: every conv layer, deepest first.

    Returns
    -------
    Explorer
    """
    from . import cam

    if samples is None:
        samples = {name: images.sample_image(name) for name in ("astronaut", "horse", "cat")}
    if layer_names is None:
        layer_names = [layer.name for layer in reversed(anatomy.all_layers(model))
                       if type(layer).__name__ == "Conv2D"]
    upload = widgets.FileUpload(accept="image/*", multiple=True, description="Upload photos")
    controls = {"layer": widgets.Dropdown(options=list(layer_names), description="layer"), "upload": upload}
    info = widgets.HTML("Showing the bundled sample photos. Upload your own to explain them.")

    def pictures():
        readable, skipped = {}, []
        for name, content in uploaded_files(upload):
            try:
                images.load_image(content)
                readable[name] = content
            except (ValueError, TypeError) as error:
                skipped.append(f"<b>{name}</b> skipped: {error}")
        if readable or skipped:
            info.value = "<br>".join([f"{len(readable)} uploaded photo(s)."] + skipped)
        return readable or samples

    def draw(layer, upload):  # the upload's value is read through pictures()
        return cam.plot_grad_cam(model, pictures(), layer)

    explorer = _explorer("grad_cam_explorer", controls, draw, image_format="jpeg")
    explorer.children = (info,) + tuple(explorer.children)
    return explorer
