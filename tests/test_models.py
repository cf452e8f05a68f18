"""course_helpers.models and the load_dataset pipeline, on small generated data.

Nothing here trains the full course model: the architecture, saving, loading,
predictions and labels are checked on tiny inputs, so the tests stay fast.
"""
import io
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from course_helpers import data, models


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)  # the same random weights whatever ran before
    return models.build_classifier(img_size=94)


def test_classifier_architecture_follows_the_codelab():
    model = models.build_classifier(150)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [layer.filters for layer in convs] == [16, 32, 64, 64, 64]
    assert all(layer.kernel_size == (3, 3) and layer.activation.__name__ == "relu" for layer in convs)
    assert [type(layer).__name__ for layer in model.layers].count("MaxPooling2D") == 5
    assert model.get_layer("dense").units == 512 and model.layers[-1].activation.__name__ == "sigmoid"
    assert model.input_shape == (None, 150, 150, 3) and model.output_shape == (None, 1)
    assert model.count_params() == 229_537
    optimizer = model.optimizer
    assert type(optimizer).__name__ == "AdamW" and np.isclose(float(optimizer.learning_rate), 1e-3)
    assert np.isclose(optimizer.weight_decay, models.RECIPE["weight_decay"])
    with pytest.raises(ValueError, match="at least 94"):
        models.build_classifier(93)
    side = 94  # the smallest size really works, and one less would not
    from course_helpers import conv
    for _ in range(5):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    assert side == 1 and models.build_classifier(94).output_shape == (None, 1)


def test_default_model_path_names_the_data_source(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert models.default_model_path(150, "standin") == tmp_path / "models" / "horse_or_human_standin_150.keras"
    assert models.default_model_path(300, "real").name == "horse_or_human_real_300.keras"
    with pytest.raises(ValueError, match="'real' or 'standin'"):
        models.default_model_path(150, "auto")


def test_save_is_atomic_and_load_or_train_loads_without_training(small_model, tmp_path, capsys):
    path = tmp_path / "models" / "m.keras"
    models.save_classifier(small_model, path)
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["m.keras"]
    loaded = models.load_or_train_classifier(img_size=94, path=path)
    assert "loaded the trained classifier" in capsys.readouterr().out
    probe = np.random.default_rng(0).random((2, 94, 94, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(probe, verbose=0), small_model.predict(probe, verbose=0), atol=1e-6)


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    class Broken:
        def save(self, filename):
            with open(filename, "wb") as handle:
                handle.write(b"half a model")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        models.save_classifier(Broken(), tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def encode(image, fmt="PNG"):
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def test_predict_image_accepts_every_image_mode(small_model, tmp_path):
    rgb = (np.random.default_rng(1).random((40, 50, 3)) * 255).astype(np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    sources = {
        "path": path, "str path": str(path), "bytes": path.read_bytes(), "PIL RGB": Image.fromarray(rgb),
        "grayscale L": Image.fromarray(rgb[:, :, 0]), "palette P": Image.fromarray(rgb).convert("P"),
        "RGBA": Image.fromarray(rgb).convert("RGBA"), "LA": Image.fromarray(rgb).convert("LA"),
        "CMYK": Image.fromarray(rgb).convert("CMYK"), "16-bit": encode(Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257)),
        "JPEG bytes": encode(Image.fromarray(rgb), "JPEG"), "uint8 array": rgb, "float array": rgb / 255.0,
        "gray array": rgb[:, :, 0],
    }
    probability_human = {}
    for name, source in sources.items():
        label, probability = models.predict_image(small_model, source)
        probability_human[name] = probability if label == "human" else 1 - probability
        expected = float(small_model.predict(data.model_input(source, 94)[None], verbose=0)[0, 0])
        assert probability_human[name] == pytest.approx(expected, abs=1e-6), name
    # The same pixels, whatever the container: a file, its bytes, a PIL image or an array.
    same = [probability_human[name] for name in ("path", "str path", "bytes", "PIL RGB", "uint8 array", "float array")]
    assert max(same) - min(same) < 1e-6
    # The label and the probability are the model's output for the pipeline's pixels.
    raw = float(small_model.predict(data.model_input(rgb, 94)[None], verbose=0)[0, 0])
    label, probability = models.predict_image(small_model, rgb)
    assert label == ("human" if raw > 0.5 else "horse")
    assert probability == pytest.approx(raw if label == "human" else 1 - raw, abs=1e-6)
    with pytest.raises(ValueError, match="not an image"):
        models.predict_image(small_model, b"not an image")


def test_load_dataset_labels_follow_the_folders(tmp_path, monkeypatch):
    # Colour-coded images: red horses and blue humans, so each label can be checked against its picture.
    folder = tmp_path / "split"
    for kind, colour in [("horses", (250, 0, 0)), ("humans", (0, 0, 250))]:
        (folder / kind).mkdir(parents=True)
        for i in range(7):
            Image.new("RGB", (40, 30), colour).save(folder / kind / f"{kind}{i}.png")
    monkeypatch.setattr(data, "horse_or_human", lambda split, source: folder)
    for shuffle in (False, True):
        dataset = data.load_dataset("train", img_size=32, batch_size=4, shuffle=shuffle)
        batches = list(dataset)
        assert [tuple(x.shape) for x, _ in batches] == [(4, 32, 32, 3)] * 3 + [(2, 32, 32, 3)]
        pictures = np.concatenate([x.numpy() for x, _ in batches])
        labels = np.concatenate([y.numpy() for _, y in batches]).reshape(-1)
        assert pictures.dtype == np.float32 and 0 <= pictures.min() and pictures.max() <= 1
        is_blue = pictures[:, :, :, 2].mean(axis=(1, 2)) > pictures[:, :, :, 0].mean(axis=(1, 2))
        np.testing.assert_array_equal(labels, is_blue.astype(float))  # 1 = human = blue
        if not shuffle:
            assert labels.tolist() == [0.0] * 7 + [1.0] * 7
            assert [p.split("/")[-2] for p in dataset.file_paths] == ["horses"] * 7 + ["humans"] * 7
    assert dataset.class_names == ["horses", "humans"]
    subset = data.load_dataset("train", img_size=32, batch_size=100, shuffle=False, per_class=2)
    assert np.concatenate([y.numpy() for _, y in subset]).reshape(-1).tolist() == [0, 0, 1, 1]
    assert len(subset.file_paths) == 4
    # drawn at random with the seed, not the first by file name: the same seed, the same draw
    draws = [tuple(data.load_dataset("train", img_size=32, shuffle=False, per_class=2, seed=seed).file_paths)
             for seed in range(6)]
    assert draws[0] == tuple(data.load_dataset("train", img_size=32, shuffle=False, per_class=2, seed=0).file_paths)
    assert len(set(draws)) > 1, "another seed draws other pictures"
    # Keras is told the subset's length (a filter alone would hide it): 4 images in batches of 3
    assert int(data.load_dataset("train", img_size=32, batch_size=3, per_class=2).cardinality()) == 2


def test_vgg16_is_none_with_a_reason_when_the_weights_cannot_be_had(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached weights here
    monkeypatch.setenv("COURSE_DATA", "auto")
    monkeypatch.setattr(models, "VGG16_URL", "http://127.0.0.1:9/vgg16.h5")  # nothing listens on port 9
    assert models.imagenet_vgg16() is None
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("VGG16 skipped") and "127.0.0.1 cannot be reached" in printed
    assert printed.count("\n") == 0


def test_the_offline_mode_skips_imagenet_models_without_touching_the_network(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA", "standin")

    def no_network(url, timeout=3):
        raise AssertionError(f"the offline mode tried to reach {url}")

    monkeypatch.setattr(data, "unreachable", no_network)
    assert models.imagenet_vgg16(include_top=False) is None
    assert models.imagenet_mobilenet_v2() is None
    printed = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" skipped")[0] for line in printed] == ["VGG16", "MobileNetV2"]
    assert all("COURSE_DATA=standin" in line for line in printed)


def test_broken_cached_weights_are_reported_with_the_file_to_delete(tmp_path, monkeypatch, capsys):
    (tmp_path / "models").mkdir()
    broken = tmp_path / "models" / models.MOBILENET_V2_WEIGHTS
    broken.write_bytes(b"an interrupted download")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for mode in ("standin", "auto"):
        monkeypatch.setenv("COURSE_DATA", mode)
        assert models.imagenet_mobilenet_v2() is None
        out = capsys.readouterr().out
        assert out.startswith("MobileNetV2 skipped: its weights in") and "Delete that file" in out
        assert str(broken) in out


def test_the_offline_mode_uses_cached_files_as_they_are(tmp_path, monkeypatch):
    # A cached VGG16 file that fails Keras's checksum must not start a 528 MB download offline.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / models.VGG16_WEIGHTS).write_bytes(b"not the real weights")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA", "standin")
    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: pytest.fail("tried to download"))
    seen = []
    monkeypatch.setattr(keras.applications, "VGG16", lambda weights, include_top: seen.append(weights) or "model")
    assert models.imagenet_vgg16() == "model" and seen == [str(tmp_path / "models" / models.VGG16_WEIGHTS)]


def test_imagenet_class_names_from_the_cache_or_a_plain_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA", "standin")
    assert models.imagenet_class_name(281) == "ImageNet class 281"
    (tmp_path / "models" / models.IMAGENET_CLASSES_FILE).write_text('{"281": ["n02123045", "tabby"]}')
    assert models.imagenet_class_name(np.int64(281)) == "tabby"
    assert capsys.readouterr().out == ""
    for wrong, error in ((1000, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="from 0 to 999|must be an int"):
            models.imagenet_class_name(wrong)


def test_predict_image_sees_the_pixels_the_pipeline_gives(tmp_path, monkeypatch):
    """The same files, through load_dataset and through predict_image: the same probabilities."""
    import keras

    rng = np.random.default_rng(4)
    for kind in data.CLASS_NAMES:
        (tmp_path / "split" / kind).mkdir(parents=True)
        for i in range(3):
            # Smooth pictures of odd sizes, so the resize to the model's size really interpolates.
            small = rng.random((int(rng.integers(5, 12)), int(rng.integers(5, 12)), 3))
            picture = Image.fromarray((small * 255).astype(np.uint8)).resize(
                (int(rng.integers(97, 331)), int(rng.integers(97, 331))), Image.Resampling.BICUBIC)
            picture.save(tmp_path / "split" / kind / f"{kind}{i}.png")
    monkeypatch.setattr(data, "horse_or_human", lambda split, source="auto": tmp_path / "split")
    keras.utils.set_random_seed(3)
    model = models.build_classifier(94)
    model.layers[-1].set_weights([w * 40 for w in model.layers[-1].get_weights()])  # spread the outputs out
    dataset = data.load_dataset("validation", img_size=94, batch_size=4)
    through_pipeline = model.predict(dataset, verbose=0).ravel()
    assert through_pipeline.std() > 1e-3, "the probabilities differ between files"
    for path, expected in zip(dataset.file_paths, through_pipeline):
        label, probability = models.predict_image(model, path)
        assert (probability if label == "human" else 1 - probability) == pytest.approx(expected, abs=1e-3)
        assert np.array_equal(data.model_input(path, 94), data.model_input(Path(path).read_bytes(), 94))


def test_train_classifier_drops_the_rate_as_notebook_4_does(monkeypatch):
    # A learner who opens notebook 5, 6 or 7 first gets a model trained here: it must be notebook 4's.
    schedules = []

    class FakeModel:
        def fit(self, *args, epochs, callbacks, **kwargs):
            schedule = callbacks[0].schedule
            schedules.append([schedule(epoch) for epoch in range(epochs)])
            return "history"

    monkeypatch.setattr(models.data, "load_dataset", lambda *args, **kwargs: None)
    monkeypatch.setattr(models, "build_classifier", lambda *args, **kwargs: FakeModel())
    models.train_classifier()
    full = schedules[-1]
    assert len(full) == models.RECIPE["epochs"]
    assert full.count(models.RECIPE["final_learning_rate"]) == models.RECIPE["final_epochs"]
    assert full[-models.RECIPE["final_epochs"] - 1] == models.RECIPE["learning_rate"]
    models.train_classifier(epochs=5)
    assert schedules[-1].count(models.RECIPE["final_learning_rate"]) == 1
