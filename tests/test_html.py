"""make html: the stored notebooks as pages, with an index."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import export_html  # noqa: E402


def test_export_writes_pages_and_an_index(tmp_path):
    notebook = ROOT / "notebooks" / "01_convolution_basics.ipynb"
    entries = export_html.export([notebook], tmp_path)
    assert entries == [("01_convolution_basics.html", "1. Convolution basics")]
    page = (tmp_path / "01_convolution_basics.html").read_text(encoding="utf-8")
    assert "Sliding the window, by hand" in page and "data:image/png;base64" in page
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<a href="01_convolution_basics.html">1. Convolution basics</a>' in index


def test_a_failed_export_leaves_the_previous_pages_as_they_were(tmp_path):
    target = tmp_path / "html"
    export_html.export([ROOT / "notebooks" / "01_convolution_basics.ipynb"], target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not a notebook", encoding="utf-8")
    try:
        export_html.export([ROOT / "notebooks" / "02_padding_stride_pooling.ipynb", broken], target)
    except Exception:
        pass
    else:
        raise AssertionError("a broken notebook must make the export fail")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ipynb", "html"], "no half-built folder left"
    assert target.stat().st_mode & 0o777 == 0o755
