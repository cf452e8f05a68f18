"""The README's table of notebooks agrees with the notebooks themselves."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIME = re.compile(r"\*\*Time:\*\* about (.+?)(?:,|\.|;|:| for | with )")


def readme_row(notebook):
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and f"(notebooks/{notebook.name})" in line]
    assert len(rows) >= 1, f"the README's table has no row for {notebook.name}"
    return rows[0]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_states_each_notebooks_time(notebook):
    header = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
    found = TIME.search(header)
    assert found, f"{notebook.name}: the header's time should read '**Time:** about ...'"
    time_column = readme_row(notebook).split("|")[3].strip()
    assert found.group(1) in time_column, (
        f"{notebook.name}: the header says about {found.group(1)!r}, the README's table says {time_column!r}")
