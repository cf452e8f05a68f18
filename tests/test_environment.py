"""The install files agree with each other: requirements.txt is the one list."""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(name):
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def package_name(requirement):
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_top_level_modules():
    """Every top-level module course_helpers imports (absolute imports only), read from its code."""
    import ast

    found = set()
    for path in (ROOT / "course_helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_the_package_declares_what_it_imports_and_nothing_for_tests():
    names = {package_name(r) for r in requirement_lines("requirements.txt")}
    import_to_distribution = {"tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy",
                              "matplotlib": "matplotlib", "PIL": "pillow", "ipywidgets": "ipywidgets",
                              "IPython": "ipython", "matplotlib_inline": "matplotlib-inline"}
    standard = set(sys.stdlib_module_names) | {"course_helpers"}
    third_party = imported_top_level_modules() - standard
    assert third_party <= set(import_to_distribution), f"imported but not mapped here: {third_party}"
    assert {import_to_distribution[m] for m in third_party} <= names, "an import is not declared"
    assert all(">=" in r for r in requirement_lines("requirements.txt")), "every dependency has a tested floor"
    test_only = {package_name(r) for r in requirement_lines("requirements-test.txt")}
    lab = {package_name(r) for r in requirement_lines("requirements-lab.txt")}
    assert {"pytest", "nbval", "hypothesis", "playwright", "tf-keras-vis", "psutil"} <= test_only
    assert {"jupyterlab", "ipykernel"} == lab
    assert not names & test_only and not names & lab and not lab & test_only, "a package is listed twice"


def test_make_lab_installs_the_learner_set_only():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lab_rule = re.search(r"^\$\(LAB_STAMP\):.*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL).group(0)
    assert "requirements-lab.txt" in lab_rule and "requirements-test.txt" not in lab_rule
    assert re.search(r"^lab: \$\(LAB_STAMP\)", makefile, re.MULTILINE)
    test_rule = re.search(r"^\$\(STAMP\):.*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL).group(0)
    assert "requirements-test.txt" in test_rule and "$(LAB_STAMP)" in test_rule


def test_environment_yml_installs_requirements_txt_and_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    conda_packages = [d for d in env["dependencies"] if isinstance(d, str)]
    python = [d for d in conda_packages if d.startswith("python")]
    assert len(python) == 1 and re.fullmatch(r"python=3\.1[0-9]", python[0]), f"pin Python exactly: {python}"
    assert "pip" in conda_packages
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_sections == [["-r requirements.txt", "-r requirements-lab.txt", "-c constraints.txt", "-e ."]]
    # Nothing from requirements.txt is also installed by conda (it would be installed twice, maybe differently).
    doubled = {package_name(p) for p in conda_packages} & {package_name(r) for r in requirement_lines("requirements.txt")}
    assert not doubled, f"installed by both conda and pip: {doubled}"


def test_pyproject_reads_its_dependencies_from_the_requirement_files():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dependencies = { file = ["requirements.txt"] }' in text
    assert 'optional-dependencies.test = { file = ["requirements-test.txt"] }' in text
    assert 'optional-dependencies.lab = { file = ["requirements-lab.txt"] }' in text
    assert 'requires-python = ">=3.10"' in text


def test_constraints_pin_every_requirement_and_only_with_a_python_marker():
    pins = {}
    for line in requirement_lines("constraints.txt"):
        requirement, _, marker = line.partition(";")
        assert marker.strip() == 'python_version >= "3.11"', f"unexpected marker in {line!r}"
        name, _, version = requirement.strip().partition("==")
        assert version, f"constraints.txt should pin exact versions: {line!r}"
        pins[package_name(name)] = version
    for requirement in (requirement_lines("requirements.txt") + requirement_lines("requirements-lab.txt")
                        + requirement_lines("requirements-test.txt")):
        assert package_name(requirement) in pins, f"{requirement} is not pinned in constraints.txt (run make lock)"
    assert int(pins["tensorflow"].split(".")[1]) >= 16 and pins["keras"].startswith("3.")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE) and re.search(r"^make test-robust$", ci, re.MULTILINE)
    assert "apt-get install" in ci and "chromium" in ci, "CI installs what the browser test needs"
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ["lab", "test", "test-browser", "test-robust", "test-oldest", "test-colab-like", "execute", "bench",
                   "html", "clean", "links", "lock"]:
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"make {target} is missing"


def test_gitignore_keeps_environments_and_downloads_out():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for entry in [".venv/", "__pycache__/", "build/", "data/models/", ".hypothesis/", ".ipynb_checkpoints/"]:
        assert entry in ignored, f"{entry} is not in .gitignore"
