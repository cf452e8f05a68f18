"""The horse-or-human data: the real download, the offline stand-in, and a tf.data pipeline.

* :func:`fetch_zip` downloads a zip, verifies its size and SHA-256, and extracts
  it atomically and safely (no zip-slip), so a crash never leaves half a folder.
* :func:`make_standin` renders the offline stand-in: drawn horses and humans
  with exact pixel masks (:func:`mask_for`).
* :func:`horse_or_human` finds a split on disk (real or stand-in), fetching or
  generating it on first use; ``COURSE_DATA`` chooses between them.
* :func:`load_dataset` turns a split into a batched, cached, prefetched
  ``tf.data.Dataset`` with labels 0 = horse, 1 = human.

Everything is stored under ``$COURSE_DATA_DIR`` when it is set, else in the
clone's ``data/`` folder, else (an installed wheel) in a per-user cache folder.
"""
import contextlib
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from . import DEFAULT_SEED, course_seed, data_mode, files, images, offline, seed_for, standin
from .arguments import check_int
from .progress import ProgressBar

__all__ = [
    "CLASS_NAMES",
    "REAL",
    "STANDIN_PER_CLASS",
    "DownloadError",
    "unreachable",
    "data_dir",
    "default_data_dir",
    "user_cache_dir",
    "fetch_zip",
    "make_standin",
    "standin_seed",
    "standin_folder",
    "mask_for",
    "horse_or_human",
    "source_of",
    "load_dataset",
    "model_input",
]

#: Label 0 and label 1, as the folders are named.
CLASS_NAMES = ("horses", "humans")


@dataclass(frozen=True)
class RemoteZip:
    url: str
    size: int
    sha256: str
    folder: str


#: The official horse-or-human archives (Laurence Moroney, CC BY 2.0), 300x300 PNGs.
REAL = {
    "train": RemoteZip(
        "https://storage.googleapis.com/download.tensorflow.org/data/horse-or-human.zip",
        149574867, "e2e6f70d3d549c5dd10a57165e55af253ee66ad750403f95c0fb76bb943633a9", "horse-or-human"),
    "validation": RemoteZip(
        "https://storage.googleapis.com/download.tensorflow.org/data/validation-horse-or-human.zip",
        11480187, "ae5fff2f4f5554791f05358108e2e05d9801b191f1896ea101402f0e7f6c32c0", "validation-horse-or-human"),
}

#: Stand-in images per class, and the render seed of each split in the stored run (different
#: seeds: no shared scenes). ``COURSE_SEED`` moves both; see :func:`standin_seed`.
STANDIN_PER_CLASS = {"train": 500, "validation": 128}
STANDIN_SEED = {"train": 0, "validation": 1}
STANDIN_SIZE = 300

_CHUNK = 1 << 20


class DownloadError(Exception):
    """A download failed or its file is not the one expected. The message says what to do."""


#: The checkout this package was imported from, when it was (a clone, or an editable install).
CLONE = Path(__file__).resolve().parent.parent
CACHE_NAME = "inside-cnns"


def _running_from_a_clone():
    return (CLONE / "notebooks").is_dir() and (CLONE / "pyproject.toml").is_file()


def user_cache_dir():
    """The per-user cache folder, by the platform's convention.

    ``%LOCALAPPDATA%\\inside-cnns\\Cache`` on Windows, ``~/Library/Caches/inside-cnns``
    on macOS, and ``$XDG_CACHE_HOME/inside-cnns`` (default ``~/.cache/inside-cnns``)
    elsewhere.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / CACHE_NAME / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / CACHE_NAME
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / CACHE_NAME


def default_data_dir():
    """Where the data goes without ``COURSE_DATA_DIR``: the clone's ``data/`` when the course runs
    from a clone (or an editable install), else :func:`user_cache_dir`, never inside site-packages."""
    return CLONE / "data" if _running_from_a_clone() else user_cache_dir()


def data_dir():
    """The folder where downloads, the stand-in and trained models live. Created if missing.

    ``$COURSE_DATA_DIR`` if set (e.g. a folder shared by a workshop), else
    :func:`default_data_dir`.
    """
    folder = Path(os.environ.get("COURSE_DATA_DIR") or default_data_dir()).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ----------------------------------------------------------------------------
# Verified, atomic download and extraction
# ----------------------------------------------------------------------------
def _remove(path):
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _network_error(url, reason):
    host = urllib.parse.urlparse(url).netloc or url
    return DownloadError(
        f"could not reach {host} ({reason}); the course will use the offline stand-in; "
        f"set COURSE_DATA=real to insist on the real data."
    )


def _download(url, target, expected_size, timeout):
    """Stream ``url`` into the open file ``target``; return (bytes written, sha256 hex)."""
    digest = hashlib.sha256()
    written = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            announced = int(response.headers.get("Content-Length") or 0)
            total = expected_size or announced
            progress = ProgressBar(total, f"downloading {PurePosixPath(urllib.parse.urlparse(url).path).name}",
                                   suffix=f"of {total / 1e6:.1f} MB" if total else "")
            try:
                while chunk := response.read(_CHUNK):
                    target.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    progress.update(min(written, total) if total else 0)
            finally:
                progress.close()
            if announced and written < announced:
                raise DownloadError(f"the download of {url} stopped early, after {written} of {announced} bytes. "
                                    f"Try again.")
    except DownloadError:
        raise
    except urllib.error.HTTPError as error:
        raise DownloadError(f"the server answered {error.code} {error.reason} for {url}. "
                            f"Check the address, or try again later.") from None
    except (urllib.error.URLError, OSError, socket.timeout, ConnectionError) as error:
        reason = getattr(error, "reason", None) or error
        raise _network_error(url, reason) from None
    except Exception as error:  # http.client.IncompleteRead and friends: the body stopped early
        raise DownloadError(f"the download of {url} stopped early ({type(error).__name__}: {error}). "
                            f"Try again.") from None
    return written, digest.hexdigest()


def _check_members(archive, dest):
    """Refuse absolute paths, '..' components and links that escape ``dest``."""
    root = Path(dest).resolve()
    for member in archive.infolist():
        name = member.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or path.is_absolute() or (len(name) > 1 and name[1] == ":"):
            raise DownloadError(f"refusing to extract {name!r}: absolute paths in an archive could overwrite "
                                f"any file on this computer.")
        if ".." in path.parts:
            raise DownloadError(f"refusing to extract {name!r}: '..' in an archive path could write outside "
                                f"the destination folder (zip-slip).")
        mode = member.external_attr >> 16
        if stat.S_ISLNK(mode):
            link = PurePosixPath(archive.read(member).decode("utf-8", errors="replace"))
            resolved = (root / path.parent / link).resolve()
            if link.is_absolute() or not resolved.is_relative_to(root):
                raise DownloadError(f"refusing to extract {name!r}: it is a link to {str(link)!r}, outside the "
                                    f"destination folder.")


def fetch_zip(url, dest, sha256, size=None, timeout=30):
    """Download a zip, verify it, and extract it into ``dest``, atomically.

    Parameters
    ----------
    url : str
        Where the zip is.
    dest : str or pathlib.Path
        The folder to extract into. If it already exists, nothing is
        downloaded and it is returned as it is (it is only ever created
        complete).
    sha256 : str
        Expected SHA-256 of the zip, in hex.
    size : int, optional
        Expected size of the zip in bytes.
    timeout : float, optional
        Seconds to wait for the server. Default 30.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    DownloadError
        If the server cannot be reached or answers with an error, the body stops
        early, the size or checksum differs (the message gives expected and
        actual values), or the archive holds unsafe paths. Nothing is left
        behind: not the download, not a partly extracted folder.

    Notes
    -----
    The zip is written to a temporary file next to ``dest`` and extracted into a
    temporary folder next to it, which is renamed to ``dest`` only when complete.
    Two processes fetching at once each do this privately; the first rename
    wins and the other keeps the winner's folder.

    ``keras.utils.get_file`` downloads and extracts too, but not with these
    guarantees, which ``tests/test_data.py`` checks: it writes the download
    and the extracted files in place (an interrupted run leaves half of
    them), keeps a file whose checksum failed, skips unsafe archive entries
    with a warning instead of refusing the archive, and does nothing for
    concurrent callers.
    """
    dest = Path(dest)
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}-", suffix=".zip.part", delete=False)
    download = Path(handle.name)
    try:
        with handle:
            written, digest = _download(url, handle, size, timeout)
        if size is not None and written != size:
            raise DownloadError(f"the download of {url} has {written} bytes, but {size} were expected "
                                f"(an interrupted or changed file). Try again.")
        if digest != sha256.lower():
            raise DownloadError(f"the download of {url} has SHA-256 {digest}, but {sha256.lower()} was expected: "
                                f"the file is damaged or not the one the course was written for.")
        if dest.is_dir():  # someone else finished first
            return dest
        with files.atomic_folder(dest, suffix=".extracting") as extracting:
            try:
                with zipfile.ZipFile(download) as archive:
                    _check_members(archive, extracting)
                    archive.extractall(extracting)
            except zipfile.BadZipFile as error:
                raise DownloadError(f"the download of {url} is not a valid zip file ({error}).") from None
        return dest
    finally:
        _remove(download)


# ----------------------------------------------------------------------------
# The offline stand-in
# ----------------------------------------------------------------------------
def _render_range(root, n_per_class, seed, size, start, stop):
    """Render and save scenes ``start`` to ``stop`` of the stand-in (horses first, then humans).

    Each scene has its own random generator, seeded by (seed, class, index), so
    the files do not depend on how the work is split between processes.
    """
    for job in range(start, stop):
        class_index, index = divmod(job, n_per_class)
        kind = CLASS_NAMES[class_index]
        picture, mask = standin.render_scene(kind, np.random.default_rng([seed, class_index, index]), size)
        name = f"{kind[:-1]}{index:04d}.png"
        Image.fromarray(picture).save(Path(root) / "images" / kind / name, compress_level=3)
        Image.fromarray(mask).save(Path(root) / "masks" / kind / name, compress_level=3)


def _render_in_processes(root, n_per_class, seed, size, workers):
    """Split the rendering over fresh Python processes.

    Plain subprocesses rather than multiprocessing: they never fork a process
    that has TensorFlow loaded, and never re-run the caller's script.
    """
    total = 2 * n_per_class
    bounds = np.linspace(0, total, workers + 1).astype(int)
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    code = "import sys; from course_helpers.data import _render_range; _render_range(sys.argv[1], *map(int, sys.argv[2:]))"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, str(root), str(n_per_class), str(seed), str(size),
                          str(start), str(stop)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for start, stop in zip(bounds[:-1], bounds[1:])
    ]
    failures = [p.communicate()[1].decode(errors="replace")[-2000:] for p in processes]
    for process, error in zip(processes, failures):
        if process.returncode != 0:
            raise RuntimeError(f"rendering the stand-in failed in a worker process:\n{error}")


def make_standin(root, n_per_class, size=300, seed=0, workers=None):
    """Render the offline stand-in dataset: drawn horses and humans with pixel masks.

    Parameters
    ----------
    root : str or pathlib.Path
        The folder to create. If it exists, it is returned as it is (it is only
        ever created complete).
    n_per_class : int
        Images of each class.
    size : int, optional
        Side of each square image in pixels. Default 300, as the real data.
    seed : int, optional
        The same seed gives the same files, byte for byte. Default 0.
    workers : int, optional
        Processes to render with. Default: one per CPU, at most 4.

    Returns
    -------
    pathlib.Path
        ``root``, holding ``images/{horses,humans}/NAME.png`` and the masks at
        ``masks/{horses,humans}/NAME.png`` (white = figure).
    """
    n_per_class = check_int(n_per_class, "n_per_class", 1)
    size = check_int(size, "size (pixels)", 32, 1024)
    root = Path(root)
    if root.is_dir():
        return root
    with files.atomic_folder(root) as building:
        for part in ("images", "masks"):
            for kind in CLASS_NAMES:
                (building / part / kind).mkdir(parents=True)
        workers = workers or min(os.cpu_count() or 1, 4)
        if workers > 1 and n_per_class >= 100:
            _render_in_processes(building, n_per_class, seed, size, workers)
        else:
            _render_range(building, n_per_class, seed, size, 0, 2 * n_per_class)
    return root


def mask_for(image_path, size=None):
    """The figure's mask for a stand-in image, or None for any other image.

    Parameters
    ----------
    image_path : str or pathlib.Path
        A file under ``.../images/{horses,humans}/``.
    size : int, optional
        Resize the mask to size x size (nearest neighbour), e.g. to match the
        images a model sees. Default: the file's own size.

    Returns
    -------
    numpy.ndarray of bool, shape (H, W), or None
        True on the figure.
    """
    path = Path(image_path)
    if path.parent.parent.name != "images":
        return None
    mask_path = path.parent.parent.parent / "masks" / path.parent.name / path.name
    if not mask_path.is_file():
        return None
    with Image.open(mask_path) as mask:
        mask = mask.convert("L")
        if size is not None:
            mask = mask.resize((size, size), Image.Resampling.NEAREST)
        return np.asarray(mask) > 127


# ----------------------------------------------------------------------------
# Finding a split
# ----------------------------------------------------------------------------
def _class_root(folder):
    """The folder that holds horses/ and humans/ (an archive may add one level)."""
    folder = Path(folder)
    if all((folder / name).is_dir() for name in CLASS_NAMES):
        return folder
    for child in sorted(p for p in folder.iterdir() if p.is_dir()):
        if all((child / name).is_dir() for name in CLASS_NAMES):
            return child
    raise DownloadError(f"{folder.name} has no horses/ and humans/ folders: delete it to download it again.")


def _count(folder):
    return sum(1 for name in CLASS_NAMES for p in (folder / name).iterdir() if p.suffix.lower() == ".png")


def unreachable(url, timeout=3):
    """Why ``url``'s server cannot be reached within ``timeout`` seconds, or None if it can.

    A quick check, so that having no network costs seconds, not minutes.
    """
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
    except OSError as error:
        return f"{parsed.hostname} cannot be reached ({error})"
    return None


def _real(split, timeout):
    spec = REAL[split]
    return _class_root(fetch_zip(spec.url, data_dir() / spec.folder, spec.sha256, spec.size, timeout=timeout))


def standin_seed(split):
    """The stand-in's render seed for ``split`` under the course seed (``COURSE_SEED``).

    The stored run's seeds are 0 (train) and 1 (validation). Course seed S
    moves them to 2 (S - 42) and 2 (S - 42) + 1: the two splits never share a
    seed, within one course seed or across course seeds.
    """
    if split not in STANDIN_SEED:
        raise ValueError(f"split must be 'train' or 'validation'; got {split!r}.")
    return seed_for(STANDIN_SEED[split], spacing=2)


def standin_folder(split):
    """Where the stand-in's ``split`` lives: ``standin/<split>`` in the data folder, or
    ``standin-seed<S>/<split>`` under another course seed S."""
    seed = course_seed()
    return data_dir() / ("standin" if seed == DEFAULT_SEED else f"standin-seed{seed}") / split


def _standin(split):
    root = make_standin(standin_folder(split), STANDIN_PER_CLASS[split], STANDIN_SIZE, standin_seed(split))
    return root / "images"


def horse_or_human(split="train", source="auto"):
    """The folder of one split, holding ``horses/`` and ``humans/``.

    Parameters
    ----------
    split : {"train", "validation"}
    source : {"auto", "real", "standin"}, optional
        ``"real"``: the downloaded dataset (downloaded now if needed).
        ``"standin"``: the offline stand-in (generated now if needed).
        ``"auto"`` (default): the real data if it is cached or can be
        downloaded, otherwise the stand-in. The ``COURSE_DATA`` environment
        variable, when set, overrides this argument (CI sets it to "standin").

    Returns
    -------
    pathlib.Path

    Prints one line saying which data is used.
    """
    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation'; got {split!r}.")
    if source not in ("auto", "real", "standin"):
        raise ValueError(f"source must be 'auto', 'real' or 'standin'; got {source!r}.")
    chosen = data_mode() if os.environ.get("COURSE_DATA", "").strip() else source
    why = " (COURSE_DATA)" if os.environ.get("COURSE_DATA", "").strip() else ""
    cached = (data_dir() / REAL[split].folder).is_dir()
    if chosen == "real":
        if offline() and not cached:
            raise DownloadError(f"COURSE_DATA=real, but the real {split} images are not cached in {data_dir()} and "
                                f"COURSE_OFFLINE=1 forbids the download. Run 'python -m course_helpers fetch' "
                                f"with a network first, or unset COURSE_OFFLINE.")
        folder = _real(split, timeout=30)
        print(f"horse-or-human {split}: real renders, {_count(folder)} images{why}")
        return folder
    if chosen == "auto":
        try:
            reason = None if cached else ("COURSE_OFFLINE=1" if offline() else unreachable(REAL[split].url))
            if reason:
                raise DownloadError(f"{reason}; the course will use the offline stand-in; "
                                    f"set COURSE_DATA=real to insist on the real data.")
            folder = _real(split, timeout=30)
            print(f"horse-or-human {split}: real renders, {_count(folder)} images")
            return folder
        except DownloadError as error:
            print(f"real data unavailable: {error}")
    folder = _standin(split)
    print(f"horse-or-human {split}: offline stand-in, {_count(folder)} drawn images{why}")
    return folder


def source_of(folder):
    """Which data a split folder holds: ``"standin"`` (it has masks next to it) or ``"real"``."""
    return "standin" if (Path(folder).parent / "masks").is_dir() else "real"


# ----------------------------------------------------------------------------
# The tf.data pipeline
# ----------------------------------------------------------------------------
def load_dataset(split, img_size=150, batch_size=32, source="auto", shuffle=None, seed=None, per_class=None):
    """A ready-to-train ``tf.data.Dataset`` of one split.

    Built with ``keras.utils.image_dataset_from_directory``: images resized to
    ``img_size`` (bilinear), labels 0 = horse and 1 = human as float32 (N, 1),
    pixels scaled to [0, 1]. The decoded images are cached in memory as uint8,
    4 times smaller than float32: 300 px real training data takes 277 MB
    instead of 1.1 GB, so a notebook stays within its memory budget. The cache
    is filled during the first epoch; later epochs skip decoding.

    Parameters
    ----------
    split : {"train", "validation"}
    img_size : int, optional
        Side of the square images fed to the model. Default 150.
    batch_size : int, optional
        Default 32.
    source : {"auto", "real", "standin"}, optional
        See :func:`horse_or_human`.
    shuffle : bool, optional
        Reshuffle the examples every epoch. Default: True for "train", False
        for "validation" (so predictions line up with ``dataset.file_paths``).
    seed : int, optional
        Shuffling seed. Default 0, moved by ``COURSE_SEED``.
    per_class : int, optional
        Keep ``per_class`` images of each class (all of a class that has
        fewer), drawn at random with ``seed``, for experiments with less data.
        Drawn, not the first by file name: the real archives name their files
        in series, one figure after another, so the first ones would show few
        figures. Default: all of them.

    Returns
    -------
    tf.data.Dataset
        Batches of (images float32 (B, img_size, img_size, 3), labels float32 (B, 1)),
        with extra attributes ``file_paths`` (in order, when not shuffled),
        ``class_names`` and ``source`` ("real" or "standin").
    """
    import keras
    import tensorflow as tf

    img_size = check_int(img_size, "img_size", 32, 1024)
    batch_size = check_int(batch_size, "batch_size", 1)
    folder = horse_or_human(split, source)
    shuffle = (split == "train") if shuffle is None else bool(shuffle)
    seed = seed_for(0) if seed is None else seed
    images_ds = keras.utils.image_dataset_from_directory(
        folder, labels="inferred", label_mode="binary", class_names=list(CLASS_NAMES),
        image_size=(img_size, img_size), batch_size=None, shuffle=False, verbose=False,
    )
    file_paths = list(images_ds.file_paths)
    if per_class is not None:
        per_class = check_int(per_class, "per_class", 1)
        kinds = np.array([Path(path).parent.name for path in file_paths])
        draw = np.random.default_rng(seed)
        keep = np.zeros(len(file_paths), dtype=bool)
        for name in CLASS_NAMES:
            members = np.flatnonzero(kinds == name)
            keep[draw.choice(members, size=min(per_class, len(members)), replace=False)] = True
        keep = keep.tolist()
        file_paths = [path for path, kept in zip(file_paths, keep) if kept]
        kept_flags = tf.constant(keep)
        images_ds = images_ds.enumerate().filter(lambda i, _: kept_flags[i]).map(lambda _, example: example)
        # A filter hides the length; stating it lets Keras count the steps (and not warn
        # that the input "ran out of data" at the end of the first epoch).
        images_ds = images_ds.apply(tf.data.experimental.assert_cardinality(len(file_paths)))
    pipeline = images_ds.map(lambda x, y: (tf.cast(tf.round(x), tf.uint8), y), num_parallel_calls=tf.data.AUTOTUNE)
    pipeline = pipeline.cache()
    if shuffle:
        pipeline = pipeline.shuffle(len(file_paths), seed=seed, reshuffle_each_iteration=True)
    pipeline = pipeline.batch(batch_size)
    pipeline = pipeline.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    pipeline = pipeline.prefetch(tf.data.AUTOTUNE)
    pipeline.file_paths = file_paths
    pipeline.class_names = list(CLASS_NAMES)
    pipeline.source = source_of(folder)
    return pipeline


def model_input(image, size):
    """One image as a model trained by :func:`load_dataset` expects it: the same pixels.

    The image is read as :func:`course_helpers.images.load_image` reads any file
    (EXIF orientation, palettes, transparency, 16 bits), then resized exactly as
    the pipeline does: TensorFlow's bilinear resize of 0-255 values, rounded to
    8 bits, scaled to [0, 1]. So a file gives the same prediction here as in the
    pipeline (a Lanczos resize would shift probabilities by up to a few percent).

    Parameters
    ----------
    image : path, bytes, file object, PIL image or array
        Anything ``load_image`` reads.
    size : int or (int, int)
        The model's input side, or (height, width).

    Returns
    -------
    numpy.ndarray of float32, shape (height, width, 3), values in [0, 1]
    """
    import tensorflow as tf

    height, width = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    picture = images.load_image(image) * 255.0
    resized = tf.image.resize(picture, (int(height), int(width)), method="bilinear").numpy()
    return (np.round(np.clip(resized, 0, 255)) / 255.0).astype(np.float32)
