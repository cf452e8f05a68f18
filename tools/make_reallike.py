"""Write a real-like, mask-free horse-or-human dataset where the real archives are cached.

The course's notebooks must work on the real photos, which cannot be downloaded
here. This tool writes a stand-in for them that behaves like them in the ways
that matter to the notebooks:

* it sits exactly where ``course_helpers.data`` caches the real archives,
  ``<data folder>/horse-or-human/{horses,humans}/`` and
  ``<data folder>/validation-horse-or-human/{horses,humans}/``, so the course
  takes it for the real data (``COURSE_DATA=real`` or ``auto``);
* it has **no masks**, like the real photos;
* its style is unlike the offline stand-in's: every scene is cropped (part of
  the figure may be cut off), colour-cast, blurred and noisy;
* its validation split is **shifted** from its training split, as the real
  one is (other renders, closer views): tighter crops, other casts, more blur.

Two styles are available, so that no notebook can lean on one look:
``photo`` (casts, grain, blur) and ``faded`` (washed-out colours, vignetting,
JPEG blocking).

Usage::

    COURSE_DATA_DIR=/some/folder python tools/make_reallike.py [--style photo] [--seed 0]

Each split is written into a temporary folder next to its destination and
renamed into place when complete. An existing split is left as it is.
"""
import argparse
import io
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_helpers import data, files, standin  # noqa: E402 (after the path is set)

#: Images per class, as in the real archives (500 horses and 527 humans; 128 and 128).
COUNTS = {"train": {"horses": 500, "humans": 527}, "validation": {"horses": 128, "humans": 128}}
SIZE = 300
STYLES = ("photo", "faded")

# How each split is drawn. The validation split is shifted: closer crops, another cast, more blur.
SHIFTS = {
    "train": {"crop": (0.7, 1.0), "cast": 0.0, "blur": (0.0, 1.2), "noise": (0.0, 0.05)},
    "validation": {"crop": (0.55, 0.85), "cast": 0.12, "blur": (0.6, 2.0), "noise": (0.02, 0.07)},
}


def _crop(picture, rng, crop_range):
    """A random square crop of ``crop_range`` of the side, resized back: the figure may be cut off."""
    side = picture.shape[0]
    crop = int(side * rng.uniform(*crop_range))
    top, left = rng.integers(0, side - crop + 1, size=2)
    cropped = Image.fromarray(picture[top:top + crop, left:left + crop])
    return cropped.resize((SIZE, SIZE), Image.Resampling.BILINEAR)


def _photo(image, rng, shift):
    """Colour cast, blur and grain."""
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(*shift["blur"])))
    pixels = np.asarray(image, dtype=np.float32) / 255
    cast = rng.uniform(0.75, 1.25, size=3) + shift["cast"] * np.array([1.0, 0.2, -1.0])
    gamma = rng.uniform(0.7, 1.4)
    pixels = np.clip(pixels * cast, 0, 1) ** gamma
    pixels = pixels + rng.normal(0, rng.uniform(*shift["noise"]), size=pixels.shape)
    return Image.fromarray((np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8))


def _faded(image, rng, shift):
    """Washed-out colours, a dark vignette and JPEG blocking."""
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(*shift["blur"]) * 0.7))
    pixels = np.asarray(image, dtype=np.float32) / 255
    grey = pixels.mean(axis=2, keepdims=True)
    saturation = rng.uniform(0.2, 0.7)
    tint = np.array([1.0, 0.92, 0.78]) + shift["cast"] * np.array([-0.3, 0.0, 0.3])
    pixels = (grey + saturation * (pixels - grey)) * tint
    pixels = 0.15 + pixels * rng.uniform(0.6, 0.85)  # lifted blacks, lower contrast
    rows, columns = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1) - 0.5
    vignette = 1 - rng.uniform(0.2, 0.6) * (rows ** 2 + columns ** 2) * 2
    pixels = np.clip(pixels * vignette[:, :, None], 0, 1)
    faded = Image.fromarray((pixels * 255 + 0.5).astype(np.uint8))
    buffer = io.BytesIO()
    faded.save(buffer, "JPEG", quality=int(rng.integers(15, 45)))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def render(kind, index, split, style, seed):
    """One real-like picture, uint8 (300, 300, 3): a stand-in scene drawn larger, then restyled."""
    rng = np.random.default_rng([seed, 1 + list(COUNTS).index(split), data.CLASS_NAMES.index(kind), index])
    picture, _mask = standin.render_scene(kind, rng, int(SIZE * 1.2))  # the mask is thrown away
    image = _crop(picture, rng, SHIFTS[split]["crop"])
    image = _photo(image, rng, SHIFTS[split]) if style == "photo" else _faded(image, rng, SHIFTS[split])
    return np.asarray(image)


def _write_range(folder, split, style, seed, jobs):
    for kind, index in jobs:
        name = f"{kind[:-1]}{index // 100 + 1:02d}-{index % 100}.png"  # like the real files: horse01-5.png
        Image.fromarray(render(kind, index, split, style, seed)).save(Path(folder) / kind / name, compress_level=3)


def write_split(dest, split, style="photo", seed=0, workers=None):
    """Write one split into ``dest/{horses,humans}`` atomically; return ``dest``."""
    dest = Path(dest)
    if dest.is_dir():
        return dest
    with files.atomic_folder(dest) as building:
        for kind in data.CLASS_NAMES:
            (building / kind).mkdir()
        jobs = [(kind, index) for kind in data.CLASS_NAMES for index in range(COUNTS[split][kind])]
        workers = workers or min(os.cpu_count() or 1, 4)
        if workers == 1 or len(jobs) < 100:
            _write_range(building, split, style, seed, jobs)
        else:
            # Fresh worker processes ("spawn"): never a fork of a process that may have TensorFlow loaded.
            chunks = [jobs[i::workers] for i in range(workers)]
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                list(pool.map(_write_range, [building] * workers, [split] * workers, [style] * workers,
                              [seed] * workers, chunks))
    return dest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", choices=STYLES, default="photo")
    parser.add_argument("--seed", type=int, default=0, help="another seed draws other scenes (default 0)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="default: $COURSE_DATA_DIR, else the course's data/ folder")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be 0 or more")
    if args.data_dir is not None:
        os.environ["COURSE_DATA_DIR"] = str(args.data_dir)
    root = data.data_dir()
    start = time.perf_counter()
    for split in COUNTS:
        dest = root / data.REAL[split].folder
        existed = dest.is_dir()
        write_split(dest, split, args.style, args.seed)
        print(f"{split}: {dest} ({'already there' if existed else 'written'})")
    print(f"real-like data ({args.style}, seed {args.seed}) ready in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
