"""Helpers for the Inside CNNs course.

Every notebook starts with ``course_helpers.setup()``. The modules hold one idea
each: ``conv`` (convolution and pooling in NumPy), ``plotting`` (the shared
figures), ``widgets`` (interactive explorers) and ``checks`` (exercise checkers).

Importing this package does not import TensorFlow, so that ``setup()`` can set
TensorFlow's log level before TensorFlow loads.
"""
import contextlib
import os
import re
import sys
import tempfile
import warnings

# TensorFlow reads this once, when it loads; setting it here (and again in
# setup) keeps its C++ log lines out of the notebooks. Level 3 also hides C++
# "errors" that are only version-mismatch notices; a real failure still raises
# a Python exception. Set TF_CPP_MIN_LOG_LEVEL=0 yourself to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
__all__ = ["setup", "data_mode", "offline", "DATA_MODES", "DEFAULT_SEED", "course_seed", "seed_for"]

#: The seed of the stored outputs; ``COURSE_SEED`` replaces it.
DEFAULT_SEED = 42

#: Allowed values of the ``COURSE_DATA`` environment variable.
DATA_MODES = {
    "auto": "real horse-or-human if it can be downloaded, else the offline stand-in",
    "real": "real horse-or-human (COURSE_DATA=real)",
    "standin": "offline stand-in (COURSE_DATA=standin)",
}

# Lines TensorFlow's C++ runtime writes straight to the process's stderr while it
# loads, before its log level applies. They are harmless, carry timestamps, and
# would only confuse a learner. Anything else is passed through.
_HARMLESS_TF_LINES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    # absl style (TF 2.21: "E0000 00:00:... 123 cuda_platform.cc:51]") and TF 2.20's older style
    # ("2026-01-01 12:00:00.000000: E external/.../cuda_platform.cc:51]").
    r"|([IWE]\d{4} [\d:. ]+\d+ |\d{4}-\d\d-\d\d [\d:.]+: [IWE] (\S+/)?)"
    r"(port|cudart_stub|cuda_platform|cuda_executor|cpu_feature_guard)\.cc:\d+\]"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow)"
)


def data_mode():
    """Return which horse-or-human data the course uses, from ``COURSE_DATA``.

    Returns
    -------
    str
        ``"auto"`` (the default: real data when it can be downloaded, else the
        offline stand-in), ``"real"`` or ``"standin"``.

    Raises
    ------
    ValueError
        If ``COURSE_DATA`` holds anything else.
    """
    mode = os.environ.get("COURSE_DATA", "auto").strip().lower() or "auto"
    if mode not in DATA_MODES:
        raise ValueError(
            f"COURSE_DATA={os.environ['COURSE_DATA']!r} is not a data mode the course knows. "
            f"Use one of {sorted(DATA_MODES)} (or leave it unset for 'auto')."
        )
    return mode


def course_seed():
    """The course's seed: ``COURSE_SEED`` if set, else :data:`DEFAULT_SEED` (42).

    ``COURSE_SEED`` runs the whole course as a different learner would: it
    changes ``setup()``'s seed (so weight initialization), the stand-in's
    pictures (both splits), the shuffling, and every seed the helpers use by
    default. Unset, everything is as in the stored outputs.

    Returns
    -------
    int
        0 or more.

    Raises
    ------
    ValueError
        If ``COURSE_SEED`` is not a whole number of 0 or more.
    """
    text = os.environ.get("COURSE_SEED", "").strip()
    if not text:
        return DEFAULT_SEED
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise ValueError(f"COURSE_SEED={os.environ['COURSE_SEED']!r} is not a seed: use a whole number of 0 or "
                         f"more, like COURSE_SEED=7 (or unset it for the stored run's seed, {DEFAULT_SEED}).")
    return seed


def seed_for(base, spacing=1):
    """A helper's default seed, moved by ``COURSE_SEED``.

    With the default course seed this is ``base`` itself, so the stored outputs
    stay as they are. Any other course seed S gives
    ``base + spacing * (S - 42)``, wrapped into [0, 2**32): different seeds for
    different learners, and, with ``spacing=2``, two interleaved families
    (bases 0 and 1) that never meet.

    Parameters
    ----------
    base : int
        The seed used in the stored run.
    spacing : int, optional
        How far apart consecutive course seeds put the result. Default 1.

    Returns
    -------
    int
        In [0, 2**32).
    """
    return int((base + spacing * (course_seed() - DEFAULT_SEED)) % 2**32)


def offline():
    """Whether the course may not use the network: ``COURSE_DATA=standin`` or ``COURSE_OFFLINE=1``.

    Offline, nothing is downloaded and no connection is even tried. Data and
    ImageNet weights that are already cached are still used, so an instructor
    can fetch the real photos once (``python -m course_helpers fetch``) and
    then run a workshop with ``COURSE_OFFLINE=1`` on a network that may fail.

    Raises
    ------
    ValueError
        If ``COURSE_OFFLINE`` is set to anything but 0/1, true/false or yes/no.
    """
    text = os.environ.get("COURSE_OFFLINE", "").strip().lower()
    if text not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"COURSE_OFFLINE={os.environ['COURSE_OFFLINE']!r}: use 1 (no network) or 0 (the default).")
    return text in ("1", "true", "yes") or data_mode() == "standin"


@contextlib.contextmanager
def _filtered_native_stderr():
    """Hold back TensorFlow's start-up log lines written to file descriptor 2.

    Python's ``sys.stderr`` is not involved: TensorFlow's C++ code writes to the
    descriptor directly, so that is what is redirected. Any line that is not a
    known start-up message is written back afterwards.
    """
    try:
        stderr_fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
        saved_fd = os.dup(stderr_fd)
    except (OSError, ValueError, AttributeError):
        # No real descriptor to redirect (an unusual embedding): do nothing.
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), stderr_fd)
        try:
            yield
        finally:
            os.dup2(saved_fd, stderr_fd)
            os.close(saved_fd)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines() if line and not _HARMLESS_TF_LINES.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def _describe_devices(tf):
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU x{len(gpus)}"
    return "CPU only"


FIGURE_FORMATS = ("png", "jpeg")


def _use_inline_figure_format(figure_format):
    """Make Jupyter store figures as PNG or JPEG (no effect outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    if figure_format == "jpeg":
        set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})
    else:
        set_matplotlib_formats("png")


def setup(seed=None, figure_format="png"):
    """Prepare a notebook: quiet logs, seeds, determinism and plot defaults.

    Call it once, in the first code cell. It

    * sets ``TF_CPP_MIN_LOG_LEVEL`` before TensorFlow loads;
    * seeds Python, NumPy and TensorFlow with ``keras.utils.set_random_seed``
      and turns on TensorFlow's op determinism, so a notebook gives the same
      numbers every run;
    * turns off TensorFloat-32 on GPUs that have it, so matrix products keep
      float32 precision and a notebook's checks against NumPy hold there too;
    * sets Matplotlib defaults (figure size, dpi at most 100, no top/right spines);
    * keeps TensorFlow's Python logger to errors (its retracing notices are
      noise when a notebook builds many small models), and hides Keras's
      warning that ``fit`` ignores ``shuffle`` for a tf.data pipeline;
    * prints one line: versions, device, data mode and the seed.

    Parameters
    ----------
    seed : int, optional
        Seed for every random number generator. Default: :func:`course_seed`,
        which is 42 unless ``COURSE_SEED`` is set.
    figure_format : {"png", "jpeg"}, optional
        How a notebook stores its figures. PNG suits diagrams; JPEG keeps a
        notebook full of photos small. Default ``"png"``.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If ``seed`` is not an int.
    ValueError
        If ``seed`` is negative, ``figure_format`` is not one of the above, or
        ``COURSE_DATA`` holds an unknown mode, or ``COURSE_SEED`` is not a seed.
    """
    from_environment = seed is None and bool(os.environ.get("COURSE_SEED", "").strip())
    if seed is None:
        seed = course_seed()
    from .arguments import check_int

    seed = check_int(seed, "seed (like setup(seed=42))", 0)
    if figure_format not in FIGURE_FORMATS:
        raise ValueError(f"figure_format must be one of {FIGURE_FORMATS}; got {figure_format!r}.")
    mode = data_mode()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _filtered_native_stderr():
        import tensorflow as tf
        import keras

        device = _describe_devices(tf)

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow at once
    tf.config.experimental.enable_op_determinism()
    # TF32 (on by default on recent NVIDIA GPUs) rounds matmul and conv inputs to 10 bits of mantissa:
    # errors near 1e-3 where the notebooks compare Keras with NumPy to 1e-5. It changes nothing on a CPU.
    tf.config.experimental.enable_tensor_float_32_execution(False)
    tf.get_logger().setLevel("ERROR")
    # Keras warns on every fit() with a tf.data pipeline that fit's default shuffle=True is
    # ignored; the course's pipelines shuffle themselves, so the warning is noise.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored")

    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.0, 4.0),
            "figure.dpi": 80,
            "savefig.dpi": 80,
            "image.interpolation": "nearest",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
        }
    )
    _use_inline_figure_format(figure_format)

    print(
        f"Inside CNNs | TensorFlow {tf.__version__}, Keras {keras.__version__} | "
        f"{device} | data: {DATA_MODES[mode]} | seed {seed}{' (COURSE_SEED)' if from_environment else ''}"
    )
