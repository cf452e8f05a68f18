"""The course as a learner meets it: JupyterLab in a real (headless) browser.

Starts JupyterLab on 127.0.0.1 with a token, opens notebooks 02 and 07 in
Debian's Chromium (driven by Playwright; nothing downloads a browser), runs all
cells, checks that no cell shows an error, moves a widget control and checks
that the picture changes. Screenshots go to build/screenshots/.

Run with ``make test-browser`` (``make test`` runs it too when Chromium is
installed; CI requires it). Plain ``pytest`` leaves this folder out (see
``addopts`` in pyproject.toml); ``pytest tests/browser -o addopts=""`` runs it.
The notebooks run on copies in a temporary folder, with their stored outputs
cleared, so the committed files are never touched and every output checked
comes from this run.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
RUN_TIMEOUT_S = 240


def write_without_outputs(source, destination):
    """A copy of a notebook with every output and execution count cleared, so that what is
    found in it after the run can only come from this run."""
    notebook = json.loads(Path(source).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["metadata"].pop("widgets", None)
    Path(destination).write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving copies of the notebooks; yields (base URL, token, folder)."""
    if not CHROMIUM:
        raise RuntimeError("Chromium is needed for the browser test: on Debian/Ubuntu, sudo apt install chromium "
                           "(or set CHROMIUM to a Chromium binary).")
    folder = tmp_path_factory.mktemp("lab")
    for name in ["02_padding_stride_pooling.ipynb", "07_grad_cam.ipynb"]:
        write_without_outputs(ROOT / "notebooks" / name, folder / name)
    port, token = free_port(), secrets.token_hex(16)
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    # JupyterLab 4 only renders the cells near the viewport ("windowing"); render them all, so the
    # widgets further down exist in the page. A private settings folder keeps the learner's own settings out.
    settings = folder / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = folder / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {**os.environ, "COURSE_DATA": os.environ.get("COURSE_DATA", "standin"),
           "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces")}
    log = open(folder / "jupyterlab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError(f"JupyterLab did not start; its log:\n{(folder / 'jupyterlab.log').read_text()}")
            time.sleep(0.5)
        yield base, token, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def wait_for_idle_kernel(base, token, name, timeout_s=90):
    """Until the notebook's kernel has started and is idle (asked through JupyterLab's REST API)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as response:
            sessions = json.loads(response.read())
        states = [s["kernel"]["execution_state"] for s in sessions if s.get("path", "").endswith(name)]
        if states and all(state == "idle" for state in states):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the kernel for {name} did not become idle within {timeout_s} s")


def open_and_run_all(page, base, token, folder, name):
    """Open a notebook in JupyterLab, run all cells, wait until the kernel is done, save (and see the file change)."""
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    # JupyterLab's pop-up notifications (such as its news question) would cover the screenshots.
    page.add_style_tag(content=".Toastify { display: none !important; }")
    wait_for_idle_kernel(base, token, name)
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells'):not(.lm-mod-disabled)")
    # First see the run start ([*]), then wait until no cell is busy and the kernel is idle again.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => p.textContent.includes('*'))",
        timeout=60_000,
    )
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
            const busy = prompts.some(text => text.includes('*'));
            const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
            return !busy && idle !== null;
        }""",
        timeout=RUN_TIMEOUT_S * 1000,
    )
    saved_before = (folder / name).stat().st_mtime_ns
    page.keyboard.press("Control+s")
    deadline = time.time() + 30
    while (folder / name).stat().st_mtime_ns == saved_before:
        if time.time() > deadline:
            raise TimeoutError(f"JupyterLab did not save {name} within 30 s")
        time.sleep(0.2)
    page.wait_for_timeout(500)  # let the write finish


def shut_down_kernels(base, token):
    """Stop every kernel the server runs, so one notebook's kernel does not slow the next test."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as response:
        sessions = json.loads(response.read())
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


def snapshot(page, locator, path):
    """A screenshot of one element, taken once it is visible and has stopped moving."""
    locator.wait_for(state="visible", timeout=30_000)
    locator.scroll_into_view_if_needed(timeout=30_000)
    page.wait_for_timeout(500)
    box = locator.bounding_box()
    page.screenshot(path=str(path), clip=box)


def saved_errors(path):
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    errors, unrun = [], 0
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
            continue
        if cell.get("execution_count") is None:
            unrun += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return errors, unrun


def widget_picture(page, explorer_index=0):
    """SHA-256 of the bytes of the picture inside the n-th rendered ipywidgets box that holds an image.

    The bytes, not the src: ipywidgets makes a new blob URL on every update, even for the same picture.
    """
    return page.evaluate(
        """async (n) => {
            const boxes = [...document.querySelectorAll('.jupyter-widgets.widget-vbox')]
                .filter(box => box.querySelector('img'));
            const img = boxes.length > n ? boxes[n].querySelector('img') : null;
            if (!img || !img.getAttribute('src')) return null;
            let bytes;
            try {  // the old blob URL is revoked when the picture is replaced: then ask again
                bytes = await (await fetch(img.src)).arrayBuffer();
            } catch (error) {
                return null;
            }
            if (bytes.byteLength === 0) return null;
            const digest = await crypto.subtle.digest('SHA-256', bytes);
            return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
        }""",
        explorer_index,
    )


def wait_for_a_new_picture(page, before, timeout_s):
    """Until the first explorer shows a picture with other bytes than ``before``; return its hash."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        now = widget_picture(page)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(250)
    raise TimeoutError(f"the explorer's picture did not change within {timeout_s} s")


def run_and_show_the_first_explorer(browser, lab, name, height):
    """Open and run a notebook, check that no cell failed, find its first explorer, screenshot it;
    return (page, explorer, hash of its picture)."""
    base, token, folder = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": height})
    open_and_run_all(page, base, token, folder, name)
    errors, unrun = saved_errors(folder / name)
    assert errors == [] and unrun == 0, f"errors: {errors}; cells not run: {unrun}"
    explorer = page.locator(".jupyter-widgets.widget-vbox:has(img)").first
    explorer.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.jupyter-widgets img')].some(i => i.src)")
    before = widget_picture(page)
    assert before, f"the explorer's picture in {name} did not render"
    snapshot(page, explorer, SCREENSHOTS / f"{name[:2]}_explorer_before.png")
    return page, explorer, before


def finish(page, lab, explorer, name):
    snapshot(page, explorer, SCREENSHOTS / f"{name[:2]}_explorer_after.png")
    page.screenshot(path=str(SCREENSHOTS / f"{name[:2]}_page.png"))
    page.close()
    shut_down_kernels(lab[0], lab[1])


def test_notebook_02_runs_in_jupyterlab_and_its_explorer_responds(lab, browser):
    name = "02_padding_stride_pooling.ipynb"
    page, explorer, before = run_and_show_the_first_explorer(browser, lab, name, height=1000)
    # Move the "stride" slider one step to the right with the keyboard, as a learner could.
    handle = explorer.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").nth(2)
    handle.click()
    page.keyboard.press("ArrowRight")
    assert wait_for_a_new_picture(page, before, 30) != before
    finish(page, lab, explorer, name)


def test_notebook_07_runs_in_jupyterlab_and_its_layer_chooser_responds(lab, browser):
    name = "07_grad_cam.ipynb"
    # Tall enough for the whole explorer (three rows of pictures) to fit in one screenshot.
    page, explorer, before = run_and_show_the_first_explorer(browser, lab, name, height=2000)
    explorer.locator("select").first.select_option("conv3")
    assert wait_for_a_new_picture(page, before, 60) != before
    finish(page, lab, explorer, name)
