"""course_helpers.files: all or nothing, readable by others, and concurrent builders end with one folder."""
import os
import stat
import threading

import pytest

from course_helpers import files


def test_a_file_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "sub" / "notes.txt"
    with files.atomic_file(target) as temporary:
        temporary.write_text("all")
        assert not target.exists()
    assert target.read_text() == "all"
    with pytest.raises(RuntimeError):
        with files.atomic_file(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "all" and sorted(p.name for p in target.parent.iterdir()) == ["notes.txt"]


def test_a_folder_appears_whole_readable_by_others_and_failures_leave_nothing(tmp_path):
    old_umask = os.umask(0o022)
    try:
        with files.atomic_folder(tmp_path / "data") as building:
            (building / "a.txt").write_text("1")
        mode = stat.S_IMODE((tmp_path / "data").stat().st_mode)
        assert mode == 0o755, "a shared data folder must be readable by the whole workshop"
        with pytest.raises(ValueError):
            with files.atomic_folder(tmp_path / "other") as building:
                (building / "a.txt").write_text("1")
                raise ValueError("interrupted")
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_concurrent_builders_keep_one_complete_folder(tmp_path):
    barrier, errors = threading.Barrier(4), []

    def build(number):
        try:
            with files.atomic_folder(tmp_path / "shared") as building:
                (building / "who.txt").write_text(str(number))
                barrier.wait()  # all four are complete before any renames
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]
    assert (tmp_path / "shared" / "who.txt").read_text() in {"0", "1", "2", "3"}
