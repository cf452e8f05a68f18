"""What every exercise checker shares: the verdict line, and reading a learner's answer.

A checker prints one line, a clear pass or a hint that points at the mistake
without giving the answer away, and never raises on a malformed answer: it
says what shape or type was expected.
"""
import numbers

import numpy as np

__all__ = ["PASS", "FAIL", "verdict", "multiple_choice", "as_shape", "contains_none", "as_number_array", "as_int",
           "NotWritten", "call", "function_checker"]

PASS = "✅ Correct."
FAIL = "❌ Not yet."


def verdict(passed, message):
    """Print the one-line verdict. Returns None so a notebook shows only the line."""
    print(f"{PASS} {message}" if passed else f"{FAIL} Hint: {message}")


def multiple_choice(answer, choices, right, praise, hints):
    """A one-letter answer: praise for ``right``, else the hint written for the letter chosen."""
    if answer is None:
        letters = [repr(letter) for letter in sorted(choices)]
        verdict(False, f"replace None with one letter: {', '.join(letters[:-1])} or {letters[-1]}.")
        return
    if not isinstance(answer, str) or answer.strip().lower() not in choices:
        verdict(False, f"answer with one letter from {sorted(choices)}; got {answer!r}.")
        return
    letter = answer.strip().lower()
    verdict(letter == right, praise if letter == right else hints[letter])


def as_shape(answer):
    """A (height, width, channels) answer as ints; None, after the hint, when it is not one yet.

    Parameters
    ----------
    answer : sequence of numbers
        The learner's shape. Whole numbers written as floats, like 98.0, are
        accepted, as everywhere else in the checkers.

    Returns
    -------
    tuple of int or None
        None when the answer still holds None, is not a sequence of numbers, or
        holds a size that is not a whole number; the hint has then been printed.
    """
    if contains_none(answer):
        verdict(False, "replace each None with a number: (height, width, channels).")
        return None
    try:
        # A string is a sequence too, but of characters, never of sizes.
        values = None if isinstance(answer, (str, bytes)) else tuple(answer)
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                                 for v in values):
        verdict(False, f"answer with a tuple (height, width, channels); got {answer!r}.")
        return None
    # int() would truncate 148.33 to 148 and pass a guess that was never a size.
    if not all(np.isfinite(float(v)) and float(v).is_integer() for v in values):
        verdict(False, f"sizes are whole numbers: a layer keeps only the windows that fit, so round each "
                        f"division down (floor); got {answer!r}.")
        return None
    return tuple(int(v) for v in values)


def contains_none(answer):
    if answer is None:
        return True
    if isinstance(answer, (list, tuple)):
        return any(contains_none(item) for item in answer)
    return False


def as_number_array(answer, what):
    """The answer as a float array, or None after printing what was expected."""
    if contains_none(answer):
        verdict(False, "replace every None with your number, then run the cell again.")
        return None
    try:
        array = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        verdict(False, f"{what} should be numbers (a NumPy array or nested lists); got {type(answer).__name__}.")
        return None
    if not np.all(np.isfinite(array)):
        verdict(False, f"{what} contains NaN or infinity; every entry should be a plain number.")
        return None
    return array


def as_int(answer, what):
    if answer is None:
        verdict(False, "replace None with your answer, then run the cell again.")
        return None
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real):
        verdict(False, f"{what} should be a single whole number; got {answer!r}.")
        return None
    if not np.isfinite(float(answer)) or float(answer) != int(answer):
        verdict(False, f"{what} is a count, so a whole number; got {answer!r}.")
        return None
    return int(answer)


class NotWritten(Exception):  # noqa: N818 (a signal, not an error)
    """The learner's function still raises NotImplementedError."""


def call(function, *args):
    """Run a learner's function; return (result, None) or (None, message about the error)."""
    try:
        return function(*args), None
    except NotImplementedError:
        raise NotWritten from None
    except Exception as error:  # a learner's code may fail in any way; report it
        return None, f"your function raised {type(error).__name__}: {error}"


def function_checker(check):
    """Turn a not-yet-written function into a nudge instead of an error."""

    def checker(function):
        if not callable(function):
            verdict(False, f"pass the function itself, {check.__name__}({check.__name__[6:]}), "
                            f"not {type(function).__name__}.")
            return
        try:
            check(function)
        except NotWritten:
            verdict(False, "write the body of your function first: it still raises NotImplementedError.")

    checker.__name__, checker.__qualname__, checker.__doc__ = check.__name__, check.__qualname__, check.__doc__
    return checker
