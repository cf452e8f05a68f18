"""course_helpers.setup(): quiet, seeded, deterministic, and one stable line."""
import configparser
import json
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


#: One fresh interpreter runs setup() the ways the tests below need: setup() changes global state
#: (seeds, op determinism, Matplotlib), which must not leak into other tests, and one start-up of
#: TensorFlow is cheaper than one per test.
SETUP_SCRIPT = """
import json, random, sys
import numpy as np, matplotlib as mpl, course_helpers
stderr_before = sys.stderr
print("LINE", end=" "); result = course_helpers.setup()
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # no public getter exists
def draw():
    return random.random(), float(np.random.rand()), float(tf.random.uniform(()))
course_helpers.setup(7); first = draw()
course_helpers.setup(7); again = draw()
course_helpers.setup(8); other = draw()
print("JSON", json.dumps({"returned": repr(result), "same": first == again, "different": first != other,
                          "determinism": tf_config.is_op_determinism_enabled(),
                          "tf32": tf.config.experimental.tensor_float_32_execution_enabled(),
                          "dpi": [mpl.rcParams["figure.dpi"], mpl.rcParams["savefig.dpi"]]}))
"""


@pytest.fixture(scope="module")
def fresh_setup():
    """(the first line setup() printed, what the script measured, stderr) from a fresh interpreter."""
    env = {key: value for key, value in os.environ.items() if key not in ("COURSE_SEED", "TF_CPP_MIN_LOG_LEVEL")}
    env["COURSE_DATA"] = "standin"
    result = subprocess.run([sys.executable, "-c", SETUP_SCRIPT], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    first = next(line for line in lines if line.startswith("LINE "))[len("LINE "):]
    measured = json.loads(next(line for line in lines if line.startswith("JSON "))[len("JSON "):])
    return first, measured, result.stderr


def test_setup_prints_one_line_that_is_stable_after_sanitizing(fresh_setup):
    line, measured, _ = fresh_setup
    assert measured["returned"] == "None"
    assert sanitize(line + "\n") == ("Inside CNNs | TensorFlow VERSION, Keras VERSION | DEVICE | "
                                     "data: offline stand-in (COURSE_DATA=standin) | seed 42\n")


def test_setup_seeds_python_numpy_and_tensorflow(fresh_setup):
    _, measured, _ = fresh_setup
    assert measured["same"] and measured["different"] and measured["determinism"]


def test_setup_keeps_float32_precision_on_gpus_with_tf32(fresh_setup):
    assert fresh_setup[1]["tf32"] is False


def test_setup_sets_small_figures(fresh_setup):
    figure_dpi, saved_dpi = fresh_setup[1]["dpi"]
    assert figure_dpi <= 100 and saved_dpi <= 100


def test_a_fresh_setup_writes_no_tensorflow_noise_to_stderr(fresh_setup):
    assert fresh_setup[2].strip() == ""


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


def test_setup_rejects_an_unknown_figure_format():
    with pytest.raises(ValueError, match="figure_format must be one of"):
        course_helpers.setup(figure_format="gif")
