"""How fast is course_helpers.conv.conv2d? (``make bench``)

Times three ways of computing the same 'valid' convolution of a 300x300x3
image with 16 filters of 3x3:

* a naive Python loop over output pixels and filters, as in notebook 1;
* ``course_helpers.conv.conv2d`` (sliding_window_view + tensordot);
* ``tf.nn.conv2d``, TensorFlow's optimized kernel.

Target: conv2d at least 50x faster than the naive loop. The script exits with
status 1 if the target is missed or the three results disagree.
"""
import os
import platform
import sys
import time

import numpy as np

import course_helpers
from course_helpers import conv

TARGET_SPEEDUP = 50


def naive_conv2d(image, kernels):
    kh, kw, _, filters = kernels.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1, filters), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            window = image[i:i + kh, j:j + kw, :]
            for f in range(filters):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f])
    return out


def best_time(function, repeats):
    """Best wall time over a few runs (the least disturbed by other work), and the result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    course_helpers.setup()  # quiet TensorFlow start-up, and one line with the versions
    import tensorflow as tf

    rng = np.random.default_rng(0)
    image = rng.random((300, 300, 3), dtype=np.float32)
    kernels = rng.standard_normal((3, 3, 3, 16), dtype=np.float32)
    image_tf, kernels_tf = tf.constant(image[np.newaxis]), tf.constant(kernels)
    tf.nn.conv2d(image_tf, kernels_tf, strides=1, padding="VALID")  # warm-up: first call compiles

    rows = [
        ("naive Python loop", *best_time(lambda: naive_conv2d(image, kernels), repeats=1)),
        ("course_helpers.conv.conv2d", *best_time(lambda: conv.conv2d(image, kernels), repeats=5)),
        ("tf.nn.conv2d", *best_time(lambda: tf.nn.conv2d(image_tf, kernels_tf, 1, "VALID")[0].numpy(), repeats=5)),
    ]
    naive_seconds = rows[0][1]
    reference = rows[2][2]

    print(f"valid 3x3 convolution, 300x300x3 image, 16 filters -> {reference.shape}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'method':<30} {'time':>10} {'speed-up vs loop':>17} {'max |diff| vs TF':>17}")
    for name, seconds, result in rows:
        diff = float(np.abs(result - reference).max())
        print(f"{name:<30} {seconds * 1e3:8.1f} ms {naive_seconds / seconds:16.0f}x {diff:17.1e}")

    speedup = naive_seconds / rows[1][1]
    agree = all(np.allclose(result, reference, atol=1e-4) for _, _, result in rows)
    met = speedup >= TARGET_SPEEDUP
    print(f"target: conv2d >= {TARGET_SPEEDUP}x faster than the loop: {'met' if met else 'MISSED'} ({speedup:.0f}x); "
          f"results agree: {'yes' if agree else 'NO'}")
    return 0 if met and agree else 1


if __name__ == "__main__":
    sys.exit(main())
