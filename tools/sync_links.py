"""Write every Colab/Binder link from the one GitHub setting (``make links``).

The course's GitHub home is set once, in pyproject.toml::

    [tool.inside-cnns]
    github = "owner/name"
    branch = "main"

This script rewrites, from that setting:

* each notebook's badge line (Colab and Binder, pointing at that notebook);
* each notebook's Colab setup cell (``COURSE_REPO = ...``, ``COURSE_BRANCH = ...``);
* every Colab, Binder and ``git clone`` address in README.md and the notebooks.

Usage::

    python tools/sync_links.py                 # rewrite from the current setting
    python tools/sync_links.py owner/name      # change the setting, then rewrite
    python tools/sync_links.py --check         # only report what disagrees (exit 1)
"""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO_PATTERN = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
SECTION = re.compile(r"(?ms)^\[tool\.inside-cnns\]\n(?P<body>.*?)(?=^\[|\Z)")

# Addresses that name the repository, in any file: (pattern, replacement template).
_OWNER_NAME = r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+?"
URL_REWRITES = [
    (rf"colab\.research\.google\.com/github/{_OWNER_NAME}/blob/[^/\s)\"']+/", "colab.research.google.com/github/{repo}/blob/{branch}/"),
    (rf"mybinder\.org/v2/gh/{_OWNER_NAME}/[^/?\s)\"']+", "mybinder.org/v2/gh/{repo}/{branch}"),
    (rf"https://github\.com/{_OWNER_NAME}\.git", "https://github.com/{repo}.git"),
]


def colab_url(repo, branch, notebook):
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{notebook}"


def binder_url(repo, branch, notebook):
    return f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/notebooks/{notebook}"


def badge_line(repo, branch, notebook):
    """The markdown for a notebook's two badges."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(repo, branch, notebook)}) "
        f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder_url(repo, branch, notebook)})"
    )


def read_setting(root=ROOT):
    """Return (repo, branch) from pyproject.toml's [tool.inside-cnns] section."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    section = SECTION.search(text)
    if section is None:
        raise SystemExit("pyproject.toml has no [tool.inside-cnns] section with github = \"owner/name\".")
    values = dict(re.findall(r'(?m)^(github|branch)\s*=\s*"([^"]*)"', section.group("body")))
    repo, branch = values.get("github"), values.get("branch", "main")
    if not repo or not REPO_PATTERN.match(repo):
        raise SystemExit(f"[tool.inside-cnns] github must look like owner/name; got {repo!r}.")
    return repo, branch


def write_setting(repo, branch, root=ROOT):
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    section = SECTION.search(text)
    body = re.sub(r'(?m)^github\s*=\s*"[^"]*"', f'github = "{repo}"', section.group("body"))
    body = re.sub(r'(?m)^branch\s*=\s*"[^"]*"', f'branch = "{branch}"', body)
    path.write_text(text[: section.start("body")] + body + text[section.end("body") :], encoding="utf-8")


def _rewrite_urls(text, repo, branch):
    for pattern, template in URL_REWRITES:
        text = re.sub(pattern, template.format(repo=repo, branch=branch), text)
    return text


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _rewrite_notebook(path, repo, branch):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(notebook["cells"]):
        text = _rewrite_urls(_source(cell), repo, branch)
        if cell["cell_type"] == "markdown" and index == 0:
            lines = [line for line in text.split("\n") if "colab-badge.svg" not in line and "badge_logo.svg" not in line]
            # The badges go right under the title (first line).
            lines.insert(1, "\n" + badge_line(repo, branch, path.name))
            text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
        if cell["cell_type"] == "code":
            text = re.sub(r'(?m)^(\s*)COURSE_REPO = "[^"]*"', rf'\g<1>COURSE_REPO = "{repo}"', text)
            text = re.sub(r'(?m)^(\s*)COURSE_BRANCH = "[^"]*"', rf'\g<1>COURSE_BRANCH = "{branch}"', text)
        cell["source"] = text.splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def sync(root=ROOT, repo=None, branch=None):
    """Rewrite every link under ``root``; change the setting first if asked."""
    current_repo, current_branch = read_setting(root)
    repo, branch = repo or current_repo, branch or current_branch
    if not REPO_PATTERN.match(repo):
        raise SystemExit(f"the GitHub home must look like owner/name; got {repo!r}.")
    if (repo, branch) != (current_repo, current_branch):
        write_setting(repo, branch, root)
    readme = root / "README.md"
    readme.write_text(_rewrite_urls(readme.read_text(encoding="utf-8"), repo, branch), encoding="utf-8")
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        _rewrite_notebook(path, repo, branch)
    return repo, branch, notebooks


def check(root=ROOT):
    """Return a list of every link that disagrees with the setting (empty if all agree)."""
    repo, branch = read_setting(root)
    problems = []
    named = re.compile(r"(colab\.research\.google\.com/github/|mybinder\.org/v2/gh/|https://github\.com/)([^\s)\"'\\]+)")

    def check_text(text, where):
        for match in named.finditer(text):
            rest = match.group(2)
            expected = f"{repo}/blob/{branch}/" if "colab" in match.group(1) else f"{repo}/{branch}" if "binder" in match.group(1) else f"{repo}.git"
            if rest.startswith("{"):
                continue  # an f-string in the setup cell, built from COURSE_REPO (checked below)
            if match.group(1).startswith("https://github.com/") and not rest.endswith(".git"):
                continue  # a link to some other GitHub page, not a clone address
            if not rest.startswith(expected):
                problems.append(f"{where}: {match.group(0)} does not use {expected}")

    readme = (root / "README.md").read_text(encoding="utf-8")
    check_text(readme, "README.md")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
        for index, cell in enumerate(cells):
            check_text(_source(cell), f"{path.name} cell {index}")
        header = _source(cells[0]) if cells else ""
        if badge_line(repo, branch, path.name) not in header:
            problems.append(f"{path.name}: the first cell lacks the Colab/Binder badges for this notebook")
        code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
        if f'COURSE_REPO = "{repo}"' not in code or f'COURSE_BRANCH = "{branch}"' not in code:
            problems.append(f"{path.name}: the setup cell does not clone {repo} at {branch}")
        for url in (colab_url(repo, branch, path.name), binder_url(repo, branch, path.name)):
            if url not in readme:
                problems.append(f"README.md: no badge link {url}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rewrite every Colab/Binder link from the GitHub setting.")
    parser.add_argument("repo", nargs="?", help="new GitHub home, owner/name (default: keep the setting)")
    parser.add_argument("--branch", help="new branch (default: keep the setting)")
    parser.add_argument("--check", action="store_true", help="only report disagreements")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.check:
        repo, branch, notebooks = sync(args.root, args.repo, args.branch)
        print(f"links now point at github.com/{repo} ({branch}): README.md and {len(notebooks)} notebook(s)")
    problems = check(args.root)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
