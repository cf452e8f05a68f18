"""Writing files and folders so that nobody ever sees half of one.

Everything the course writes to disk that others read (a downloaded dataset,
the stand-in, a trained model, an executed notebook) is first written under a
temporary name next to its destination, then renamed into place in one step.
An interruption leaves the old file or nothing, never a broken one; a reader
never sees a half-written file.
"""
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_file", "atomic_folder"]


def _umask():
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_file(path, suffix=".tmp"):
    """Write to a temporary file next to ``path``; it replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path : str or pathlib.Path
        The destination. Its folder is created if needed.
    suffix : str, optional
        The temporary file's suffix, for tools that care (``model.save`` wants ``.keras``).

    Yields
    ------
    pathlib.Path
        The temporary file to write. It exists (empty) and has the permissions
        a new file would get.

    Examples
    --------
    >>> with atomic_file(tmp / "notes.txt") as temporary:   # doctest: +SKIP
    ...     temporary.write_text("all or nothing")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the result is shared like any file
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(path, suffix=".building"):
    """Build a temporary folder next to ``path``; it is renamed to ``path`` when the block ends without error.

    If another process renamed its own complete copy into place first, that
    copy is kept and this one is discarded: concurrent callers all end with one
    complete folder.

    Yields
    ------
    pathlib.Path
        The empty temporary folder to fill.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-", suffix=suffix))
    try:
        os.chmod(building, 0o777 & ~_umask())  # mkdtemp makes it private; a shared data folder must stay readable
        yield building
        try:
            os.rename(building, path)
            building = None
        except OSError:
            if not path.is_dir():
                raise
            # Another process put its complete copy in place first: keep that one.
    finally:
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
