"""tools/float_fingerprint.py: whether this machine trains like the one behind the stored outputs."""
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import float_fingerprint  # noqa: E402


@pytest.fixture
def stored_file(tmp_path, monkeypatch):
    path = tmp_path / "stored_run_fingerprint.txt"
    monkeypatch.setattr(float_fingerprint, "STORED", path)
    monkeypatch.setattr(float_fingerprint, "fingerprint", lambda: "0123456789abcdef")
    return path


def test_check_passes_only_on_the_stored_value(stored_file, capsys):
    float_fingerprint.write("0123456789abcdef")
    assert float_fingerprint.main(["--check"]) == 0
    assert "compared output by output" in capsys.readouterr().out
    float_fingerprint.write("fedcba9876543210")
    assert float_fingerprint.main(["--check"]) == 1
    said = capsys.readouterr().out
    assert "--nbval-lax" in said and "fedcba9876543210" in said and "0123456789abcdef" in said


def test_check_fails_when_nothing_was_stored(stored_file, capsys):
    assert not stored_file.exists()
    assert float_fingerprint.stored() is None
    assert float_fingerprint.main(["--check"]) == 1


def test_write_stores_the_value_with_a_comment(stored_file):
    assert float_fingerprint.main(["--write"]) == 0
    text = stored_file.read_text()
    assert text.startswith("#") and float_fingerprint.stored() == "0123456789abcdef"
    assert not list(stored_file.parent.glob(".*"))  # no temporary file left behind


def test_the_repository_stores_a_fingerprint():
    value = float_fingerprint.stored()
    assert value is not None and re.fullmatch(r"[0-9a-f]{16}", value), value


def test_the_fingerprint_is_the_same_in_two_runs(monkeypatch):
    # The scheme rests on determinism: on one machine, two trainings give the same bits.
    monkeypatch.setenv("COURSE_DATA", "standin")
    first = float_fingerprint.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert float_fingerprint.fingerprint() == first


def _dry_run(target, compare):
    import subprocess

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(["make", "-n", "--no-print-directory", target, f"TRAINED_COMPARE={compare}"],
                            cwd=root, capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if "pytest" in line]


def test_make_relaxes_only_notebooks_4_to_7_and_only_when_told():
    training_lax = _dry_run("test-notebooks-training", "lax")
    assert any("01_" in line and "03_" in line and "--nbval-lax" not in line for line in training_lax)
    assert any("04_" in line and "--nbval-lax" in line for line in training_lax)
    assert all("--nbval-lax" in line for line in _dry_run("test-notebooks-inside", "lax"))
    for target in ("test-notebooks-training", "test-notebooks-inside"):
        assert not any("--nbval-lax" in line for line in _dry_run(target, "full"))


def test_make_test_asks_the_fingerprint_first():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\ntest: ")[1].split("\n\n")[0]
    assert "tools/float_fingerprint.py --check" in recipe and "TRAINED_COMPARE=$$compare" in recipe
