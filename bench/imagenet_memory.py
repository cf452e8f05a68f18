"""Memory the optional ImageNet models need, measured. (``make bench``)

Why notebook 7 explains MobileNetV2 and not VGG16 with its classifier top:
Binder gives a whole session 2 GB. For each model, one process writes random
weights of the model's size to a file in the legacy HDF5 layout of Keras's
ImageNet files; a fresh process then imports TensorFlow, builds the model and
loads that file the way ``weights="imagenet"`` does, and reports its peak
resident memory (``getrusage``) above what it used after the imports. Linux
only (elsewhere it says so and skips).
"""
import json
import os
import subprocess
import sys
import tempfile

MODELS = {
    "VGG16 with its top": "keras.applications.VGG16(weights=None)",
    "VGG16 without its top": "keras.applications.VGG16(weights=None, include_top=False)",
    "MobileNetV2": "keras.applications.MobileNetV2(weights=None)",
}
BINDER_GB = 2.0

WRITE = """
import sys, h5py, keras
from keras.src.legacy.saving import legacy_h5_format  # the ImageNet files' layout; fine in a benchmark
with h5py.File(sys.argv[1], "w") as file:
    legacy_h5_format.save_weights_to_hdf5_group(file, {build})
"""

MEASURE = """
import json, resource, sys
def rss_gb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e9
import keras
after_imports = rss_gb()
model = {build}
model.load_weights(sys.argv[1])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
print(json.dumps({{"parameters": model.count_params(), "after_imports": after_imports, "peak": peak}}))
"""


def python(code, *args):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise SystemExit(f"the measurement failed:\n{result.stderr[-2000:]}")
    return result.stdout


def main():
    if not sys.platform.startswith("linux"):
        print("skipped: this measurement reads Linux's process statistics.")
        return 0
    print(f"{'model':24} {'weights':>12} {'peak above imports':>19} {'peak in all':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for name, build in MODELS.items():
            weights = os.path.join(folder, "model.h5")
            python(WRITE.format(build=build), weights)
            row = json.loads(python(MEASURE.format(build=build), weights).strip().splitlines()[-1])
            above = row["peak"] - row["after_imports"]
            flag = "  over Binder's 2 GB" if row["peak"] > BINDER_GB else ""
            print(f"{name:24} {row['parameters']:12,} {above:16.2f} GB {row['peak']:9.2f} GB{flag}")
            os.remove(weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
