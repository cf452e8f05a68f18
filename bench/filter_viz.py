"""Batched activation maximization against the one-filter-at-a-time loop. (``make bench``)

Both synthesize one image for each of 32 filters of the classifier's third conv
layer, with 30 gradient steps:

* the keras-io way: a Python loop over filters; for each, a random start in
  [0.4, 0.6] at the full input size, and 30 steps of gradient ascent at
  learning rate 10 on the L2-normalized gradient, clipped to [0, 1];
* ``course_helpers.filters.maximize``: all 32 images as one batch, one
  ``tf.function`` step per iteration.

Both are timed in this run, each as the best of a few runs (every run starts
from scratch: new images, a new tf.function, so each pays its own tracing; the
best run is the one least disturbed by anything else on the machine). Each
method's final images are scored the same way: the filter's mean activation (after ReLU) over its feature map, border left
out (``filters.mean_activation``). Target: at least 10x less wall time, with a
mean final activation at least that of the loop.
"""
import os
import sys
import time

import numpy as np

import course_helpers
from course_helpers import activations, filters, models

LAYER, FILTERS, STEPS = "conv3", list(range(32)), 30
TARGET_SPEEDUP = 10


def keras_io_loop(model, layer_name, filter_indices, steps, learning_rate=10.0):
    """The per-filter loop, as in the keras-io "Visualizing what convnets learn" example."""
    import keras
    import tensorflow as tf

    extractor = keras.Model(model.inputs, model.get_layer(layer_name).output)
    size = model.inputs[0].shape[1]

    def compute_loss(image, filter_index):
        activation = extractor(image)
        return tf.reduce_mean(activation[:, 2:-2, 2:-2, filter_index])

    @tf.function
    def gradient_ascent_step(image, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = compute_loss(image, filter_index)
        gradients = tape.gradient(loss, image)
        gradients = tf.math.l2_normalize(gradients)
        return loss, image + learning_rate * gradients

    results = []
    generator = tf.random.Generator.from_seed(0)
    for filter_index in filter_indices:
        image = generator.uniform((1, size, size, 3), 0.4, 0.6)
        for _ in range(steps):
            _, image = gradient_ascent_step(image, filter_index, learning_rate)
            image = tf.clip_by_value(image, 0.0, 1.0)
        results.append(image[0].numpy())
    return np.stack(results)


def best_of(runs, function):
    """(best wall time, result) over a few runs of ``function``."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def score(model, layer_name, images, filter_indices):
    """Mean activation after ReLU, border left out, each image at its own size."""
    extractor = activations.feature_extractor(model, [layer_name], image_shape=images.shape[1:])
    return float(np.mean(filters.mean_activation(extractor(images)[layer_name], filter_indices)))


def main():
    os.environ.setdefault("COURSE_DATA", "standin")
    course_helpers.setup()
    model = models.load_or_train_classifier()

    loop_seconds, looped = best_of(2, lambda: keras_io_loop(model, LAYER, FILTERS, STEPS))
    batch_seconds, (batched, _) = best_of(3, lambda: filters.maximize(model, LAYER, FILTERS, steps=STEPS,
                                                                      progress=False))

    loop_score = score(model, LAYER, looped, FILTERS)
    batch_score = score(model, LAYER, batched, FILTERS)
    print(f"{len(FILTERS)} filters of {LAYER}, {STEPS} steps each")
    print(f"{'method':44} {'canvas':>8} {'best time':>10} {'mean final activation':>22}")
    print(f"{'keras-io loop (one filter at a time)':44} {looped.shape[1]:>5} px {loop_seconds:8.1f} s {loop_score:22.3f}")
    print(f"{'filters.maximize (one batch)':44} {batched.shape[1]:>5} px {batch_seconds:8.1f} s {batch_score:22.3f}")
    speedup = loop_seconds / batch_seconds
    met = speedup >= TARGET_SPEEDUP and batch_score >= loop_score
    print(f"target: >= {TARGET_SPEEDUP}x less wall time and at least the loop's activation: "
          f"{'met' if met else 'MISSED'} ({speedup:.1f}x, {batch_score / loop_score:.2f}x the activation)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
