"""tools/make_reallike.py: a mask-free dataset where the real archives are cached, taken for the real data."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_helpers import data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reallike():
    spec = importlib.util.spec_from_file_location("make_reallike", ROOT / "tools" / "make_reallike.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("style", ["photo", "faded"])
def test_the_course_takes_it_for_the_real_data_offline(reallike, tmp_path, monkeypatch, capsys, style):
    monkeypatch.setitem(reallike.COUNTS, "train", {"horses": 3, "humans": 4})
    monkeypatch.setitem(reallike.COUNTS, "validation", {"horses": 2, "humans": 2})
    assert reallike.main(["--data-dir", str(tmp_path), "--style", style, "--seed", "3"]) == 0
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA", "real")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    train = data.horse_or_human("train")
    assert train == tmp_path / "horse-or-human" and data.source_of(train) == "real"
    assert "real renders, 7 images" in capsys.readouterr().out
    files = sorted(train.rglob("*.png"))
    assert [f.parent.name for f in files].count("humans") == 4
    assert all(data.mask_for(f) is None for f in files), "no masks, like the real photos"
    with Image.open(files[0]) as picture:
        assert picture.size == (300, 300) and picture.mode == "RGB"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folders left"


def test_same_seed_same_pictures_and_the_validation_split_is_shifted(reallike):
    first = reallike.render("humans", 0, "train", "photo", seed=1)
    assert np.array_equal(first, reallike.render("humans", 0, "train", "photo", seed=1))
    assert not np.array_equal(first, reallike.render("humans", 0, "train", "photo", seed=2))

    def warmth(split):  # red minus blue, averaged over a dozen pictures
        pictures = [reallike.render(kind, i, split, "photo", seed=0).astype(float)
                    for kind in data.CLASS_NAMES for i in range(6)]
        return np.mean([p[:, :, 0].mean() - p[:, :, 2].mean() for p in pictures])

    assert warmth("validation") > warmth("train") + 5, "the validation split has another colour cast"


def test_an_existing_split_is_kept(reallike, tmp_path, monkeypatch):
    monkeypatch.setitem(reallike.COUNTS, "validation", {"horses": 1, "humans": 1})
    dest = tmp_path / "validation-horse-or-human"
    dest.mkdir()
    assert reallike.write_split(dest, "validation") == dest and not any(dest.iterdir())
