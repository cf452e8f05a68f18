"""COURSE_SEED: one knob that moves every seed the course uses; and COURSE_OFFLINE."""
import subprocess
import sys

import numpy as np
import pytest

import course_helpers
from course_helpers import cam, data, filters, models


def test_unset_the_course_seed_is_the_stored_runs(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert course_helpers.course_seed() == course_helpers.DEFAULT_SEED == 42
    assert [course_helpers.seed_for(base) for base in (0, 1, 5)] == [0, 1, 5]
    assert [data.standin_seed(split) for split in ("train", "validation")] == [0, 1]


@pytest.mark.parametrize("value", ["0", "7", " 1234 ", "99999999999"])
def test_another_course_seed_moves_every_derived_seed(monkeypatch, value):
    monkeypatch.setenv("COURSE_SEED", value)
    seed = int(value)
    assert course_helpers.course_seed() == seed
    assert course_helpers.seed_for(0) != 0 and 0 <= course_helpers.seed_for(0) < 2**32
    train, validation = data.standin_seed("train"), data.standin_seed("validation")
    assert train != validation and {train, validation}.isdisjoint({0, 1})
    assert data.standin_folder("train").parent.name == f"standin-seed{seed}"


def test_stand_in_seeds_never_repeat_across_course_seeds(monkeypatch):
    seen = set()
    for seed in range(0, 200):
        monkeypatch.setenv("COURSE_SEED", str(seed))
        pair = {data.standin_seed("train"), data.standin_seed("validation")}
        assert len(pair) == 2 and seen.isdisjoint(pair)
        seen |= pair


@pytest.mark.parametrize("value", ["-1", "seven", "4.5"])
def test_a_bad_course_seed_says_what_to_write(monkeypatch, value):
    monkeypatch.setenv("COURSE_SEED", value)
    with pytest.raises(ValueError, match=r"COURSE_SEED=.*whole number of 0 or more"):
        course_helpers.course_seed()


def test_the_model_file_names_a_course_seed_other_than_the_stored_one(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert models.default_model_path(150, "standin").name == "horse_or_human_standin_150.keras"
    monkeypatch.setenv("COURSE_SEED", "7")
    assert models.default_model_path(150, "real").name == "horse_or_human_real_150_seed7.keras"


def test_setup_uses_and_names_the_course_seed():
    code = ("import random, course_helpers; course_helpers.setup(); print(random.random()); "
            "course_helpers.setup(7); print(random.random()); course_helpers.setup(8); print(random.random())")
    env = {"COURSE_SEED": "7", "COURSE_DATA": "standin", "PATH": "/usr/bin:/bin"}
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env=env).stdout.splitlines()
    assert lines[0].endswith("| seed 7 (COURSE_SEED)")
    assert lines[1] == lines[3] != lines[5]  # setup() under COURSE_SEED=7 seeds as setup(7) does


def test_helpers_default_seeds_follow_the_course_seed(monkeypatch):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, name="out")])
    picture = np.random.default_rng(0).random((1, 12, 12, 3)).astype("float32")

    def draws():
        return (filters.maximize(model, "conv", [0], steps=2, progress=False)[0],
                cam.smoothgrad(model, picture, n=2))

    monkeypatch.delenv("COURSE_SEED", raising=False)
    stored = draws()
    explicit = (filters.maximize(model, "conv", [0], steps=2, progress=False, seed=0)[0],
                cam.smoothgrad(model, picture, n=2, seed=0))
    monkeypatch.setenv("COURSE_SEED", "7")
    moved = draws()
    for a, b, c in zip(stored, explicit, moved):
        assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_offline_mode_reads_its_switch(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "real")
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    assert not course_helpers.offline()
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert course_helpers.offline()
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setenv("COURSE_DATA", "standin")
    assert course_helpers.offline()
    monkeypatch.setenv("COURSE_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="COURSE_OFFLINE='maybe'"):
        course_helpers.offline()


def test_offline_real_data_is_used_when_cached_and_never_downloaded(monkeypatch, tmp_path, capsys):
    def no_network(url, timeout=3):
        raise AssertionError(f"offline, the course tried to reach {url}")

    monkeypatch.setattr(data, "unreachable", no_network)
    monkeypatch.setattr(data, "fetch_zip", lambda url, dest, *args, **kwargs: (
        dest if dest.is_dir() else pytest.fail(f"offline, the course tried to download {url}")))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA", "real")
    with pytest.raises(data.DownloadError, match="not cached.*COURSE_OFFLINE=1"):
        data.horse_or_human("train")
    for kind in data.CLASS_NAMES:
        (tmp_path / "horse-or-human" / kind).mkdir(parents=True)
    assert data.horse_or_human("train") == tmp_path / "horse-or-human"
    monkeypatch.setenv("COURSE_DATA", "auto")
    monkeypatch.setitem(data.STANDIN_PER_CLASS, "validation", 2)
    assert data.horse_or_human("validation").parent.parent.name == "standin"
    assert "COURSE_OFFLINE=1" in capsys.readouterr().out
