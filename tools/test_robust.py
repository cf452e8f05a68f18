"""``make test-robust``: notebooks 04-07 as other learners would run them.

``make test`` replays the one run whose outputs are stored. A learner's run
differs: another seed, or the real photos (Colab, Binder). This harness
re-executes notebooks 04 to 07 with ``pytest --nbval-lax`` (every cell must
run and every assert must hold; outputs are not compared) under:

* the offline stand-in with other ``COURSE_SEED`` values (default 7 and 1234);
* a real-like, mask-free dataset written where the real archives are cached
  (``tools/make_reallike.py``), with ``COURSE_DATA=real`` and
  ``COURSE_OFFLINE=1``, so nothing is downloaded.

Each run gets a clean data folder under ``build/robust/``: its own stand-in or
real-like images and its own trained model. The real-like images are made once
per style and seed, then copied into each clean folder. Two runs go at a time
(``--jobs``), which keeps both cores busy; each run's output is written to
``build/robust/<run>.log`` and printed when the run ends.

Usage::

    python tools/test_robust.py [--seeds 7 1234] [--reallike photo:0 ...] [--notebooks 04 05 06 07] [--jobs 2]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "robust"
DEFAULT_SEEDS = (7, 1234)
DEFAULT_REALLIKE = ("photo:0",)
NOTEBOOKS = ("04", "05", "06", "07")
REAL_FOLDERS = ("horse-or-human", "validation-horse-or-human")


def notebook_paths(numbers):
    paths = []
    for number in numbers:
        found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
        if len(found) != 1:
            raise SystemExit(f"no single notebook starts with {number!r} in notebooks/")
        paths.append(found[0])
    return paths


def reallike_source(style, seed):
    """A folder holding the real-like archives for this style and seed, made on first use."""
    folder = BUILD / "reallike-cache" / f"{style}-seed{seed}"
    if not all((folder / name).is_dir() for name in REAL_FOLDERS):
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_reallike.py"), "--style", style,
                        "--seed", str(seed), "--data-dir", str(folder)], check=True, capture_output=True)
    return folder


def clean_folder(name):
    folder = BUILD / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def run(name, environment, notebooks, prepare=None):
    """Prepare the data folder, then run the notebooks under ``environment``; return (passed, seconds, log)."""
    start = time.perf_counter()
    if prepare is not None:
        prepare()
    env = {key: value for key, value in os.environ.items()
           if key not in ("COURSE_SEED", "COURSE_DATA", "COURSE_DATA_DIR", "COURSE_OFFLINE")}
    env.update(environment)
    # Two runs share the CPU, so a training cell can take twice its usual time or more: the cell timeout
    # here only guards against a hang (make bench measures speed), and overrides pyproject.toml's 300 s.
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-cell-timeout=1200", "-p", "no:cacheprovider",
               "-q", *map(str, notebooks)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    log = BUILD / f"{Path(environment['COURSE_DATA_DIR']).name}.log"
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    settings = " ".join(f"{key}={value}" for key, value in sorted(environment.items()) if key != "COURSE_DATA_DIR")
    print(f"== {name}: {settings}\n{result.stdout.strip()[-3000:]}", flush=True)
    return result.returncode == 0, time.perf_counter() - start, log


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(DEFAULT_SEEDS),
                        help="COURSE_SEED values to run on the stand-in (default: 7 1234)")
    parser.add_argument("--reallike", nargs="*", default=list(DEFAULT_REALLIKE), metavar="STYLE:SEED",
                        help="real-like datasets to run on (default: photo:0; styles: photo, faded)")
    parser.add_argument("--notebooks", nargs="*", default=list(NOTEBOOKS))
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2, one per core)")
    args = parser.parse_args(argv)
    notebooks = notebook_paths(args.notebooks)

    runs = []
    # The real-like run first: making its images overlaps with the first stand-in run.
    for spec in args.reallike:
        style, _, seed = spec.partition(":")
        folder = clean_folder(f"reallike-{style}-seed{seed or 0}")

        def copy_reallike(style=style, seed=int(seed or 0), folder=folder):
            source = reallike_source(style, seed)
            for name in REAL_FOLDERS:
                shutil.copytree(source / name, folder / name)

        runs.append((f"real-like ({style}, seed {seed or 0})",
                     {"COURSE_DATA": "real", "COURSE_OFFLINE": "1", "COURSE_DATA_DIR": str(folder)}, copy_reallike))

    for seed in args.seeds:
        folder = clean_folder(f"standin-seed{seed}")
        runs.append((f"stand-in, COURSE_SEED={seed}",
                     {"COURSE_SEED": str(seed), "COURSE_DATA": "standin", "COURSE_DATA_DIR": str(folder)}, None))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda item: run(item[0], item[1], notebooks, item[2]), runs))
    results = [(name, passed, seconds, log) for (name, _, _), (passed, seconds, log) in zip(runs, outcomes)]
    print("\nmake test-robust: notebooks " + ", ".join(args.notebooks))
    for name, passed, seconds, log in results:
        print(f"  {'passed' if passed else 'FAILED'}  {seconds:6.1f} s  {name}   (log: {log.relative_to(ROOT)})")
    failed = [name for name, passed, _, _ in results if not passed]
    if failed:
        print(f"{len(failed)} of {len(results)} runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
