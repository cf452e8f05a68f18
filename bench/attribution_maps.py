"""Per-image time of the input-space attribution maps on the course model at 150 px. (``make bench``)

Times ``cam.occlusion`` (default patch 19 px, stride 9: 256 patch positions),
``cam.integrated_gradients`` (64 steps, ``tolerance=None``: 65 gradients per image) and
``cam.guided_backprop`` on notebook 4's classifier, with ``cam.saliency`` and
``cam.grad_cam`` (conv5) as references, for one validation image and for a
batch of 8, explaining the "human" logit (class 1). Each time is the best of a
few calls after a warm-up, divided by the number of images. The integrated
gradients' completeness error on the trained model (|sum of attributions -
(score(image) - score(black))| / |score(image) - score(black)|, worst image) is
printed too. The table is written to ``bench/results/attribution_maps.md``.

Usage::

    python bench/attribution_maps.py [--no-write]
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "attribution_maps.md"
COUNTS = (1, 8)


def best_seconds(function, repeats):
    """The best of ``repeats`` timed calls, after one untimed warm-up call; and the last result."""
    result = function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def completeness_error(model, pictures, attributions):
    """The worst relative gap between the attributions' sum and the score's change from black (class 1)."""
    from course_helpers import anatomy

    body, end = anatomy.body_model(model)

    def logit(batch):
        return np.asarray(end.logits(body(batch, training=False)))[:, 0]

    change = logit(pictures) - logit(np.zeros_like(pictures))
    return float(np.max(np.abs(attributions.sum(axis=(1, 2, 3)) - change) / np.abs(change)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)

    os.environ.setdefault("COURSE_DATA", "standin")
    sys.path.insert(0, str(ROOT))
    import course_helpers
    from course_helpers import cam, data, models

    course_helpers.setup()
    model = models.load_or_train_classifier()
    batch = next(iter(data.load_dataset("validation", batch_size=max(COUNTS), shuffle=True, seed=1)))[0].numpy()
    size = batch.shape[1]
    methods = [
        ("occlusion (patch 19, stride 9, mean fill)", lambda images: cam.occlusion(model, images, class_index=1, fill="mean"), 1),
        ("integrated_gradients (steps 64)",
         lambda images: cam.integrated_gradients(model, images, class_index=1, steps=64, tolerance=None), 2),
        ("guided_backprop", lambda images: cam.guided_backprop(model, images, class_index=1), 3),
        ("saliency (reference)", lambda images: cam.saliency(model, images, class_index=1), 3),
        ("grad_cam conv5 (reference)", lambda images: cam.grad_cam(model, images, "conv5", class_index=1), 3),
    ]
    header = "| method | " + " | ".join(f"per image, batch of {count}" for count in COUNTS) + " |"
    rows = []
    print(header)
    completeness = None
    for name, method, repeats in methods:
        cells = []
        for count in COUNTS:
            seconds, result = best_seconds(lambda: method(batch[:count]), repeats)
            cells.append(f"{1000 * seconds / count:.0f} ms")
            if name.startswith("integrated") and count == max(COUNTS):
                completeness = completeness_error(model, batch[:count], result)
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    note = (f"Integrated gradients, 64 steps, on these {max(COUNTS)} images: completeness error at most "
            f"{completeness:.2%} (sum of attributions against logit(image) - logit(black)).")
    print(note)
    if not args.no_write:
        machine = f"{os.cpu_count()} CPU cores ({platform.machine()}), TensorFlow on the CPU"
        text = ("# Attribution maps: time per image\n\n"
                f"Made by `bench/attribution_maps.py`: notebook 4's classifier at {size} px (trained on the "
                f"offline stand-in), validation images, class 1 (\"human\"), on {machine}. Best of a few calls "
                "after a warm-up, divided by the number of images. Occlusion runs the model on 256 occluded "
                "copies per image, integrated gradients computes 65 gradients per image; both 16 images at a "
                "time.\n\n" + header + "\n|---|" + "---|" * len(COUNTS) + "\n" + "\n".join(rows) + "\n\n"
                + note + "\n")
        from course_helpers.files import atomic_file

        with atomic_file(RESULTS) as temporary:
            temporary.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
