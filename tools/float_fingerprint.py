"""Does this machine train the course's model bit for bit like the machine of the stored outputs?

Notebook 4 trains the classifier that notebooks 5 to 7 load, and nbval compares
every printed number of those notebooks with the stored run's. Training sums
millions of float32 products. Another CPU can sum them in another order: another
instruction set (AVX2 or AVX-512), oneDNN's kernels on or off, another
TensorFlow build. The weights then differ in their last bits after the first step,
and after 14 epochs every printed number of notebooks 4 to 7 differs a little,
while every claim the notebooks assert still holds.

This script trains the course's classifier for two steps on two fixed stand-in
batches and hashes the weights and one prediction: a few seconds that tell
whether this machine reproduces the stored run's arithmetic. `make execute`
stores the fingerprint of the machine that made the outputs; `make test`
compares notebooks 4 to 7 output by output where the fingerprints agree, and
with --nbval-lax (every cell runs, every assert holds, printed numbers are not
compared) where they do not, and says so.

Usage:
  python tools/float_fingerprint.py           print this machine's fingerprint
  python tools/float_fingerprint.py --write   store it as the stored run's
  python tools/float_fingerprint.py --check   exit 0 if it matches the stored one, 1 if not
"""
import argparse
import contextlib
import hashlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "tests" / "stored_run_fingerprint.txt"
sys.path.insert(0, str(ROOT))


def fingerprint():
    """A short hex digest of the classifier's weights after two training steps on the stand-in."""
    import numpy as np

    import course_helpers
    from course_helpers import data, models

    with contextlib.redirect_stdout(io.StringIO()):  # the setup and data lines are not the point here
        course_helpers.setup(seed=course_helpers.DEFAULT_SEED)
        batches = data.load_dataset("train", 150, 32, source="standin", shuffle=False)
        model = models.build_classifier(150)
        digest = hashlib.sha256()
        for images, labels in batches.take(2):
            model.train_on_batch(images, labels)
        for weight in model.weights:
            digest.update(np.asarray(weight.numpy(), dtype=np.float32).tobytes())
        digest.update(np.asarray(model.predict_on_batch(images), dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def stored(path=None):
    """The stored run's fingerprint (default file: ``STORED``), or None when none was stored."""
    path = Path(path if path is not None else STORED)
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return lines[0] if lines else None


def write(value, path=None):
    """Store ``value`` as the stored run's fingerprint (atomically: a temporary file, then a rename)."""
    from course_helpers.files import atomic_file

    with atomic_file(Path(path if path is not None else STORED), suffix=".txt") as temporary:
        Path(temporary).write_text(
            "# The float fingerprint of the machine that made the stored notebook outputs\n"
            "# (tools/float_fingerprint.py; written by make execute).\n" + value + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="store this machine's fingerprint as the stored run's")
    action.add_argument("--check", action="store_true", help="exit 0 if this machine's fingerprint matches the stored one")
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_DATA", "standin")
    here = fingerprint()
    if args.write:
        write(here)
        print(f"stored the float fingerprint {here} in tests/{STORED.name}")
        return 0
    if args.check:
        theirs = stored()
        if here == theirs:
            print(f"float fingerprint {here}: this machine trains like the stored run's; "
                  "notebooks 04-07 are compared output by output")
            return 0
        print(f"float fingerprint {here}, stored run's {theirs}: this machine's float32 sums differ from the "
              "stored run's, so the trained weights and every number notebooks 04-07 print differ a little. "
              "Those notebooks run with --nbval-lax: every cell must run and every assert hold, but their "
              "printed numbers are not compared (notebooks 01-03 are compared in full).")
        return 1
    print(here)
    return 0


if __name__ == "__main__":
    sys.exit(main())
