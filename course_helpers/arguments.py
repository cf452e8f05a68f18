"""Checking a learner's arguments, in the same words everywhere.

A helper that receives a wrong argument says what was wrong and what it
expected, with a ``TypeError`` for the wrong kind of value and a
``ValueError`` for a value out of range.
"""
import numbers

import numpy as np

__all__ = ["check_int"]


def check_int(value, name, minimum=None, maximum=None):
    """``value`` as an int, if it is a whole number (Python or NumPy) within the bounds.

    Parameters
    ----------
    value : object
        What the learner passed. ``True`` and ``False`` are not numbers here.
    name : str
        The argument's name, for the message.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an int (a float such as 3.0 included: say 3).
    ValueError
        If it is out of bounds.

    Examples
    --------
    >>> check_int(np.int64(3), "steps", 1)
    3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__}).")
    value = int(value)
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be an int from {minimum} to {maximum}; got {value}.")
    if minimum is not None and value < minimum:
        if name.startswith("stride"):
            raise ValueError(f"{name} must be at least 1 (a window moves by at least one pixel); got {value}.")
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}; got {value}.")
    return value
