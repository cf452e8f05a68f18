"""course_helpers.setup(): quiet, seeded, deterministic, and one stable line."""
import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import course_helpers

ROOT = Path(__file__).resolve().parent.parent


def sanitize(text):
    """Apply nbval's sanitize file, as the notebook tests do."""
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def test_importing_the_package_sets_the_log_level_without_loading_tensorflow():
    code = ("import os, sys; os.environ.pop('TF_CPP_MIN_LOG_LEVEL', None); import course_helpers; "
            "print('tensorflow' in sys.modules, os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "3"]


def run_python(code, **environment):
    """Run ``code`` in a fresh interpreter: setup() changes global state, which must not leak into other tests."""
    env = {key: value for key, value in os.environ.items() if key != "COURSE_SEED"}
    env.update({"COURSE_DATA": "standin", **environment})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_setup_prints_one_line_that_is_stable_after_sanitizing():
    line = run_python("import course_helpers; print(repr(course_helpers.setup()))")
    assert line.count("\n") == 2 and line.endswith("None\n")
    assert sanitize(line.splitlines()[0] + "\n") == ("Inside CNNs | TensorFlow VERSION, Keras VERSION | DEVICE | "
                                                     "data: offline stand-in (COURSE_DATA=standin) | seed 42\n")


def test_setup_seeds_python_numpy_and_tensorflow():
    code = """
import random, numpy as np, course_helpers
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # no public getter exists
def draw():
    return random.random(), float(np.random.rand()), float(tf.random.uniform(()))
course_helpers.setup(7); first = draw()
course_helpers.setup(7); again = draw()
course_helpers.setup(8); other = draw()
print(first == again, first != other, tf_config.is_op_determinism_enabled())
"""
    assert run_python(code).splitlines()[-1] == "True True True"


def test_setup_sets_small_figures():
    code = ("import matplotlib as mpl, course_helpers; course_helpers.setup(); "
            "print(mpl.rcParams['figure.dpi'], mpl.rcParams['savefig.dpi'])")
    figure_dpi, saved_dpi = map(float, run_python(code).split()[-2:])
    assert figure_dpi <= 100 and saved_dpi <= 100


@pytest.mark.parametrize("seed, error", [("42", TypeError), (4.2, TypeError), (True, TypeError), (-1, ValueError)])
def test_setup_rejects_a_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        course_helpers.setup(seed)


def test_an_unknown_data_mode_is_named_with_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "offline")
    with pytest.raises(ValueError, match=r"COURSE_DATA='offline'.*'auto', 'real', 'standin'"):
        course_helpers.setup()
    monkeypatch.setenv("COURSE_DATA", " Real ")
    assert course_helpers.data_mode() == "real"
    monkeypatch.delenv("COURSE_DATA")
    assert course_helpers.data_mode() == "auto"


def test_tensorflow_startup_lines_are_held_back_and_other_stderr_is_kept(capfd):
    startup = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
               b"I0000 00:00:1795340588.625736    2074 port.cc:153] oneDNN custom operations are on.\n"
               b"E0000 00:00:1795340594.096536    2074 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
               # TF 2.20 (Colab) writes the same message in its older format
               b"2026-11-22 13:03:34.077172: E external/local_xla/xla/stream_executor/cuda/cuda_platform.cc:51] "
               b"failed call to cuInit: INTERNAL: CUDA error\n"
               b"E0000 00:00:1795340594.096536    2074 my_op.cc:9] a real error\n")
    with course_helpers._filtered_native_stderr():
        os.write(2, startup + b"something a learner must see\n")
    err = capfd.readouterr().err
    assert "something a learner must see" in err and "a real error" in err
    assert "oneDNN" not in err and "cuInit" not in err and "absl" not in err


def test_a_fresh_setup_writes_no_tensorflow_noise_to_stderr():
    code = "import course_helpers; course_helpers.setup()"
    env = {**os.environ, "COURSE_DATA": "standin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stderr.strip() == ""
    assert result.stdout.startswith("Inside CNNs | TensorFlow")


def test_setup_rejects_an_unknown_figure_format():
    with pytest.raises(ValueError, match="figure_format must be one of"):
        course_helpers.setup(figure_format="gif")
