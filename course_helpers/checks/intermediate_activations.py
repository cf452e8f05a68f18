"""Checkers for Notebook 05 (intermediate activations)."""
import numpy as np

from .. import conv
from .answers import as_shape, call, function_checker, multiple_choice, verdict

__all__ = ["check_conv3_shape", "check_zero_fraction", "check_dead_channels", "check_zeros_cause"]


def check_conv3_shape(answer):
    """Exercise: the shape of conv3's output for one 200x200 image, (height, width, channels).

    200 px, not the 150 px the notebook's grids print, so the answer is worked out, not read off.
    """
    shape = as_shape(answer)
    if shape is None:
        return
    side = 200
    for _ in range(2):
        side = conv.output_size(conv.output_size(side, 3), 2, 2)
    side = conv.output_size(side, 3)
    if shape == (side, side, 64):
        verdict(True, f"200 -> 198 -> 99 -> 97 -> 48 -> {side}, with one channel per filter of conv3.")
    elif len(shape) != 3:
        verdict(False, "one image's feature maps have 3 numbers: height, width and channels (no batch axis).")
    elif shape[2] != 64:
        verdict(False, "the number of channels is the number of filters in conv3: the conv3 row of section 3's grids "
                       "gives its shape, channels last.")
    elif shape[:2] == (34, 34):
        verdict(False, "that is conv3's output for a 150x150 image, as the grids print it. Follow a 200 px side.")
    elif shape[:2] == (side // 2, side // 2):
        verdict(False, "that is after pool3. conv3's output comes just before that pooling.")
    else:
        verdict(False, "follow the side length: each 3x3 conv takes 2 pixels off, each 2x2 pool halves it "
                        "(rounding down).")


@function_checker
def check_zero_fraction(zero_fraction):
    """Exercise: ``zero_fraction(maps)``: the fraction of entries of an array that are exactly 0."""
    rng = np.random.default_rng(5)
    cases = [np.maximum(rng.normal(size=(2, 6, 6, 3)), 0), np.zeros((3, 4)), np.array([1.0, -2.0, 0.0, 0.0])]
    for maps in cases:
        expected = float(np.mean(maps == 0))
        result, error = call(zero_fraction, maps.copy())
        if error:
            verdict(False, f"on an array of shape {maps.shape}, {error}.")
            return
        try:
            value = float(result)
        except (TypeError, ValueError):
            verdict(False, f"return one number (a fraction), not {type(result).__name__}.")
            return
        if abs(value - expected) < 1e-9:
            continue
        if abs(value - (maps == 0).sum()) < 1e-9:
            verdict(False, "that is the number of zeros; divide by the number of entries (maps.size).")
        elif abs(value - float(np.mean(maps <= 0))) < 1e-9:
            verdict(False, "count only entries that are exactly 0: a negative number is not a zero.")
        elif abs(value - (1 - expected)) < 1e-9:
            verdict(False, "that is the fraction of non-zero entries.")
        else:
            verdict(False, "a fraction is a count over a total: how many entries are exactly 0, out of how many "
                            "entries in all? Try your function on np.array([0., 1., 0., 2.]), which should give 0.5.")
        return
    verdict(True, "np.mean(maps == 0) does it in one line: True counts as 1.")


@function_checker
def check_dead_channels(dead_channels):
    """Exercise: ``dead_channels(maps)``: the channels of (N, H, W, C) maps that are 0 for every image and position."""
    rng = np.random.default_rng(6)
    maps = np.maximum(rng.normal(size=(4, 5, 5, 6)), 0)
    maps[..., [1, 4]] = 0
    maps[0, :, :, 3] = 0  # silent on one image only: not dead
    result, error = call(dead_channels, maps.copy())
    if error:
        verdict(False, f"on maps of shape {maps.shape}, {error}.")
        return
    try:
        found = sorted(int(c) for c in np.asarray(result).reshape(-1))
    except (TypeError, ValueError):
        verdict(False, f"return the channel numbers (a list or array of ints), not {type(result).__name__}.")
        return
    if found == [1, 4]:
        verdict(True, "np.flatnonzero(np.all(maps == 0, axis=(0, 1, 2))) finds them.")
    elif found == [1, 3, 4]:
        verdict(False, "channel 3 is silent on one image only. Dead means 0 for every image, at every position.")
    elif len(found) == maps.shape[-1] or found == list(range(0, 6)):
        verdict(False, "return only the dead channels' numbers, not one entry per channel.")
    else:
        verdict(False, "a channel is dead when all of maps[..., c] is 0; check every channel c.")


def check_zeros_cause(answer):
    """Exercise: why are the conv layers' outputs full of exact zeros?"""
    multiple_choice(
        answer, {"a", "b", "c", "d"}, "b",
        "ReLU outputs max(0, x): every negative response becomes exactly 0.",
        {"a": "these conv layers use 'valid' padding: no zeros are added at all.",
         "c": "max pooling only picks values; it cannot create a zero that was not there. Where do the "
              "zeros come from in the first place?",
         "d": "rounding would give tiny numbers, not exact zeros in nearly half of the outputs "
              "(section 4 printed the share for each layer)."})
