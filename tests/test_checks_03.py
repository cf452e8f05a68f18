"""Notebook 3's exercise 5, run as its folded solution runs it: on the real seed-1 draws, 3x3 and 10x10."""
import keras
import numpy as np
import pytest

from course_helpers import checks, images


@pytest.mark.parametrize("kernel_size", [3, 10])
def test_sum_experiment_accepts_the_real_draw(capsys, kernel_size):
    cat = images.cat_image()
    gray = images.luminance(cat)
    layer = keras.layers.Conv2D(30, kernel_size, kernel_initializer=keras.initializers.GlorotUniform(seed=1))
    maps = keras.Sequential([keras.Input(shape=cat.shape), layer]).predict(cat[np.newaxis], verbose=0)[0]
    start = (kernel_size - 1) // 2
    aligned = gray[start:start + maps.shape[0], start:start + maps.shape[1]].ravel()
    sums = layer.get_weights()[0].sum(axis=(0, 1, 2))
    correlations = [np.corrcoef(maps[:, :, f].ravel(), aligned)[0, 1] for f in range(30)]
    checks.check_sum_experiment(sums, correlations)
    printed = capsys.readouterr().out
    assert printed.startswith(checks.PASS), printed
    checks.check_sum_experiment(sums, np.random.default_rng(0).permutation(correlations))
    assert capsys.readouterr().out.startswith(checks.FAIL + " Hint:")



def _relu_pool_by_reshape(maps, mixed=False):
    """Exercise 3's folded solution; ``mixed`` reshapes to (H//5, W//5, 5, 5, C), a slip that mixes the blocks."""
    h, w, c = maps.shape[0] // 5, maps.shape[1] // 5, maps.shape[2]
    cropped = np.maximum(maps, 0)[:h * 5, :w * 5]
    if mixed:
        return cropped.reshape(h, w, 5, 5, c).max(axis=(2, 3))
    return cropped.reshape(h, 5, w, 5, c).max(axis=(1, 3))


def test_relu_then_pool_accepts_the_reshape_and_rejects_mixed_blocks(capsys):
    checks.check_relu_then_pool(_relu_pool_by_reshape)
    printed = capsys.readouterr().out
    assert printed.startswith(checks.PASS), printed
    checks.check_relu_then_pool(lambda maps: _relu_pool_by_reshape(maps, mixed=True))
    printed = capsys.readouterr().out
    assert printed.startswith(checks.FAIL + " Hint:") and "5 neighbouring rows and 5 neighbouring columns" in printed, printed
    assert "Reshape" not in printed, "the hint asks a question, it does not print the recipe"
