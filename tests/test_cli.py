"""python -m course_helpers: doctor and fetch."""
import socket
import subprocess
import sys
from pathlib import Path

from course_helpers import __main__ as cli
from course_helpers import data, models


def test_doctor_reports_a_working_environment():
    result = subprocess.run([sys.executable, "-m", "course_helpers", "doctor"], capture_output=True, text=True,
                            env={"COURSE_DATA": "standin", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok       tensorflow" in result.stdout and "All set." in result.stdout
    assert "oneDNN" not in result.stderr


def test_the_doctor_checks_the_floors_pip_enforces_without_importing_tensorflow():
    code = ("import sys; from course_helpers import __main__ as cli; cli.requirements(); "
            "[cli._check_package(*pair) for pair in cli.requirements()]; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    listed = dict(cli.requirements())
    declared = {line.split(">=")[0]: line.split(">=")[1] for line in
                (Path(cli.__file__).resolve().parent.parent / "requirements.txt").read_text().splitlines()
                if ">=" in line and not line.startswith("#")}
    assert listed == declared
    assert cli._version_tuple("2.20.0rc1") == (2, 20, 0) and cli._version_tuple("7.7") == (7, 7, 0)


def test_doctor_names_what_is_wrong(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", "offline")
    declared = cli.requirements()
    monkeypatch.setattr(cli, "requirements", lambda: declared + [("numpy", "99.0"), ("no-such-package", "1.0")])
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "TOO OLD  numpy" in out and "needs 99.0 or newer" in out
    assert "MISSING  no-such-package" in out and "pip install" in out
    assert "COURSE_DATA='offline'" in out and "3 problem(s)" in out
    assert "Network: not checked" in out


def test_doctor_checks_the_network_only_when_the_real_data_may_be_used(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "shared-folder-typo"))
    with socket.socket() as listening:  # a loopback "download server" that accepts connections
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        spec = data.REAL["train"]
        monkeypatch.setitem(data.REAL, "train", data.RemoteZip(f"http://127.0.0.1:{port}/train.zip", spec.size,
                                                               spec.sha256, spec.folder))
        monkeypatch.setenv("COURSE_DATA", "auto")
        assert cli.main(["doctor"]) == 0
        out = capsys.readouterr().out
        assert "Network: the real data can be downloaded" in out
    monkeypatch.setenv("COURSE_DATA", "real")
    cli.main(["doctor"])  # the listener is closed now: nothing answers on that port
    assert "127.0.0.1 cannot be reached" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_DATA", "standin")
    cli.main(["doctor"])
    out = capsys.readouterr().out
    assert "Network: not checked" in out
    # the mistyped shared folder is named and reported, not silently created
    assert str(tmp_path / "shared-folder-typo") in out and "does not exist yet" in out
    assert not (tmp_path / "shared-folder-typo").exists()


def test_fetch_standin_prepares_data_and_a_trained_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", "standin")  # fetch sets it; monkeypatch restores it afterwards
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(data.STANDIN_PER_CLASS, "train", 20)
    monkeypatch.setitem(data.STANDIN_PER_CLASS, "validation", 6)
    assert cli.main(["fetch", "--standin", "--epochs", "1"]) == 0
    assert models.default_model_path(150, "standin").is_file()
    out = capsys.readouterr().out
    assert "Ready:" in out and str(models.default_model_path(150, "standin")) in out


def test_fetch_without_network_says_what_to_do(tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("COURSE_DATA", "standin")  # fetch sets it to "real"; monkeypatch restores it afterwards
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    for split, spec in list(data.REAL.items()):
        monkeypatch.setitem(data.REAL, split, data.RemoteZip(f"http://127.0.0.1:{port}/{split}.zip", spec.size,
                                                             spec.sha256, spec.folder))
    assert cli.main(["fetch"]) == 1
    out = capsys.readouterr().out
    assert "Could not get the real data" in out and "fetch --standin" in out
    assert not (tmp_path / "horse-or-human").exists()
