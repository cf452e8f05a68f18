"""Which training recipe ends well for every learner? (``make bench``; slow: about 2 minutes per seed)

Trains the course's classifier on the stand-in drawn under several course seeds
(``COURSE_SEED``, which changes the pictures, the initial weights and the
shuffling), with two recipes:

* **codelab**: RMSprop at a learning rate of 1e-3 for 15 epochs, as in the seed
  codelab;
* **course**: ``models.RECIPE``, AdamW (Adam with weight decay) at 1e-3 with 10
  times less for the last epochs (notebook 4).

It prints the final validation accuracy per seed and recipe, with the spread of
the last four epochs (how much the recipe was still swinging when it stopped),
and writes the table to ``bench/results/training_recipes.md``.

Each run is a fresh Python process, set up as a notebook is (``setup()`` under
that course seed). The stand-ins are cached under ``build/bench/``.

Usage::

    python bench/training_recipes.py [--seeds 42 43 ...] [--recipes codelab course]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "training_recipes.md"
DEFAULT_SEEDS = tuple(range(42, 52))
CODELAB = {"optimizer": "RMSprop", "learning_rate": 1e-3, "epochs": 15}


def train_once(recipe):
    """Run inside the child process: train with ``recipe``; return the history as a dict."""
    import keras

    import course_helpers
    from course_helpers import data, models

    course_helpers.setup()
    train = data.load_dataset("train", 150)
    validation = data.load_dataset("validation", 150)
    model = models.build_classifier(150)
    start = time.perf_counter()
    if recipe == "codelab":
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=CODELAB["learning_rate"]),
                      loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(train, validation_data=validation, epochs=CODELAB["epochs"], verbose=0)
    else:
        epochs = int(os.environ.get("BENCH_EPOCHS") or models.RECIPE["epochs"])  # --epochs tries another length
        history = model.fit(train, validation_data=validation, epochs=epochs, verbose=0,
                            callbacks=[models.learning_rate_callback(epochs)])
    return {"seconds": time.perf_counter() - start, **{k: [float(v) for v in vs] for k, vs in history.history.items()}}


def measure(seed, recipe, epochs=None):
    """Train in a fresh process under ``COURSE_SEED=seed``; return its history dict."""
    env = {**os.environ, "COURSE_SEED": str(seed), "COURSE_DATA": "standin", "BENCH_EPOCHS": str(epochs or ""),
           "COURSE_DATA_DIR": str(ROOT / "build" / "bench" / "data")}
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import training_recipes as t; "
            f"print('RESULT', json.dumps(t.train_once({recipe!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"training under COURSE_SEED={seed} ({recipe}) failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--recipes", nargs="+", choices=("codelab", "course"), default=["codelab", "course"])
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--epochs", type=int, help="try the course recipe with this many epochs (implies --no-write)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from course_helpers import models

    describe = {"codelab": f"RMSprop 1e-3, {CODELAB['epochs']} epochs",
                "course": f"AdamW 1e-3 (weight decay {models.RECIPE['weight_decay']:g}), "
                          f"{models.RECIPE['final_learning_rate']:g} for the last "
                          f"{models.RECIPE['final_epochs']} of {models.RECIPE['epochs']} epochs"}
    rows = []
    header = "| COURSE_SEED | " + " | ".join(f"{r}: final val. accuracy (last 4 epochs' range)" for r in args.recipes)
    header += " | " + " | ".join(f"{r}: training time" for r in args.recipes) + " |"
    print(header)
    finals = {recipe: [] for recipe in args.recipes}
    for seed in args.seeds:
        cells, times = [], []
        for recipe in args.recipes:
            history = measure(seed, recipe, args.epochs)
            last = history["val_accuracy"][-4:]
            finals[recipe].append(history["val_accuracy"][-1])
            cells.append(f"{history['val_accuracy'][-1]:.3f} ({min(last):.3f}–{max(last):.3f})")
            times.append(f"{history['seconds']:.0f} s")
        rows.append(f"| {seed} | " + " | ".join(cells) + " | " + " | ".join(times) + " |")
        print(rows[-1], flush=True)
    summary = [f"- **{recipe}** ({describe[recipe]}): final validation accuracy from {min(values):.3f} to "
               f"{max(values):.3f}, mean {sum(values) / len(values):.3f}; {sum(v < 0.9 for v in values)} of "
               f"{len(values)} seeds below 0.90." for recipe, values in finals.items()]
    print("\n".join(summary))
    if not (args.no_write or args.epochs):
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        separator = "|---|" + "---|" * (2 * len(args.recipes))
        text = ("# Training recipes across course seeds\n\n"
                "Made by `bench/training_recipes.py` on the offline stand-in (1,000 training and 256 validation "
                "images at 150 px), each run in a fresh process as a notebook runs it, on a 2-core CPU. "
                "The range is that of the last four epochs' validation accuracy. A training time is the whole `fit` "
                "(validation included) in wall-clock seconds; it grows when other work shares the CPU, so compare "
                "times only within one quiet run.\n\n"
                + header + "\n" + separator + "\n" + "\n".join(rows) + "\n\n" + "\n".join(summary) + "\n")
        from course_helpers.files import atomic_file

        with atomic_file(RESULTS) as temporary:
            temporary.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
