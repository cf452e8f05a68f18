"""The course's budgets, measured: wall time and kernel memory per notebook. (``make bench``)

Each notebook runs top to bottom in a fresh kernel (as ``make execute`` and
nbval do), on temporary copies so nothing is written back, while a thread
samples the kernel's resident memory (RSS, the kernel and any process it
starts) every 0.2 s with psutil. On Linux the kernel's own high-water mark
(``getrusage``) is read at the end too, so a short peak is not missed.

Budgets on a 2-core CPU: the whole course in at most 5 minutes, and every
kernel at most 1.5 GB (Binder gives 2 GB). The script exits with status 1 if
a budget is exceeded. The notebooks run in order, so notebooks 5 to 7 load the
model notebook 4 saves.

``--imagenet`` measures the path an online learner takes (Binder, Colab),
where the optional ImageNet sections of notebooks 5 to 7 run (VGG16 without
its top in 5 and 6, MobileNetV2 in 7). The weights cannot be downloaded here,
so the course's loaders find random weights of the same sizes "cached" (in
the real files' format and names) and load them as they would the real ones;
the horse-or-human data stays the stand-in. Only time and memory are
meaningful in that mode, not the pictures.

    python bench/notebooks.py            # every notebook
    python bench/notebooks.py 05 07      # only those (the model must exist already)
    python bench/notebooks.py --imagenet 05 06 07
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

ROOT = Path(__file__).resolve().parent.parent
COURSE_BUDGET_S = 5 * 60
KERNEL_BUDGET_GB = 1.5

# With --imagenet: the course's own loaders run, and find "cached" files under the real names that
# hold random weights of the real sizes, in the same legacy HDF5 format, so they load the same way.
IMAGENET_STAND_IN = """
from pathlib import Path
import course_helpers
with course_helpers._filtered_native_stderr():  # TensorFlow's start-up lines, as setup() does
    import keras
from course_helpers import models

models._keras_models_dir = lambda: Path({folder!r}) / "models"
"""


def peak_memory_while(kernel, work):
    """Run ``work()`` while sampling the kernel's memory; return (result, peak bytes)."""
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            try:
                process = psutil.Process(kernel.provisioner.process.pid)
                family = [process, *process.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in family))
            except (psutil.Error, AttributeError):
                pass
            done.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = work()
    finally:
        done.set()
        thread.join()
    return result, peak[0]


def run(path, folder, imagenet=False):
    notebook = nbformat.read(path, as_version=4)
    if imagenet:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(IMAGENET_STAND_IN.format(folder=str(folder))))
    # The kernel's own high-water mark, exact where sampling could miss a short peak (Linux: in KiB).
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import resource; print('peak RSS KiB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"))
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(notebook, km=kernel, timeout=600, resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    try:
        _, peak = peak_memory_while(kernel, client.execute)
    finally:
        # nbclient leaves a kernel it was given running: stop it, so kernels do not pile up
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    seconds = time.perf_counter() - start
    for output in notebook.cells[-1].get("outputs", []):
        if output.get("text", "").startswith("peak RSS KiB") and sys.platform.startswith("linux"):
            peak = max(peak, int(output["text"].split()[-1]) * 1024)
    if imagenet:
        printed = "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
        if " skipped: " in printed:
            raise SystemExit(f"{path.name}: an ImageNet section skipped itself, so it was not measured:\n"
                             + "\n".join(line for line in printed.splitlines() if " skipped: " in line))
    return seconds, peak


# Writes random weights in the legacy HDF5 layout of Keras's ImageNet files (a private Keras function:
# this is a benchmark, not course code), under the real file names.
WRITE_WEIGHTS = """
import sys, h5py, keras, numpy as np
from keras.src.legacy.saving import legacy_h5_format
from course_helpers import models

def alive(model):
    # He-scaled random kernels and small positive biases, so that signals (and the notebooks' filter
    # climbs) get through all 13 ReLU layers, as with trained weights; Keras's default init lets them die.
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            kernel, bias = layer.get_weights()
            kernel = rng.normal(0, np.sqrt(2 / np.prod(kernel.shape[:3])), kernel.shape).astype("float32")
            layer.set_weights([kernel, np.full_like(bias, 0.01)])
    return model

for name, model in [
    (models.VGG16_WEIGHTS.replace(".h5", "_notop.h5"), alive(keras.applications.VGG16(weights=None, include_top=False))),
    (models.VGG16_WEIGHTS, alive(keras.applications.VGG16(weights=None))),
    (models.MOBILENET_V2_WEIGHTS, keras.applications.MobileNetV2(weights=None)),
]:
    with h5py.File(sys.argv[1] + "/models/" + name, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, model)
    del model
"""


def write_imagenet_weights(folder):
    """Random weights files of the sizes of the ImageNet models, written by a separate process."""
    (Path(folder) / "models").mkdir()
    result = subprocess.run([sys.executable, "-c", WRITE_WEIGHTS, str(folder)], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.returncode != 0:
        raise SystemExit(f"could not write the stand-in ImageNet weights:\n{result.stderr[-2000:]}")


def main():
    os.environ.setdefault("COURSE_DATA", "standin")
    arguments = sys.argv[1:]
    imagenet = "--imagenet" in arguments
    chosen = [a for a in arguments if a != "--imagenet"]  # e.g. "05" "07": only those notebooks
    all_notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    notebooks = [p for p in all_notebooks if not chosen or p.name[:2] in chosen]
    if not notebooks:
        raise SystemExit(f"no notebook matches {chosen}; use two-digit numbers such as 05, "
                         f"from {[p.name[:2] for p in all_notebooks]}.")
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as folder:
        if imagenet:
            write_imagenet_weights(folder)
        for path in notebooks:
            copy = Path(folder) / path.name
            shutil.copy(path, copy)
            seconds, peak = run(copy, Path(folder), imagenet)
            total += seconds
            rows.append((path.name, seconds, peak / 1e9))
    print(f"{'notebook':38} {'wall time':>10} {'peak kernel RSS':>16}" + ("   (ImageNet sections run)" if imagenet else ""))
    for name, seconds, gb in rows:
        flag = "  over budget" if gb > KERNEL_BUDGET_GB else ""
        print(f"{name:38} {seconds:8.1f} s {gb:13.2f} GB{flag}")
    print(f"{'whole course' if not chosen else 'these notebooks':38} {total:8.1f} s {max(r[2] for r in rows):13.2f} GB"
          f" (largest)")
    within = (total <= COURSE_BUDGET_S or chosen) and all(r[2] <= KERNEL_BUDGET_GB for r in rows)
    print(f"budgets: course <= {COURSE_BUDGET_S // 60} min and each kernel <= {KERNEL_BUDGET_GB} GB: "
          f"{'met' if within else 'EXCEEDED'} ({os.cpu_count()} CPUs; data: {os.environ['COURSE_DATA']})")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
