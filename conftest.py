"""pytest hooks for the notebook tests (nbval).

TensorFlow's C++ runtime writes log lines straight to the process's stderr.
Under Jupyter they land in a notebook's stored outputs; under pytest they may
or may not, and they carry timestamps. So nbval compares every output except
the stderr stream. Anything a notebook claims is checked by an ``assert`` in
the notebook or by the compared stdout/results, never by stderr.

The stored outputs come from the offline stand-in data (the setup line names
the data mode), so the notebooks are tested with it too unless COURSE_DATA is
set explicitly.
"""
import os

os.environ.setdefault("COURSE_DATA", "standin")


def pytest_collection_modifyitems(session, config, items):
    notebooks = {item.parent for item in items if item.parent is not None and hasattr(item.parent, "skip_compare")}
    for notebook in notebooks:
        if "stderr" not in notebook.skip_compare:
            notebook.skip_compare = tuple(notebook.skip_compare) + ("stderr",)
