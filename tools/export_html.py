"""Export the executed notebooks to build/html/, with an index page (``make html``).

The notebooks are exported as they are stored (with their outputs, after
``make execute``); nothing is re-run. Figures are embedded in the pages, so
they read offline; the formulas (MathJax) and the widgets' saved state are
drawn by scripts loaded from public CDNs, which need a network.
"""
import argparse
import html
import json
import shutil
import sys
import tempfile
from pathlib import Path

from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent


def title_of(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            first = "".join(cell["source"]).splitlines()[0]
            return first.lstrip("# ").strip()
    return path.stem


def export(notebooks, target):
    """Write the pages and index.html into a new folder next to ``target``, then swap it in whole,
    so a failed export leaves the previous pages as they were."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    building.chmod(0o755)  # mkdtemp makes it private; the pages are for sharing
    try:
        entries = _write_pages(notebooks, building)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            target.rename(old / target.name)
            try:
                building.rename(target)
            except OSError:
                (old / target.name).rename(target)  # put the previous pages back
                raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return entries


def _write_pages(notebooks, target):
    exporter = HTMLExporter(template_name="lab")
    entries = []
    for path in notebooks:
        body, _ = exporter.from_filename(str(path))
        page = target / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        entries.append((page.name, title_of(path)))
    items = "\n".join(f'    <li><a href="{html.escape(name)}">{html.escape(title)}</a></li>' for name, title in entries)
    (target / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Inside CNNs</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 3em auto; line-height: 1.5; }}</style></head>
<body>
  <h1>Inside CNNs</h1>
  <p>A hands-on course on what convolutional networks compute. These pages show the notebooks with their
  stored outputs; to run them, open the course in JupyterLab, Colab or Binder.</p>
  <ol>
{items}
  </ol>
</body>
</html>
""", encoding="utf-8")
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    entries = export(notebooks, args.out)
    print(f"wrote {len(entries)} notebook page(s) and index.html to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
