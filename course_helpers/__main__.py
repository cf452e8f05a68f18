"""The course's command line: ``python -m course_helpers fetch`` and ``python -m course_helpers doctor``.

* ``fetch``: download and verify the real horse-or-human data, then train and
  save the classifier the notebooks use (so a workshop room needs no network
  during the day). ``--standin`` prepares the offline stand-in instead.
* ``doctor``: check this environment and say what is missing or too old.
"""
import argparse
import os
import platform
import shutil
import sys
from pathlib import Path

#: For running the notebooks locally, and for the tests (not needed in Colab): (distribution, minimum).
OPTIONAL = [("jupyterlab", "4"), ("ipykernel", "6"), ("nbval", "0.11"), ("pytest", "8")]


def requirements():
    """The package's declared dependencies as (distribution, minimum version) pairs.

    Read from the installed package's metadata, or, when the course runs from a
    clone that is not installed (Colab puts it on sys.path), from its
    requirements.txt: one list, so the doctor checks exactly the floors
    ``pip`` enforces and ``make test-oldest`` tests.
    """
    from importlib import metadata

    try:
        lines = [line for line in metadata.requires("inside-cnns-course-helpers") or [] if "extra ==" not in line]
    except metadata.PackageNotFoundError:
        listing = Path(__file__).resolve().parent.parent / "requirements.txt"
        lines = listing.read_text(encoding="utf-8").splitlines() if listing.is_file() else []
    pairs = []
    for line in lines:
        requirement = line.split("#")[0].split(";")[0].strip()
        if ">=" in requirement:
            name, minimum = requirement.split(">=", 1)
            pairs.append((name.strip(), minimum.split(",")[0].strip()))
        elif requirement:
            pairs.append((requirement, "0"))
    return pairs


def _version_tuple(text):
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = ""
        for character in piece:
            if not character.isdigit():
                break
            digits += character
        parts.append(int(digits) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


def _check_package(name, minimum):
    """(ok, line) for one distribution, read from its metadata (nothing is imported)."""
    from importlib import metadata

    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return False, f"  MISSING  {name}: it is not installed. Run: pip install '{name}>={minimum}'"
    if _version_tuple(version) < _version_tuple(minimum):
        return False, (f"  TOO OLD  {name} {version}: the course needs {minimum} or newer. "
                       f"Run: pip install -U '{name}>={minimum}'")
    return True, f"  ok       {name} {version}"


def doctor():
    """Print a report of the environment; return 0 if the course can run, 1 if not."""
    from . import DATA_MODES, data_mode

    problems = 0
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
    if sys.version_info < (3, 10):
        print("  TOO OLD  Python: the course needs 3.10 or newer.")
        problems += 1
    checked = [_check_package(name, minimum) for name, minimum in requirements()]
    for ok, line in checked:
        problems += not ok
        print(line)
    print("For running JupyterLab locally and for the tests (not needed in Colab):")
    for name, minimum in OPTIONAL:
        print(_check_package(name, minimum)[1])
    mode = None
    try:
        mode = data_mode()
        print(f"Data: COURSE_DATA={os.environ.get('COURSE_DATA', '(unset)')} -> {DATA_MODES[mode]}")
    except ValueError as error:
        print(f"  PROBLEM  {error}")
        problems += 1
    from . import data

    # Where the data lives, without creating it: a mistyped shared folder should be reported, not made.
    shared = os.environ.get("COURSE_DATA_DIR")
    folder = Path(shared or data.default_data_dir()).expanduser().resolve()
    print(f"Data folder: {folder}" + (" (from $COURSE_DATA_DIR)" if shared else ""))
    if not folder.is_dir():
        print("  note     it does not exist yet; the course creates it on first use. If it should be a shared "
              "folder, check the spelling of COURSE_DATA_DIR.")
    real = [split for split, spec in data.REAL.items() if (folder / spec.folder).is_dir()]
    print(f"  real horse-or-human cached: {', '.join(real) if real else 'no'}")
    print(f"  offline stand-in generated: {'yes' if (folder / 'standin' / 'train').is_dir() else 'no (made on first use, ~15 s)'}")
    for source in ("real", "standin"):
        if (folder / "models" / f"horse_or_human_{source}_150.keras").is_file():
            print(f"  trained model ({source}): yes")
    if mode == "standin":
        print("Network: not checked (COURSE_DATA=standin never downloads the real data)")
    elif mode is None:
        print("Network: not checked (fix COURSE_DATA first)")
    else:
        reason = data.unreachable(data.REAL["train"].url)
        print(f"Network: {'the real data can be downloaded' if reason is None else reason + ' (the stand-in will be used)'}")
    print("Widgets: JupyterLab 4 and Colab render ipywidgets 7.7 and 8 without extra steps.")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    print(f"Chromium for `make test-browser`: {'found' if chromium else 'not found (optional)'}")
    print("All set." if problems == 0 else f"{problems} problem(s) above; fix them, then run this again.")
    return 0 if problems == 0 else 1


def fetch(standin=False, epochs=None):
    """Download (or generate) the data and train the classifier; return 0 on success."""
    from . import data, models, setup

    source = "standin" if standin else "real"
    os.environ["COURSE_DATA"] = source
    setup()
    try:
        for split in ("train", "validation"):
            data.horse_or_human(split, source)
    except data.DownloadError as error:
        print(f"Could not get the real data: {error}\nFor a room without network, run: "
              f"python -m course_helpers fetch --standin")
        return 1
    model = models.load_or_train_classifier(150, epochs or models.RECIPE["epochs"], source=source)
    path = models.default_model_path(150, source)
    print(f"Ready: the data and the trained model ({model.count_params():,} parameters), saved as {path}. "
          f"Notebooks 5 to 7 will load it.")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_helpers", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="download the data and train the classifier, for offline use")
    fetch_parser.add_argument("--standin", action="store_true", help="prepare the offline stand-in instead")
    fetch_parser.add_argument("--epochs", type=int, help="training epochs (default: notebook 4's recipe)")
    commands.add_parser("doctor", help="check the environment and say what is missing or too old")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    return fetch(args.standin, args.epochs)


if __name__ == "__main__":
    sys.exit(main())
