"""course_helpers.data: verified downloads from a local server, the stand-in, and the pipeline.

The download tests serve zips built here from a real HTTP server on 127.0.0.1;
nothing leaves this machine. Every failure case must leave ``dest`` either
complete or absent, and no temporary files behind.
"""
import hashlib
import http.server
import io
import socket
import stat
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from course_helpers import baseline, data


# ----------------------------------------------------------------------------
# a local HTTP server serving in-memory files
# ----------------------------------------------------------------------------
def zip_bytes(entries, symlinks=()):
    """A zip of {name: bytes}, plus (name, target) symlink entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def png_bytes(colour, size=8):
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


GOOD = zip_bytes({"horses/horse1.png": png_bytes((200, 0, 0)), "humans/human1.png": png_bytes((0, 0, 200)),
                  "humans/human2.png": png_bytes((0, 200, 0))})


class Handler(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):  # noqa: N802 (the http.server API)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        truncated = self.path.startswith("/truncated")
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncated else body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    Handler.files = {
        "/good.zip": GOOD,
        "/truncated.zip": GOOD,
        "/slip.zip": zip_bytes({"horses/ok.png": b"x", "../outside.txt": b"escaped"}),
        "/absolute.zip": zip_bytes({"/etc/evil.txt": b"escaped"}),
        "/link.zip": zip_bytes({"horses/ok.png": b"x"}, symlinks=[("horses/escape", "../../../etc")]),
        "/notzip.zip": b"this is not a zip file at all",
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def sha(body):
    return hashlib.sha256(body).hexdigest()


def assert_nothing_half_written(dest):
    """dest is absent or complete, and no temporary file or folder is left next to it."""
    leftovers = [p.name for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}-")]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


# ----------------------------------------------------------------------------
# fetch_zip
# ----------------------------------------------------------------------------
def test_happy_path_extracts_and_a_second_call_needs_no_network(server, tmp_path, capsys):
    dest = tmp_path / "hoh"
    assert data.fetch_zip(f"{server}/good.zip", dest, sha(GOOD), size=len(GOOD)) == dest
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.png")) == [
        "horses/horse1.png", "humans/human1.png", "humans/human2.png"]
    assert "100%" in capsys.readouterr().out  # the progress bar reached the end
    assert_nothing_half_written(dest)
    # The server is not asked again: even a wrong URL and checksum return the finished folder.
    assert data.fetch_zip("http://127.0.0.1:9/gone.zip", dest, "0" * 64) == dest


@pytest.mark.parametrize(
    "path, size, checksum, words",
    [
        ("/good.zip", len(GOOD), "0" * 64, ["SHA-256", sha(GOOD), "0" * 64]),
        ("/good.zip", len(GOOD) + 1, None, [f"has {len(GOOD)} bytes", f"{len(GOOD) + 1} were expected"]),
        ("/truncated.zip", len(GOOD), None, ["stopped early"]),
        ("/missing.zip", None, None, ["404"]),
        ("/slip.zip", None, None, ["zip-slip", "../outside.txt"]),
        ("/absolute.zip", None, None, ["absolute paths", "/etc/evil.txt"]),
        ("/link.zip", None, None, ["link", "outside the destination"]),
        ("/notzip.zip", None, None, ["not a valid zip"]),
    ],
    ids=["wrong checksum", "wrong size", "truncated body", "404", "zip-slip", "absolute path", "escaping link",
         "not a zip"],
)
def test_every_fault_leaves_nothing_half_written(server, tmp_path, path, size, checksum, words):
    dest = tmp_path / "hoh"
    body = Handler.files.get(path, b"")
    with pytest.raises(data.DownloadError) as info:
        data.fetch_zip(f"{server}{path}", dest, checksum or sha(body), size=size, timeout=5)
    for word in words:
        assert word in str(info.value)
    assert not dest.exists()
    assert not (tmp_path / "outside.txt").exists()
    assert_nothing_half_written(dest)


def test_server_down_says_the_stand_in_will_be_used(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dest = tmp_path / "hoh"
    with pytest.raises(data.DownloadError, match="could not reach 127.0.0.1.*offline stand-in.*COURSE_DATA=real"):
        data.fetch_zip(f"http://127.0.0.1:{port}/good.zip", dest, sha(GOOD), timeout=5)
    assert not dest.exists()
    assert_nothing_half_written(dest)
    assert "cannot be reached" in data.unreachable(f"http://127.0.0.1:{port}/good.zip")


def test_two_concurrent_calls_give_one_complete_folder(server, tmp_path):
    dest = tmp_path / "hoh"
    results, errors = [], []

    def fetch():
        try:
            results.append(data.fetch_zip(f"{server}/good.zip", dest, sha(GOOD), size=len(GOOD)))
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [dest] * 4
    assert len(list(dest.rglob("*.png"))) == 3
    assert_nothing_half_written(dest)


def test_the_real_dataset_path_downloads_verifies_and_finds_the_class_folders(server, tmp_path, monkeypatch, capsys):
    # The real split table, pointed at the local server (the archive nests one folder, as some zips do).
    nested = zip_bytes({f"horse-or-human/{name}": content for name, content in
                        [("horses/a.png", png_bytes((1, 2, 3))), ("humans/b.png", png_bytes((4, 5, 6)))]})
    Handler.files["/horse-or-human.zip"] = nested
    monkeypatch.setitem(data.REAL, "train", data.RemoteZip(f"{server}/horse-or-human.zip", len(nested), sha(nested),
                                                           "horse-or-human"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA", "real")
    folder = data.horse_or_human("train", source="standin")  # COURSE_DATA overrides the argument
    assert sorted(p.name for p in folder.iterdir()) == ["horses", "humans"]
    assert "real renders, 2 images (COURSE_DATA)" in capsys.readouterr().out


def test_auto_falls_back_to_the_stand_in_when_the_server_is_down(tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(data.REAL, "validation", data.RemoteZip(f"http://127.0.0.1:{port}/v.zip", 1, "0" * 64, "v"))
    monkeypatch.setitem(data.STANDIN_PER_CLASS, "validation", 3)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    folder = data.horse_or_human("validation")
    printed = capsys.readouterr().out
    assert "real data unavailable" in printed and "offline stand-in, 6 drawn images" in printed
    assert folder == tmp_path / "standin" / "validation" / "images"


# ----------------------------------------------------------------------------
# the stand-in
# ----------------------------------------------------------------------------
def test_stand_in_layout_masks_and_determinism(tmp_path):
    first = data.make_standin(tmp_path / "a", 3, size=64, seed=5)
    second = data.make_standin(tmp_path / "b", 3, size=64, seed=5)
    other = data.make_standin(tmp_path / "c", 3, size=64, seed=6)
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*.png"))
    assert files == sorted(f"{part}/{kind}/{kind[:-1]}{i:04d}.png" for part in ("images", "masks")
                           for kind in ("horses", "humans") for i in range(3))
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), "same seed, same bytes"
    assert any((first / name).read_bytes() != (other / name).read_bytes() for name in files)
    image = first / "images" / "horses" / "horse0000.png"
    mask = data.mask_for(image)
    assert mask.dtype == bool and mask.shape == (64, 64) and 0.02 < mask.mean() < 0.4
    assert data.mask_for(tmp_path / "elsewhere.png") is None
    small = data.mask_for(image, size=32)
    assert small.shape == (32, 32) and abs(small.mean() - mask.mean()) < 0.05
    assert_nothing_half_written(first)


def test_stand_in_is_the_same_with_worker_processes(tmp_path):
    serial = data.make_standin(tmp_path / "serial", 100, size=32, seed=2, workers=1)
    parallel = data.make_standin(tmp_path / "parallel", 100, size=32, seed=2, workers=2)
    for path in sorted(serial.rglob("*.png")):
        assert path.read_bytes() == (parallel / path.relative_to(serial)).read_bytes()


def test_mask_matches_the_figure_drawn_in_the_picture():
    from course_helpers import standin

    picture, mask = standin.render_scene("humans", np.random.default_rng(3), 128)
    again, _ = standin.render_scene("humans", np.random.default_rng(3), 128)
    assert np.array_equal(picture, again)
    # Inside the mask the figure's colour, outside it the background: the two differ on average.
    inside, outside = picture[mask].astype(float).mean(axis=0), picture[~mask].astype(float).mean(axis=0)
    assert np.abs(inside - outside).sum() > 10


@pytest.mark.parametrize("bad, error, words", [(0, ValueError, "must be at least 1"), (2.5, TypeError, "must be an int"),
                                                (True, TypeError, "must be an int")])
def test_make_standin_checks_its_arguments(tmp_path, bad, error, words):
    with pytest.raises(error, match=f"n_per_class {words}"):
        data.make_standin(tmp_path / "x", bad)


def labelled_paths(root):
    paths = [p for kind in data.CLASS_NAMES for p in sorted((root / "images" / kind).glob("*.png"))]
    return paths, np.array([0 if p.parent.name == "horses" else 1 for p in paths])


def test_the_baseline_can_learn_when_there_is_something_to_learn():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 5))
    labels = (features[:, 2] + 0.3 * features[:, 0] > 0).astype(int)
    accuracy, _ = baseline.logistic_regression_accuracy(features[:300], labels[:300], features[300:], labels[300:])
    assert accuracy > 0.9


def test_honesty_colour_histograms_and_figure_area_are_worth_a_few_points_at_most(tmp_path):
    # Target areas are drawn alike, but figures that would not fit are shrunk, mostly tall humans: a small size cue.
    train_paths, train_y = labelled_paths(data.make_standin(tmp_path / "train", 300, size=96, seed=10))
    test_paths, test_y = labelled_paths(data.make_standin(tmp_path / "test", 150, size=96, seed=11))
    train_x, test_x = baseline.colour_area_features(train_paths), baseline.colour_area_features(test_paths)
    assert train_x.shape == (600, 25)  # 3 x 8 histogram bins and the area
    accuracy, train_accuracy = baseline.logistic_regression_accuracy(train_x, train_y, test_x, test_y)
    assert train_accuracy > 0.5  # the model did fit something...
    assert accuracy <= 0.70, f"colour and area alone reach {accuracy:.0%}: the stand-in leaks the class"
