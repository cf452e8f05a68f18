"""Notebook 4's exercise 7 (train the codelab's recipe): its checker reads two training histories."""
import types

import keras
import numpy as np

from course_helpers import checks
from test_checks import assert_hints, assert_passes


def history(val_accuracy, **more):
    return {"loss": [0.5] * len(val_accuracy), "accuracy": [0.9] * len(val_accuracy),
            "val_accuracy": list(val_accuracy), **more}


SWINGING = history(np.linspace(0.6, 0.9, 11).tolist() + [0.90, 0.82, 0.91, 0.86])   # 15 epochs
SETTLED = history(np.linspace(0.6, 0.94, 10).tolist() + [0.95, 0.945, 0.945, 0.945],
                  learning_rate=[1e-3] * 11 + [1e-4] * 3)


class FakeHistory:
    """What model.fit returns: an object with a .history dict, and the model it trained."""

    def __init__(self, curves, model=None):
        self.history = curves
        self.model = model


def trained_with(optimizer):
    return types.SimpleNamespace(optimizer=optimizer)


def test_passes_and_reports_both_spreads(capsys):
    checks.check_recipe_experiment(FakeHistory(SWINGING), FakeHistory(SETTLED))
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(checks.PASS) and printed.count("\n") == 0, printed
    assert "from 0.820 to 0.910 (9.0 points apart)" in printed, printed
    assert "from 0.945 to 0.950 (0.5 points)" in printed, printed
    checks.check_recipe_experiment(SWINGING, SETTLED)          # the .history dicts do as well
    assert capsys.readouterr().out.startswith(checks.PASS)


def test_hints(capsys):
    assert_hints(capsys, checks.check_recipe_experiment, None, "RMSprop", "15 epochs")
    assert_hints(capsys, checks.check_recipe_experiment, SWINGING, "second argument")
    assert_hints(capsys, checks.check_recipe_experiment, {"loss": [1.0] * 15}, "validation_data")
    assert_hints(capsys, checks.check_recipe_experiment, 0.93, "what model.fit returns")
    short = history(SWINGING["val_accuracy"][:14])
    checks.check_recipe_experiment(short, SETTLED)
    assert "has 14" in capsys.readouterr().out
    scheduled = history(SWINGING["val_accuracy"], learning_rate=[1e-3] * 12 + [1e-4] * 3)
    checks.check_recipe_experiment(scheduled, SETTLED)
    assert "LearningRateScheduler" in capsys.readouterr().out
    checks.check_recipe_experiment(SWINGING, history([0.9, 0.9]))
    assert "at least 4 epochs" in capsys.readouterr().out


def test_a_constant_logged_rate_is_the_codelab_recipe(capsys):
    logged = history(SWINGING["val_accuracy"], learning_rate=[1e-3] * 15)
    checks.check_recipe_experiment(logged, SETTLED)
    assert capsys.readouterr().out.startswith(checks.PASS)
    assert_passes(capsys, lambda answer: checks.check_recipe_experiment(answer, SETTLED), logged)


def test_the_history_must_come_from_the_codelab_optimizer(capsys):
    rmsprop = trained_with(keras.optimizers.RMSprop(learning_rate=1e-3))
    checks.check_recipe_experiment(FakeHistory(SWINGING, rmsprop), SETTLED)
    assert capsys.readouterr().out.startswith(checks.PASS)
    checks.check_recipe_experiment(FakeHistory(SWINGING, trained_with(keras.optimizers.Adam(learning_rate=1e-3))),
                                   SETTLED)
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL) and "compiled with Adam" in printed, printed
    checks.check_recipe_experiment(FakeHistory(SWINGING, trained_with(keras.optimizers.RMSprop(learning_rate=1e-2))),
                                   SETTLED)
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL) and "learning_rate=0.001" in printed, printed
