"""Notebook 04's mirror-test checker (exercise 6), on a small stand-in model whose answers are known."""
import numpy as np

from course_helpers import checks
from course_helpers.checks.training import _mirror_counts


class LeftHeavyModel:
    """P(human) from how much brighter the left half of a picture is than its right half: not mirror-symmetric."""

    def predict_on_batch(self, batch):
        batch = np.asarray(batch)
        half = batch.shape[2] // 2
        score = batch[:, :, :half, 0].mean(axis=(1, 2)) - batch[:, :, half:, 2].mean(axis=(1, 2))
        return (1 / (1 + np.exp(-20 * score)))[:, np.newaxis]


def dataset(seed=0, batches=3, size=8):
    rng = np.random.default_rng(seed)
    return [(rng.random((4, size, size, 3), dtype=np.float32), rng.integers(0, 2, (4, 1)).astype(np.float32))
            for _ in range(batches)]


def printed_by(capsys, *arguments):
    checks.check_mirror_test(*arguments)
    return capsys.readouterr().out


def test_mirror_counts_are_right_on_a_hand_checked_case():
    model, data = LeftHeavyModel(), dataset()
    counts = _mirror_counts(model, data)
    expected = 0
    for batch, _ in data:
        upright, mirrored = model.predict_on_batch(batch), model.predict_on_batch(batch[:, :, ::-1])
        expected += int(np.sum((upright > 0.5) != (mirrored > 0.5)))
    assert counts["changed"] == expected and counts["pictures"] == 12
    assert 0 < expected < 12, "the test case should have pictures that change and pictures that do not"


def test_the_right_count_passes_and_states_both_accuracies(capsys):
    model, data = LeftHeavyModel(), dataset()
    right = _mirror_counts(model, data)["changed"]
    printed = printed_by(capsys, right, model, data)
    assert printed.startswith(checks.PASS) and "mirrored" in printed, printed
    assert printed_by(capsys, float(right), model, data).startswith(checks.PASS)


def test_wrong_counts_get_a_hint_that_names_the_mistake(capsys):
    model, data = LeftHeavyModel(), dataset()
    counts = _mirror_counts(model, data)
    tested = 0
    far = [value for value in range(13) if abs(value - counts["changed"]) > checks.training.MIRROR_TOLERANCE]
    for key, word in [("mirrored_wrong", "mistakes"), ("upside_down", "upside down"), ("channels", "colour"),
                      ("probability_moved", "moved at all")]:
        if counts[key] in far and all(counts[other] != counts[key] for other in ("mirrored_wrong", "upside_down",
                                                                                   "channels") if other != key):
            printed = printed_by(capsys, counts[key], model, data)
            assert printed.startswith(checks.FAIL) and word in printed, (key, printed)
            tested += 1
    assert tested >= 3, "the test case should tell most of the usual mistakes apart"
    assert printed_by(capsys, 500, model, data).startswith(checks.FAIL + " Hint: count pictures")
    generic = [value for value in far if value not in counts.values()]
    assert generic and "batch[:, :, ::-1]" in printed_by(capsys, generic[0], model, data)


def test_unfinished_answers_get_a_nudge(capsys):
    assert "replace None" in printed_by(capsys, None, LeftHeavyModel(), dataset())
    assert "pass the model" in printed_by(capsys, 3)
    assert printed_by(capsys, "three", LeftHeavyModel(), dataset()).startswith(checks.FAIL)
    assert "could not predict" in printed_by(capsys, 3, LeftHeavyModel(), ["not a batch"])


# Exercise 1: the flattened size at 250 px, and the hints for its usual slips.

def flatten_verdict(capsys, answer):
    checks.check_flatten_size(answer)
    return capsys.readouterr().out


def test_flatten_size_passes_only_the_right_chain(capsys):
    assert flatten_verdict(capsys, 5 * 5 * 64).startswith(checks.PASS)
    assert flatten_verdict(capsys, 5 * 5).startswith(checks.FAIL)


def test_flatten_size_names_the_usual_slips(capsys):
    from course_helpers.checks.training import _halved_only, _pooled_rounding_up

    assert (_halved_only(250), _pooled_rounding_up(250)) == (7, 6)
    printed = flatten_verdict(capsys, 7 * 7 * 64)      # halving only; also the 300 px answer
    assert printed.startswith(checks.FAIL) and "trims 2 pixels" in printed and "300 px" in printed, printed
    printed = flatten_verdict(capsys, 6 * 6 * 64)      # pooling rounded up
    assert printed.startswith(checks.FAIL) and "rounds down" in printed, printed
    printed = flatten_verdict(capsys, 2 * 2 * 64)      # the 150 px answer
    assert printed.startswith(checks.FAIL) and "another input" in printed, printed


# Exercise 7: the codelab's recipe must train a fresh model, not section 5's.

class FakeHistory:
    """What model.fit returns: an object with a .history dict, and the model it trained."""

    def __init__(self, curves, model=None):
        self.history = curves
        self.model = model


def test_recipe_experiment_rejects_section_5s_model_trained_again(capsys):
    import types

    import keras

    swinging = {"val_accuracy": [0.9, 0.92, 0.95, 0.93, 0.94] * 3}
    settled = {"val_accuracy": [0.8] * 10 + [0.95] * 4, "learning_rate": [1e-3] * 11 + [1e-4] * 3}
    section_5_model = types.SimpleNamespace(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3))
    checks.check_recipe_experiment(FakeHistory(swinging, section_5_model), FakeHistory(settled, section_5_model))
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL) and "fresh models.build_classifier(150)" in printed, printed
    fresh = types.SimpleNamespace(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3))
    checks.check_recipe_experiment(FakeHistory(swinging, fresh), FakeHistory(settled, section_5_model))
    assert capsys.readouterr().out.startswith(checks.PASS)


# Exercise 4: the hints speak of the pictures this classifier meets (renders and drawings), not of photos only.

def test_unsafe_augmentation_accepts_only_the_vertical_flip(capsys):
    checks.check_unsafe_augmentation("b")
    printed = capsys.readouterr().out
    assert printed.startswith(checks.PASS) and "renders, drawings or photos" in printed, printed
    for wrong in "acd":
        checks.check_unsafe_augmentation(wrong)
        printed = capsys.readouterr().out
        assert printed.startswith(checks.FAIL) and "never meet" in printed and "photos" not in printed, printed


# Exercise 5: a layer with the right shape but the wrong parameter count fails, with a hint about the bias.

def codelab_network(img_size, conv_bias=True, dense_bias=True):
    import keras

    layers = [keras.Input(shape=(img_size, img_size, 3))]
    for block, filters in enumerate([16, 32, 64, 64, 64], start=1):
        layers += [keras.layers.Conv2D(filters, 3, activation="relu", use_bias=conv_bias or block != 3,
                                       name=f"conv{block}"),
                   keras.layers.MaxPooling2D(2, name=f"pool{block}")]
    layers += [keras.layers.Flatten(name="flatten"),
               keras.layers.Dense(512, activation="relu", use_bias=dense_bias, name="dense"),
               keras.layers.Dense(1, activation="sigmoid", name="human_probability")]
    return keras.Sequential(layers)


def test_build_model_compares_parameter_counts(capsys):
    checks.check_build_model(codelab_network)
    assert capsys.readouterr().out.startswith(checks.PASS)
    checks.check_build_model(lambda size: codelab_network(size, conv_bias=False))
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL) and "conv3" in printed and "use_bias" in printed, printed
    assert "18,432 parameters instead of 18,496" in printed, printed
    checks.check_build_model(lambda size: codelab_network(size, dense_bias=False))
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL) and "layer dense" in printed and "use_bias" in printed, printed


# Round 4: the dense layer's bias hint, the mirror test's named counts, exercises 3 and 8.

def test_dense_params_names_a_single_bias(capsys):
    checks.check_dense_params(1600 * 512 + 1)
    assert "one bias per unit" in capsys.readouterr().out
    checks.check_dense_params(1600 + 512)
    assert "multiply, do not add" in capsys.readouterr().out
    checks.check_dense_params(1600 * 512 + 512)
    assert capsys.readouterr().out.startswith(checks.PASS)


def test_mirror_test_names_a_wrong_count_even_within_the_tolerance(capsys, monkeypatch):
    counts = {"changed": 5, "mirrored_wrong": 6, "upside_down": 4, "channels": 5, "probability_moved": 30,
              "pictures": 40, "upright_right": 30, "mirrored_right": 29}
    monkeypatch.setattr(checks.training, "_mirror_counts", lambda model, dataset: dict(counts))
    model = LeftHeavyModel()
    assert "mistakes" in printed_by(capsys, 6, model, [])
    assert "upside down" in printed_by(capsys, 4, model, [])
    assert printed_by(capsys, 5, model, []).startswith(checks.PASS)  # equals "channels" too: the right count wins


def humans_called_horses(capsys, answer):
    checks.check_humans_called_horses(answer)
    return capsys.readouterr().out


def test_humans_called_horses_passes_only_the_human_row(capsys):
    assert humans_called_horses(capsys, 10 / 128).startswith(checks.PASS)
    assert humans_called_horses(capsys, 0.078).startswith(checks.PASS)
    for wrong, word in [(7.8, "percentage"), (10 / 110, "column"), (28 / 128, "true horses called humans"),
                        (10 / 256, "all 256"), (118 / 128, "right answers"), (0.5, "human row")]:
        printed = humans_called_horses(capsys, wrong)
        assert printed.startswith(checks.FAIL) and word in printed, (wrong, printed)
    assert "replace None" in humans_called_horses(capsys, None)
    assert "number between 0 and 1" in humans_called_horses(capsys, "ten")


def gap_verdict(capsys, answer):
    checks.check_gap_or_overfitting(answer)
    return capsys.readouterr().out


def test_gap_or_overfitting_accepts_only_history_a_for_the_rise(capsys):
    assert gap_verdict(capsys, ("a", "x")).startswith(checks.PASS)
    assert gap_verdict(capsys, [" A ", "X"]).startswith(checks.PASS)
    assert "steady gap" in gap_verdict(capsys, ("b", "x"))
    assert "generalization gap" in gap_verdict(capsys, ("a", "w"))
    assert "worse model" in gap_verdict(capsys, ("a", "y"))
    assert "training going on" in gap_verdict(capsys, ("a", "z"))
    assert "replace None" in gap_verdict(capsys, None)
    assert "two letters" in gap_verdict(capsys, "a")
    assert gap_verdict(capsys, ("c", "x")).startswith(checks.FAIL)


def test_the_exercise_histories_show_what_the_checker_says():
    """History a's validation loss rises four epochs in a row while its loss falls; b's stays flat above its loss."""
    a = {"loss": [0.69, 0.55, 0.42, 0.32, 0.24, 0.17, 0.12, 0.08],
         "val_loss": [0.66, 0.52, 0.43, 0.40, 0.42, 0.46, 0.51, 0.57]}
    b = {"loss": [0.69, 0.62, 0.56, 0.52, 0.49, 0.47, 0.46, 0.45],
         "val_loss": [0.70, 0.67, 0.65, 0.64, 0.63, 0.62, 0.62, 0.62]}
    assert np.all(np.diff(a["loss"]) < 0) and np.all(np.diff(a["val_loss"])[-4:] > 0)
    assert np.all(np.diff(b["loss"]) < 0) and np.all(np.diff(b["val_loss"]) <= 0)
    assert b["val_loss"][-1] > a["val_loss"][-1], "the trap of reason y: b ends with the higher validation loss"
