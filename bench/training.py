"""How fast does the course's classifier train here? (``make bench``)

Two tables:

1. Training throughput of ``models.build_classifier`` in images per second, at
   150 px (the course's CPU setting) and at 300 px (the codelab's), measured on
   batches already in memory, so only the model's work is timed.
2. The input pipeline's overhead: one epoch of the same model fed by
   ``data.load_dataset`` from disk (first epoch: decoding and resizing PNG
   files; later epochs: from its uint8 cache), against the same batches held
   in memory. A ratio near 1 means the model, not the pipeline, sets the pace.

The stand-in data is used unless COURSE_DATA says otherwise.
"""
import os
import sys
import time

import numpy as np

import course_helpers
from course_helpers import data, models

BATCH = models.RECIPE["batch_size"]


def images_per_second(model, batches, repeats=3):
    """Best of a few timed passes over ``batches`` (a warm-up pass first)."""
    for x, y in batches[:2]:
        model.train_on_batch(x, y)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for x, y in batches:
            model.train_on_batch(x, y)
        best = min(best, time.perf_counter() - start)
    return sum(len(x) for x, _ in batches) / best


def throughput_table():
    rng = np.random.default_rng(0)
    print(f"{'input':>8} {'images/s':>10} {'ms/batch of 32':>15} {'parameters':>11}")
    rates = {}
    for size in (150, 300):
        batches = [(rng.random((BATCH, size, size, 3), dtype=np.float32), rng.integers(0, 2, (BATCH, 1)).astype("float32"))
                   for _ in range(6)]
        model = models.build_classifier(size)
        rates[size] = images_per_second(model, batches)
        print(f"{size:>5} px {rates[size]:10.0f} {1000 * BATCH / rates[size]:15.0f} {model.count_params():11,}")
    print(f"300 px costs {rates[150] / rates[300]:.1f}x more time per image than 150 px "
          f"(4x the pixels per convolution).")
    return rates


def pipeline_table():
    dataset = data.load_dataset("train", 150, BATCH)
    in_memory = [(x.numpy(), y.numpy()) for x, y in dataset]  # this pass also fills the cache

    def epoch_seconds(feed):
        model = models.build_classifier(150)
        model.fit(feed, epochs=1, verbose=0)  # warm-up: traces the training step
        start = time.perf_counter()
        model.fit(feed, epochs=1, verbose=0)
        return time.perf_counter() - start

    uncached = data.load_dataset("train", 150, BATCH)  # a fresh pipeline: its first epoch decodes files
    model = models.build_classifier(150)
    start = time.perf_counter()
    model.fit(uncached, epochs=1, verbose=0)
    first_epoch = time.perf_counter() - start

    import tensorflow as tf

    memory_feed = tf.data.Dataset.from_tensor_slices(
        (np.concatenate([x for x, _ in in_memory]), np.concatenate([y for _, y in in_memory]))).batch(BATCH)
    cached = epoch_seconds(dataset)
    from_memory = epoch_seconds(memory_feed)
    count = sum(len(x) for x, _ in in_memory)
    print(f"{'one epoch of ' + str(count) + ' images at 150 px':42} {'seconds':>8} {'vs memory':>10}")
    print(f"{'tf.data from disk, first epoch (decoding)':42} {first_epoch:8.1f} {first_epoch / from_memory:9.2f}x")
    print(f"{'tf.data from disk, later epochs (cached)':42} {cached:8.1f} {cached / from_memory:9.2f}x")
    print(f"{'the same batches from memory':42} {from_memory:8.1f} {1:9.2f}x")
    print("(the first-epoch row includes tracing the training step once)")


def main():
    os.environ.setdefault("COURSE_DATA", "standin")
    course_helpers.setup()
    throughput_table()
    print()
    pipeline_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
