"""The course's budgets, measured: wall time and kernel memory per notebook. (``make bench``)

Each notebook runs top to bottom in a fresh kernel (as ``make execute`` and
nbval do), on temporary copies so nothing is written back, while a thread
samples the kernel's resident memory (RSS, the kernel and any process it
starts) every 0.2 s with psutil.

Budgets on a 2-core CPU: the whole course in at most 5 minutes, and every
kernel at most 1.5 GiB (Binder gives 2 GiB). The script exits with status 1 if
a budget is exceeded. The notebooks run in order, so notebooks 5 to 7 load the
model notebook 4 saves.
"""
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from jupyter_client import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

ROOT = Path(__file__).resolve().parent.parent
COURSE_BUDGET_S = 5 * 60
KERNEL_BUDGET_GIB = 1.5


def peak_memory_while(kernel, work):
    """Run ``work()`` while sampling the kernel's memory; return (result, peak bytes)."""
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            try:
                process = psutil.Process(kernel.provisioner.process.pid)
                family = [process, *process.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in family))
            except (psutil.Error, AttributeError):
                pass
            done.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = work()
    finally:
        done.set()
        thread.join()
    return result, peak[0]


def run(path, folder):
    notebook = nbformat.read(path, as_version=4)
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(notebook, km=kernel, timeout=600, resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    _, peak = peak_memory_while(kernel, client.execute)
    return time.perf_counter() - start, peak


def main():
    os.environ.setdefault("COURSE_DATA", "standin")
    chosen = sys.argv[1:]  # e.g. "05" "07": only those notebooks (the model must exist already)
    notebooks = [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
                 if not chosen or p.name[:2] in chosen]
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as folder:
        for path in notebooks:
            copy = Path(folder) / path.name
            shutil.copy(path, copy)
            seconds, peak = run(copy, Path(folder))
            total += seconds
            rows.append((path.name, seconds, peak / 2**30))
    print(f"{'notebook':38} {'wall time':>10} {'peak kernel RSS':>16}")
    for name, seconds, gib in rows:
        flag = "  over budget" if gib > KERNEL_BUDGET_GIB else ""
        print(f"{name:38} {seconds:8.1f} s {gib:12.2f} GiB{flag}")
    print(f"{'whole course':38} {total:8.1f} s {max(r[2] for r in rows):12.2f} GiB (largest)")
    within = (total <= COURSE_BUDGET_S or chosen) and all(r[2] <= KERNEL_BUDGET_GIB for r in rows)
    print(f"budgets: course <= {COURSE_BUDGET_S // 60} min and each kernel <= {KERNEL_BUDGET_GIB} GiB: "
          f"{'met' if within else 'EXCEEDED'} ({os.cpu_count()} CPUs; data: {os.environ['COURSE_DATA']})")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
