"""Re-execute notebooks from a fresh kernel and store their outputs (``make execute``).

Each notebook runs top to bottom in a new kernel of this Python environment,
with its own folder as the working directory, exactly as nbval will re-run it.
A notebook is written back only if every cell succeeded, and then atomically
(temporary file, then rename), so a failure never leaves a half-executed file.
The stored outputs use the offline stand-in data unless COURSE_DATA says otherwise.
After notebooks 04-07 (whose numbers come from training) it stores this machine's
float fingerprint (tools/float_fingerprint.py), which `make test` compares.

Usage:  python tools/execute_notebooks.py notebooks/01_*.ipynb [...]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_helpers.files import atomic_file  # noqa: E402 (after the path is set)
import float_fingerprint  # noqa: E402 (tools/, this script's folder)

os.environ.setdefault("COURSE_DATA", "standin")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute(path, timeout):
    """Run one notebook in a fresh kernel; return the executed notebook."""
    notebook = nbformat.read(path, as_version=4)
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(
        notebook,
        km=kernel,
        timeout=timeout,
        record_timing=False,  # per-cell timestamps would change every run
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in notebook.cells:
        # Cell ids are kept; editor state that is not content goes.
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    return notebook


def write_atomically(notebook, path):
    with atomic_file(path, suffix=".tmp") as temporary:
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            nbformat.write(notebook, handle)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)

    failed = []
    for path in args.notebooks:
        start = time.perf_counter()
        try:
            notebook = execute(path, args.timeout)
        except CellExecutionError as error:
            failed.append(path)
            print(f"FAILED {path}: left unchanged\n{error}", file=sys.stderr)
            continue
        write_atomically(notebook, path)
        print(f"executed {path} in {time.perf_counter() - start:.1f} s")
    if any(path.name[:2] in ("04", "05", "06", "07") and path not in failed for path in args.notebooks):
        float_fingerprint.main(["--write"])
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
