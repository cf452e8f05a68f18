"""Every Colab/Binder badge and Colab setup cell agrees with the one GitHub setting,
and `make links` (tools/sync_links.py) really rewrites them all."""
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_links  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_setting_looks_like_owner_slash_name():
    repo, branch = sync_links.read_setting(ROOT)
    assert sync_links.REPO_PATTERN.match(repo) and branch


def test_every_link_agrees_with_the_setting():
    assert NOTEBOOKS, "no notebooks found"
    assert sync_links.check(ROOT) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_header_has_badges_for_itself(path):
    repo, branch = sync_links.read_setting(ROOT)
    header = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    assert sync_links.colab_url(repo, branch, path.name) in header
    assert sync_links.binder_url(repo, branch, path.name) in header


def test_changing_the_setting_rewrites_everything(tmp_path):
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    old_repo, _ = sync_links.read_setting(ROOT)

    assert sync_links.main(["someone/their-fork", "--branch", "workshop", "--root", str(tmp_path)]) == 0

    assert sync_links.read_setting(tmp_path) == ("someone/their-fork", "workshop")
    assert sync_links.check(tmp_path) == []
    for path in [tmp_path / "README.md", *sorted((tmp_path / "notebooks").glob("*.ipynb"))]:
        text = path.read_text(encoding="utf-8")
        assert f"/{old_repo}/" not in text and f'"{old_repo}"' not in text, f"{path.name} still names {old_repo}"
    # The notebooks stay valid JSON notebooks with their outputs.
    for path in sorted((tmp_path / "notebooks").glob("*.ipynb")):
        original = json.loads((ROOT / "notebooks" / path.name).read_text(encoding="utf-8"))
        rewritten = json.loads(path.read_text(encoding="utf-8"))
        assert [c.get("outputs") for c in rewritten["cells"]] == [c.get("outputs") for c in original["cells"]]


def test_check_reports_a_stale_badge(tmp_path):
    for name in ["pyproject.toml", "README.md"]:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("mybinder.org/v2/gh/", "mybinder.org/v2/gh/x", 1),
                      encoding="utf-8")
    problems = sync_links.check(tmp_path)
    assert problems and "README.md" in problems[0]
