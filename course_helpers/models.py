"""The course's horse-or-human classifier, its training recipe, and predictions.

:func:`build_classifier` is the network of the seed codelab, on Keras 3.
Notebook 4 trains it step by step; :func:`load_or_train_classifier` gives
notebooks 5 to 7 the same trained model (loaded from disk, or trained with the
same recipe), so each of them also runs on its own.
"""
import contextlib
import os
import tempfile
import urllib.parse
from pathlib import Path

import numpy as np

from . import DEFAULT_SEED, course_seed, data, files
from .arguments import check_int

__all__ = [
    "RECIPE",
    "build_classifier",
    "learning_rate_callback",
    "default_model_path",
    "train_classifier",
    "save_classifier",
    "load_or_train_classifier",
    "predict_image",
    "imagenet_vgg16",
    "imagenet_mobilenet_v2",
    "imagenet_class_name",
]

#: How notebook 4 trains the classifier: AdamW (Adam with weight decay) at 1e-3, and 10 times
#: less for the last epochs, so the weights settle. ``bench/training_recipes.py`` measures it
#: against the codelab's RMSprop at 1e-3 over many seeds.
RECIPE = {"epochs": 14, "final_epochs": 3, "batch_size": 32, "learning_rate": 1e-3, "final_learning_rate": 1e-4,
          "weight_decay": 0.05}

#: The smallest input that survives five 3x3 'valid' conv + 2x2 pool blocks (94 -> ... -> 1x1).
MIN_IMG_SIZE = 94

VGG16_WEIGHTS = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
VGG16_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + VGG16_WEIGHTS
#: Keras's own checksums of the VGG16 weight files (with the top: True, without: False).
VGG16_MD5 = {True: "64373286793e3c8b2b4e3219cbf3544b", False: "6d6bbae143d832006294945121d1f1fc"}
IMAGENET_CLASSES_FILE = "imagenet_class_index.json"
IMAGENET_CLASSES_URL = "https://storage.googleapis.com/download.tensorflow.org/data/" + IMAGENET_CLASSES_FILE
IMAGENET_CLASSES_MD5 = "c2c37ea517e94d9795004a39431a14cb"  # Keras's own checksum of that file
MOBILENET_V2_WEIGHTS = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"
MOBILENET_V2_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/" + MOBILENET_V2_WEIGHTS


def build_classifier(img_size=150, learning_rate=RECIPE["learning_rate"]):
    """The seed codelab's horse-or-human network, compiled with notebook 4's optimizer (AdamW).

    Five blocks of a 3x3 convolution (16, 32, 64, 64, 64 filters, ReLU) and a
    2x2 max pooling, then Flatten, Dense(512, ReLU) and Dense(1, sigmoid).

    Parameters
    ----------
    img_size : int, optional
        Side of the square input. Default 150 (the codelab used 300).
    learning_rate : float, optional
        AdamW's learning rate. Default 1e-3; :func:`train_classifier` lowers it
        for the last epochs with :func:`learning_rate_callback`.

    Returns
    -------
    keras.Sequential
        Takes float32 images (batch, img_size, img_size, 3) in [0, 1]; outputs
        the probability of "human". Compiled with binary cross-entropy and accuracy.
    """
    import keras

    img_size = check_int(img_size, "img_size", MIN_IMG_SIZE)  # below: five blocks shrink the image to nothing
    layers = [keras.Input(shape=(img_size, img_size, 3), name="image")]
    for block, filters in enumerate([16, 32, 64, 64, 64], start=1):
        layers += [keras.layers.Conv2D(filters, 3, activation="relu", name=f"conv{block}"),
                   keras.layers.MaxPooling2D(2, name=f"pool{block}")]
    layers += [keras.layers.Flatten(name="flatten"),
               keras.layers.Dense(512, activation="relu", name="dense"),
               keras.layers.Dense(1, activation="sigmoid", name="human_probability")]
    model = keras.Sequential(layers, name="horse_or_human")
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=RECIPE["weight_decay"]),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def learning_rate_callback(epochs=RECIPE["epochs"], final_epochs=RECIPE["final_epochs"]):
    """The recipe's schedule as a Keras callback: ``RECIPE["learning_rate"]``, then
    ``RECIPE["final_learning_rate"]`` for the last ``final_epochs`` of ``epochs``."""
    import keras

    def learning_rate(epoch):
        return RECIPE["learning_rate"] if epoch < epochs - final_epochs else RECIPE["final_learning_rate"]

    return keras.callbacks.LearningRateScheduler(learning_rate)


def _resolved_source(source):
    """Which data a model for ``source`` is trained on: "real" or "standin" (found quietly: the
    data's own line is printed when it is loaded)."""
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return data.source_of(data.horse_or_human("train", source))


def default_model_path(img_size=150, source="standin"):
    """Where the trained model is saved: ``data/models/horse_or_human_{source}_{img_size}.keras``.

    The data source is part of the name, so a model trained on the stand-in is
    never mistaken for one trained on the real photos. Under a ``COURSE_SEED``
    other than the stored run's, the name ends in ``_seed{S}``: another seed
    trains (and, on the stand-in, draws) another model.
    """
    if source not in ("real", "standin"):
        raise ValueError(f"source must be 'real' or 'standin'; got {source!r}.")
    seed = course_seed()
    suffix = "" if seed == DEFAULT_SEED else f"_seed{seed}"
    return data.data_dir() / "models" / f"horse_or_human_{source}_{img_size}{suffix}.keras"


def train_classifier(img_size=150, epochs=RECIPE["epochs"], source="auto", verbose=2):
    """Build and train the classifier with notebook 4's recipe (:data:`RECIPE`).

    The learning rate drops for the last ``RECIPE["final_epochs"]`` epochs
    (or the last fifth of a shorter run).

    Returns
    -------
    (keras.Model, keras.callbacks.History)
    """
    train = data.load_dataset("train", img_size, RECIPE["batch_size"], source=source)
    validation = data.load_dataset("validation", img_size, RECIPE["batch_size"], source=source)
    model = build_classifier(img_size)
    # notebook 4's schedule at the recipe's length, so a model trained here is notebook 4's model;
    # a shorter run drops the rate for its last fifth
    final_epochs = RECIPE["final_epochs"] if epochs >= RECIPE["epochs"] else max(1, epochs // 5)
    history = model.fit(train, validation_data=validation, epochs=epochs, verbose=verbose,
                        callbacks=[learning_rate_callback(epochs, final_epochs)])
    return model, history


def save_classifier(model, path):
    """Save a model atomically: to a temporary file next to ``path``, then renamed into place."""
    with files.atomic_file(path, suffix=".keras") as temporary:
        model.save(temporary)
    return Path(path)


def load_or_train_classifier(img_size=150, epochs=RECIPE["epochs"], path=None, source="auto"):
    """The trained classifier: loaded from ``path``, or trained now and saved there.

    Parameters
    ----------
    img_size : int, optional
        Default 150.
    epochs : int, optional
        Used only when training. Default: notebook 4's recipe.
    path : str or pathlib.Path, optional
        Default: :func:`default_model_path` for the data in use.
    source : {"auto", "real", "standin"}, optional
        See :func:`course_helpers.data.horse_or_human`.

    Returns
    -------
    keras.Model
    """
    import keras

    path = Path(path) if path is not None else default_model_path(img_size, _resolved_source(source))
    if path.is_file():
        try:
            model = keras.models.load_model(path)
            print(f"loaded the trained classifier ({path.name})")
            return model
        except Exception as error:  # a damaged or incompatible file: train a fresh one
            print(f"could not load {path.name} ({type(error).__name__}); training a new classifier")
    print(f"training the classifier ({epochs} epochs at {img_size} px); this takes a minute or two on a CPU")
    model, _ = train_classifier(img_size, epochs, source)
    save_classifier(model, path)
    return model


def predict_image(model, image):
    """Classify one image of any kind :func:`course_helpers.images.load_image` accepts.

    Parameters
    ----------
    model : keras.Model
        The classifier (one sigmoid output: the probability of "human").
    image : path, bytes, file object, PIL image or array
        Resized to the model's input size as the training pipeline resizes
        (:func:`course_helpers.data.model_input`).

    Returns
    -------
    (str, float)
        ``("human", p)`` when p = P(human) > 0.5 (as Keras's accuracy counts it), else ``("horse", 1 - p)``:
        the label and the model's probability for that label, in [0.5, 1].
    """
    height, width = model.input_shape[1:3]
    picture = data.model_input(image, (height, width))  # the pixels training saw
    probability_human = float(np.asarray(model.predict(picture[np.newaxis], verbose=0)).reshape(-1)[0])
    if probability_human > 0.5:
        return "human", probability_human
    return "horse", 1.0 - probability_human


def _keras_models_dir():
    """Where Keras caches downloaded files: ``$KERAS_HOME/models``, else ``~/.keras/models``,
    else (neither writable) ``/tmp/.keras/models``, as Keras itself chooses."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    with contextlib.suppress(OSError):
        (home / "models").mkdir(parents=True, exist_ok=True)
    if not os.access(home, os.W_OK):
        home = Path(tempfile.gettempdir()) / ".keras"
        (home / "models").mkdir(parents=True, exist_ok=True)
    return home / "models"


def _cached_or_downloaded(label, file_name, url, md5=None, say=print):
    """Path to ``file_name`` in Keras's cache, downloading it if needed; None if it cannot be had,
    after one line saying why (given to ``say``).

    Offline (``COURSE_DATA=standin`` or ``COURSE_OFFLINE=1``) nothing is downloaded, not even a
    connection tried.
    """
    import keras

    from . import data_mode, offline

    folder = _keras_models_dir()
    if (folder / file_name).is_file() and offline():
        return folder / file_name  # used as it is: a check that failed would start a download
    if not (folder / file_name).is_file():
        if offline():
            why = "COURSE_DATA=standin" if data_mode() == "standin" else "COURSE_OFFLINE=1"
            say(f"{label} skipped: its ImageNet files are not cached here, and {why} (offline mode) downloads "
                f"nothing. Unset {why.split('=')[0]} on a machine with a network to run this section.")
            return None
        if data.unreachable(url):
            host = urllib.parse.urlparse(url).hostname
            say(f"{label} skipped: its ImageNet files are not cached here, and {host} cannot be reached "
                  f"(no network?).")
            return None
    try:
        # The folder is named explicitly: Keras reads KERAS_HOME once, when it is imported.
        return Path(keras.utils.get_file(file_name, url, cache_dir=str(folder.parent), cache_subdir="models",
                                         file_hash=md5))
    except Exception as error:  # an interrupted download, a server error
        say(f"{label} skipped: {file_name} could not be downloaded ({type(error).__name__}: {error}).")
        return None


def _imagenet_model(label, build, weights_name, url, md5=None):
    """``build(weights_file)`` with the ImageNet weights; None and one line saying why when they cannot be had."""
    path = _cached_or_downloaded(label, weights_name, url, md5)
    if path is None:
        return None
    try:
        return build(str(path))
    except Exception as error:  # a damaged or truncated file
        print(f"{label} skipped: its weights in {path} could not be loaded ({type(error).__name__}: {error}). "
              f"Delete that file to download it again.")
        return None


def imagenet_class_name(index):
    """The name of ImageNet class ``index`` (0 to 999), e.g. ``'tabby'``.

    The names are a small download (35 kB), cached by Keras like the weights;
    without them (offline) this returns ``'ImageNet class <index>'``.
    """
    import json

    index = check_int(index, "index (an ImageNet class)", 0, 999)
    path = _cached_or_downloaded("ImageNet class names", IMAGENET_CLASSES_FILE, IMAGENET_CLASSES_URL,
                                 IMAGENET_CLASSES_MD5, say=lambda line: None)  # the fallback name says enough
    fallback = f"ImageNet class {int(index)}"
    if path is None:
        return fallback
    try:
        return json.loads(path.read_text(encoding="utf-8"))[str(int(index))][1]
    except (OSError, ValueError, KeyError, IndexError):
        return fallback


def imagenet_vgg16(include_top=True):
    """Keras's VGG16 with ImageNet weights, or None when the weights cannot be had.

    The weights (528 MB with the classifier top, 58 MB without) are cached by
    Keras under ``~/.keras/models``. When they are not cached and cannot be
    downloaded (no network, or ``COURSE_DATA=standin``), this prints one line
    saying why and returns None, so the optional sections of notebooks 5 and 6
    can skip themselves.

    Building VGG16 *with* its classifier top and loading its weights takes
    about 2.3 GB of memory on top of the kernel's own (its dense layers hold
    124 million of its 138 million weights), more than Binder's 2 GB in all:
    notebook 7 uses :func:`imagenet_mobilenet_v2` instead. Without the top it
    takes about 0.1 GB. (Both measured by ``bench/imagenet_memory.py``.)

    Returns
    -------
    keras.Model or None
    """
    import keras

    name = VGG16_WEIGHTS if include_top else VGG16_WEIGHTS.replace(".h5", "_notop.h5")
    url = VGG16_URL.rsplit("/", 1)[0] + "/" + name
    md5 = VGG16_MD5[include_top]
    return _imagenet_model("VGG16", lambda path: keras.applications.VGG16(weights=path, include_top=include_top),
                           name, url, md5)


def imagenet_mobilenet_v2():
    """Keras's MobileNetV2 ImageNet classifier (224 x 224 px input), or None when the weights cannot be had.

    A small ImageNet classifier (3.5 million weights, a 14 MB download) for
    explaining real photos in notebook 7. Inputs are RGB in [-1, 1]: use
    ``keras.applications.mobilenet_v2.preprocess_input`` on pixels in [0, 255].
    Its last conv layer is ``"Conv_1"``. Returns None with one line saying why
    when the weights are not cached and cannot be downloaded.

    Returns
    -------
    keras.Model or None
    """
    import keras

    return _imagenet_model("MobileNetV2", lambda path: keras.applications.MobileNetV2(weights=path),
                           MOBILENET_V2_WEIGHTS, MOBILENET_V2_URL)
