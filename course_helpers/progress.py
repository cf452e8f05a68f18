"""A plain text progress bar that looks the same in a terminal and in a notebook.

Only percentages are printed, never timings, so a notebook's stored output is
the same on every machine.
"""
import sys

__all__ = ["ProgressBar"]


class ProgressBar:
    """``bar = ProgressBar(total, "label")``; ``bar.update(done)``; ``bar.close()``.

    Parameters
    ----------
    total : int or float
        The amount that means 100 %.
    label : str
        Printed before the bar.
    suffix : str, optional
        Printed after the percentage, e.g. "of 150.0 MB".
    width : int, optional
        Characters in the bar. Default 30.
    """

    def __init__(self, total, label, suffix="", width=30):
        self.total, self.label, self.suffix, self.width = total, label, suffix, width
        self.shown = -1

    def update(self, done):
        percent = min(100, int(100 * done / self.total)) if self.total else 0
        if percent == self.shown:
            return
        self.shown = percent
        filled = self.width * percent // 100
        tail = f" {self.suffix}" if self.suffix else ""
        sys.stdout.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}%{tail}")
        sys.stdout.flush()

    def close(self):
        sys.stdout.write("\n")
        sys.stdout.flush()
