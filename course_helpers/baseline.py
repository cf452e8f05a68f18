"""A deliberately blind baseline: what can be predicted without seeing shape?

The stand-in is meant to be solvable by shape only. These two functions test
that claim: they describe each image by its colour histograms and the figure's
area, and fit a logistic regression on those numbers. If it scores near 50 %,
colour and size carry no information about the class.
"""
import numpy as np
from PIL import Image

from . import data

__all__ = ["colour_area_features", "logistic_regression_accuracy"]


def colour_area_features(paths, bins=8):
    """Colour histograms, plus the figure's area when a mask exists.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        Image files.
    bins : int, optional
        Histogram bins per colour channel. Default 8.

    Returns
    -------
    numpy.ndarray, shape (N, 3 * bins) or (N, 3 * bins + 1)
        Per image, the fraction of pixels in each bin of R, G and B, and (for
        stand-in images, which have masks) the fraction covered by the figure.
    """
    rows = []
    for path in paths:
        with Image.open(path) as opened:
            picture = np.asarray(opened.convert("RGB"))
        histograms = [np.histogram(picture[:, :, c], bins=bins, range=(0, 256))[0] / picture[:, :, c].size
                      for c in range(3)]
        mask = data.mask_for(path)
        rows.append(np.concatenate(histograms + ([[mask.mean()]] if mask is not None else [])))
    if len({len(row) for row in rows}) > 1:
        raise ValueError("some images have masks and others do not: mix no real and stand-in images.")
    return np.array(rows)


def logistic_regression_accuracy(train_x, train_y, test_x, test_y, steps=3000, learning_rate=0.5, l2=1e-3):
    """Fit a logistic regression by gradient descent; return (test accuracy, training accuracy).

    Features are standardized with the training set's mean and spread.

    Parameters
    ----------
    train_x, test_x : numpy.ndarray, shape (N, D)
    train_y, test_y : numpy.ndarray of 0/1, shape (N,)

    Returns
    -------
    (float, float)
    """
    train_x, test_x = np.asarray(train_x, float), np.asarray(test_x, float)
    train_y, test_y = np.asarray(train_y, float).reshape(-1), np.asarray(test_y, float).reshape(-1)
    mean, spread = train_x.mean(axis=0), train_x.std(axis=0) + 1e-8
    train_x, test_x = (train_x - mean) / spread, (test_x - mean) / spread
    weights, bias = np.zeros(train_x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(train_x @ weights + bias)))
        weights -= learning_rate * (train_x.T @ (p - train_y) / len(train_y) + l2 * weights)
        bias -= learning_rate * (p - train_y).mean()
    test_accuracy = float((((test_x @ weights + bias) > 0) == test_y).mean())
    train_accuracy = float((((train_x @ weights + bias) > 0) == train_y).mean())
    return test_accuracy, train_accuracy
