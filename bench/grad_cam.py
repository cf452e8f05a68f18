"""Grad-CAM speed and agreement: course_helpers.cam.grad_cam against tf-keras-vis. (``make bench``)

Both explain the notebook 4 classifier's "human" logit at conv5, for one image
and for a batch of 32 validation images. tf-keras-vis cannot take the
Sequential model with its sigmoid head (its linearizing modifier needs Keras 2
attributes), so it gets a functional copy that outputs the logit, with the same
weights. Times are the best of a few calls; the maps are compared at conv5's
own 5x5 resolution. Target: ours takes at most 1.0x tf-keras-vis's time.
"""
import os
import sys
import time

import numpy as np

import course_helpers
from course_helpers import cam, data, models

LAYER = "conv5"
TARGET_RATIO = 1.0


def logit_copy(model):
    """A functional model with the same layers, whose output is the pre-sigmoid logit."""
    import keras

    inputs = keras.Input(shape=model.input_shape[1:])
    x = inputs
    for layer in model.layers:
        config = layer.get_config()
        if layer is model.layers[-1]:
            config = {**config, "activation": None, "name": "logit"}
        fresh = type(layer).from_config(config)  # new layers, so their outputs belong to this graph
        x = fresh(x)
        fresh.set_weights(layer.get_weights())
    return keras.Model(inputs, x)


def best_ms(function, repeats=5):
    function()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return 1000 * best, result


def main():
    os.environ.setdefault("COURSE_DATA", "standin")
    course_helpers.setup()
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.utils.scores import CategoricalScore

    model = models.load_or_train_classifier()
    batch = next(iter(data.load_dataset("validation", batch_size=32, shuffle=True, seed=1)))[0].numpy()
    reference = Gradcam(logit_copy(model), clone=False)

    print(f"{'images':>7} {'course_helpers':>15} {'tf-keras-vis':>13} {'ratio':>6} {'agreement (min corr)':>21}")
    ratios = []
    for count in (1, 32):
        images = batch[:count]
        ours_ms, ours = best_ms(lambda: cam.grad_cam(model, images, LAYER, class_index=1, upsample=False))
        theirs_ms, theirs = best_ms(lambda: np.asarray(reference(CategoricalScore([0] * count), images,
                                                                 penultimate_layer=LAYER, expand_cam=False)))
        theirs = theirs.reshape(ours.shape)
        informative = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(ours, theirs) if b.std() > 0]
        agreement = min(informative) if informative else float("nan")
        ratio = ours_ms / theirs_ms
        ratios.append(ratio)
        print(f"{count:>7} {ours_ms / count:12.1f} ms {theirs_ms / count:10.1f} ms {ratio:6.2f} {agreement:21.4f}"
              f"   (per image)")
    met = max(ratios) <= TARGET_RATIO
    print(f"target: at most {TARGET_RATIO:.1f}x tf-keras-vis's time: {'met' if met else 'MISSED'} "
          f"(worst ratio {max(ratios):.2f})")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
