"""The package as a wheel, installed into a fresh folder and used from outside the repository."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_carries_the_sample_photos_and_every_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for sample in ("chelsea.png", "astronaut.png", "horse.png", "README.md"):
        assert f"course_helpers/samples/{sample}" in names
    for module in ("anatomy.py", "cam/maps.py", "cam/measures.py", "checks/answers.py", "checks/grad_cam.py"):
        assert f"course_helpers/{module}" in names
    assert not [name for name in names if name.startswith(("tests/", "notebooks/", "data/"))]


def test_an_installed_wheel_finds_its_photos_and_keeps_its_data_out_of_site_packages(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    code = ("import course_helpers, pathlib; from course_helpers import data, images, __main__ as cli; "
            "print(pathlib.Path(course_helpers.__file__).parent); print(images.sample_image('cat').shape); "
            "print(data.data_dir()); print(len(cli.requirements()))")
    env = {**{k: v for k, v in os.environ.items() if k != "COURSE_DATA_DIR"},
           "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    package, shape, folder, declared = result.stdout.split("\n")[:4]
    assert Path(package) == site / "course_helpers", "the wheel's copy was imported, not the clone"
    assert shape == "(300, 451, 3)"
    if sys.platform.startswith("linux"):
        assert Path(folder) == tmp_path / "cache" / "inside-cnns"
    assert not Path(folder).is_relative_to(site), "data never goes inside the installed package"
    assert int(declared) >= 8, "the doctor reads the floors from the wheel's metadata"
