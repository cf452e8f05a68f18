"""What every notebook must have, checked without running it (nbval runs it).

Structure (header, setup cell, exercises with checkers and solutions, summary),
clean stored outputs (a restart-and-run-all, no errors, no machine paths,
small figures), and no APIs that Keras 3, Matplotlib or Pillow removed.
Each exercise's folded solution is run through its checker.
"""
import contextlib
import io
import json
import re
from base64 import b64decode
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_helpers import checks, conv

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024
MACHINE_PATH = re.compile(r"(/root/|/home/\w+|/Users/\w+|/tmp/|/private/var/|[A-Za-z]:\\\\Users)")
REMOVED_APIS = {
    r"\bImageDataGenerator\b": "Keras 3 removed it: use keras.utils.image_dataset_from_directory",
    r"\bfit_generator\b": "removed: use model.fit",
    r"\bK\.function\b|\blearning_phase\b": "removed in Keras 3: build a keras.Model",
    r"\binput_shape\s*=": "Keras 3: start models with keras.Input(shape=...)",
    r"\b(RMSprop|Adam|SGD)\(\s*lr\s*=": "Keras 3: learning_rate=",
    r"\bcm\.get_cmap\b|\bget_cmap\(": "removed in Matplotlib 3.9: matplotlib.colormaps[name]",
    r"\bImage\.(ANTIALIAS|BILINEAR|BICUBIC|LANCZOS|NEAREST)\b": "Pillow 10: Image.Resampling.*",
}


def load(path):
    return nbformat.read(path, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook_path(request):
    return request.param


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS][:2] == ["01", "02"]


def test_valid_and_small(notebook_path):
    nbformat.validate(load(notebook_path))
    assert notebook_path.stat().st_size <= MAX_BYTES


def test_cell_ids_are_unique(notebook_path):
    """nbformat would silently rename a duplicate id on reading, and nbval would warn."""
    ids = [cell["id"] for cell in json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_header_states_objectives_time_and_prerequisites(notebook_path):
    header = load(notebook_path).cells[0]
    assert header.cell_type == "markdown" and header.source.startswith("# ")
    for words in ["You will learn", "**Time:**", "**Prerequisites:**", "colab-badge.svg", "badge_logo.svg"]:
        assert words in header.source, f"the header lacks {words!r}"


def test_first_code_cell_is_the_setup_cell(notebook_path):
    setup = code_cells(load(notebook_path))[0].source
    assert re.search(r"^course_helpers\.setup\(", setup, re.MULTILINE)
    assert 'if "google.colab" in sys.modules' in setup and "git" in setup and "clone" in setup
    assert "pip install" not in setup, "the Colab setup must not reinstall TensorFlow or ipywidgets"


def test_stored_outputs_come_from_a_clean_run(notebook_path):
    cells = [c for c in code_cells(load(notebook_path)) if c.source.strip()]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "restart and run all (make execute)"
    for index, cell in enumerate(cells):
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {index} stored an error"
            text = json.dumps(output.get("text", "")) + json.dumps(
                {k: v for k, v in output.get("data", {}).items() if k.startswith("text/")})
            assert not MACHINE_PATH.search(text), f"cell {index} shows a machine path"
            assert "Traceback" not in text, f"cell {index} shows a traceback"


def test_figures_are_at_most_100_dpi(notebook_path):
    figures = 0
    for cell in code_cells(load(notebook_path)):
        for output in cell.outputs:
            for mime in ("image/png", "image/jpeg"):
                if mime in output.get("data", {}):
                    figures += 1
                    with Image.open(io.BytesIO(b64decode(output["data"][mime]))) as picture:
                        dpi = picture.info.get("dpi")
                    assert dpi is not None and max(dpi) <= 100.5, f"a figure is stored at {dpi} dpi"
    assert figures >= 5, "a notebook in this course shows its ideas in pictures"


def test_ignored_outputs_are_rare_and_asserted(notebook_path):
    for cell in code_cells(load(notebook_path)):
        if "NBVAL_IGNORE_OUTPUT" in cell.source:
            assert "assert" in cell.source, "a cell whose output nbval ignores must assert what matters"


def test_no_removed_apis(notebook_path):
    source = "\n".join(c.source for c in code_cells(load(notebook_path)))
    for pattern, advice in REMOVED_APIS.items():
        assert not re.search(pattern, source), advice


def test_no_removed_apis_in_the_package():
    for path in sorted((ROOT / "course_helpers").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern, advice in REMOVED_APIS.items():
            assert not re.search(pattern, text), f"{path.name}: {advice}"


def exercises(notebook):
    """(checker line, solution code) for every exercise: the code cell calling a checker,
    and the python block in the <details> that follows it."""
    found = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        calls = re.findall(r"^checks\.(check_\w+)\((\w+)\)$", cell.source, re.MULTILINE)
        if not calls:
            continue
        following = next((c for c in cells[index + 1:] if c.cell_type == "markdown"), None)
        assert following is not None and "<details><summary>Solution</summary>" in following.source
        details = following.source.split("<details>", 1)[1].split("</details>", 1)[0]
        blocks = re.findall(r"```python\n(.*?)```", details, re.DOTALL)
        assert blocks, f"the solution for {calls[0][0]} has no python block"
        found.append((calls[0], blocks[0]))
    return found


def test_at_least_three_exercises_with_checkers_and_folded_solutions(notebook_path):
    notebook = load(notebook_path)
    found = exercises(notebook)
    assert len(found) >= 3
    for (checker, _), _ in found:
        assert checker in checks.__all__, f"{checker} is not a checker in course_helpers.checks"
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## Check your understanding" in markdown and "## Summary" in markdown and "## Where next" in markdown


def test_every_checker_cell_follows_its_exercise_statement(notebook_path):
    """A checker cell with no exercise statement (a "### Exercise" heading or a "**(b) ...**" part)
    since the last folded solution asks a question the learner never sees (an edit that drops a
    statement would otherwise pass every other test)."""
    stated = False
    for index, cell in enumerate(load(notebook_path).cells):
        if cell.cell_type == "markdown":
            # an exercise's heading, or a lettered part of one: "**(b) The weighted map.**"
            statements = [m.start() for m in re.finditer(r"### Exercise|\*\*\([a-z]\) ", cell.source)]
            last_heading = statements[-1] if statements else -1
            last_solution = cell.source.rfind("<summary>Solution")
            if last_solution > last_heading:
                stated = False
            elif last_heading >= 0:
                stated = True
        elif re.search(r"^checks\.check_\w+\(", cell.source, re.MULTILINE):
            assert stated, f"{notebook_path.name}, cell {index}: a checker with no exercise statement above it"


def test_every_folded_solution_passes_its_checker(notebook_path):
    for (checker, variable), solution in exercises(load(notebook_path)):
        import keras

        from course_helpers import cam, models

        namespace = {"np": np, "checks": checks, "conv": conv, "keras": keras, "cam": cam}
        if "model" in solution:  # the architecture is all these solutions need: an untrained copy will do
            namespace["model"] = models.build_classifier(150)
        exec(solution, namespace)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            getattr(checks, checker)(namespace[variable])
        assert printed.getvalue().startswith(checks.PASS), f"{notebook_path.name} {checker}: {printed.getvalue()}"


def test_unanswered_exercises_are_stored_with_a_nudge_not_a_pass(notebook_path):
    for cell in code_cells(load(notebook_path)):
        if re.search(r"^checks\.check_\w+\(", cell.source, re.MULTILINE):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert text.startswith(checks.FAIL), "an exercise must be stored unanswered"
