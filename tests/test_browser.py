"""The MNIST dashboard as a person sees it: real server, real runner, real MNIST, headless Chromium.

Skipped without a browser (the message says how to install one); with CI set, a missing browser fails.
Screenshots land in test-artifacts/browser/.
"""

import base64
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image
from visdom import Visdom

from support import browser as vb
from support.windows import raw_traces
from vizlab import VisdomLogger
from vizlab.logger.render import PADDING, tile_scale
from vizlab.server.process import VisdomServer

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
MNIST_RUNNER = ROOT / "runners" / "mnist_mlp.py"
RUNNER_TIMEOUT = 300


@pytest.fixture(scope="module")
def browser():
    if vb.find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but {vb.INSTALL_HINT}")
        pytest.skip(vb.INSTALL_HINT)
    with vb.open_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of our own, so the page's environment list holds only this file's runs."""
    with VisdomServer(env_path=tmp_path_factory.mktemp("browser-env")) as srv:
        yield srv


@pytest.fixture
def reader(server):
    return Visdom(server="http://127.0.0.1", port=server.port,
                  raise_exceptions=True, use_incoming_socket=False)


SAMPLES, NROW = 48, 8  # the runner's sample grid: 48 test digits, 8 per row


def mnist_command(server, env, data_dir, journal, *options):
    return [sys.executable, str(MNIST_RUNNER), "--port", str(server.port), "--env", env,
            "--quiet", "--data-dir", str(data_dir), "--journal", str(journal),
            "--samples", str(SAMPLES), *map(str, options)]


def run_mnist(server, env, data_dir, tmp_path, *options):
    done = subprocess.run(mnist_command(server, env, data_dir, tmp_path / "journal.jsonl", *options),
                          capture_output=True, text=True, timeout=RUNNER_TIMEOUT)
    assert done.returncode == 0, f"mnist_mlp failed:\n{done.stdout}\n{done.stderr}"


def window(reader, env, win):
    return json.loads(reader.get_window_data(win, env=env))


def server_points(win_data):
    """{trace name: number of points} of a line window as the server holds it."""
    return {t.get("name"): len(t["x"]) for t in raw_traces(win_data["content"]["data"])}


def png_size(data_url):
    header, _, payload = data_url.partition(",")
    assert header.startswith("data:image/"), f"not an inline image: {header[:40]}"
    return Image.open(io.BytesIO(base64.b64decode(payload))).size


def wait_while_running(runner, wait):
    """`wait(timeout)` in short slices while the runner lives; fail at once with its output if it dies."""
    deadline = time.monotonic() + RUNNER_TIMEOUT
    while runner.poll() is None and time.monotonic() < deadline:
        try:
            return wait(2.0)
        except TimeoutError:
            pass
    if runner.returncode not in (None, 0):
        pytest.fail(f"mnist_mlp ended with code {runner.returncode}:\n{runner.stdout.read()}")
    return wait(5.0)


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.browser
@pytest.mark.slow
def test_mnist_dashboard_renders(browser, server, reader, mnist_root, tmp_path):
    # Two epochs: a one-point line draws nothing a person could see.
    env, epochs, subset, batch, log_every = "browser_mnist", 2, 6000, 200, 5
    run_mnist(server, env, mnist_root, tmp_path, "--epochs", epochs, "--subset", subset,
              "--batch-size", batch, "--log-every", log_every)

    page, problems = vb.open_dashboard(browser, server.url, env)
    try:
        panes = vb.wait_for_panes(page, ["loss", "accuracy", "samples"], timeout=30)
        screenshot(page, "mnist_dashboard.png")

        loss = panes["loss"]
        assert sorted(loss["legend"]) == ["train", "val"]
        assert loss["drawn_lines"] == 2, "both loss curves should be drawn in the SVG"
        on_server = server_points(window(reader, env, "loss"))
        assert {t["name"]: t["points"] for t in loss["traces"]} == on_server
        assert on_server == {"train": epochs * (subset // batch // log_every), "val": epochs}

        accuracy = panes["accuracy"]
        assert accuracy["drawn_lines"] >= 1, "the accuracy pane shows no line"
        assert vb.total_points(accuracy) == sum(server_points(window(reader, env, "accuracy")).values())

        samples = panes["samples"]
        assert len(samples["images"]) == 1
        shown = samples["images"][0]
        sent = window(reader, env, "samples")["content"]["src"]
        assert shown["complete"] and shown["src"] == sent
        # make_grid of 48 upscaled 28x28 tiles, 8 per row, with padding around every tile
        tile = 28 * tile_scale(28, 28) + PADDING
        grid = (NROW * tile + PADDING, -(-SAMPLES // NROW) * tile + PADDING)
        assert (shown["width"], shown["height"]) == png_size(sent) == grid

        assert problems.messages() == []
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_loss_pane_grows_live_without_reload(browser, server, mnist_root, tmp_path):
    env = "browser_live"
    # Open the (still empty) environment first, then train: every point must arrive over the
    # page's live connection, and a reload would wipe the marker set here.  The env must exist
    # first (a client's constructor creates it): a page opened on an unknown env shows `main`.
    Visdom(server="http://127.0.0.1", port=server.port, env=env, use_incoming_socket=False)
    page, problems = vb.open_dashboard(browser, server.url, env)
    page.evaluate("window.vizlabNoReload = true")
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    # Long enough (10,000 steps, a point every 5) that the page sees the plot grow while the runner
    # is still training, however fast the machine; the runner is stopped once growth is seen.
    runner = subprocess.Popen(mnist_command(server, env, mnist_root, tmp_path / "journal.jsonl",
                                            "--epochs", 100, "--subset", 20000, "--log-every", 5),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_seen = vb.total_points(wait_while_running(
            runner, lambda timeout: vb.wait_for_panes(page, ["loss"], timeout))["loss"])
        grown = wait_while_running(
            runner, lambda timeout: vb.wait_for_points(page, "loss", first_seen + 20, timeout))
        still_training = runner.poll() is None
        screenshot(page, "mnist_live.png")
        assert still_training, "the runner finished before the page showed the plot growing"
        assert grown > first_seen + 20
        assert page.evaluate("window.vizlabNoReload") is True and loads == []
        assert problems.messages() == []
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        page.close()


@pytest.mark.browser
def test_declared_panes_hold_their_places_until_data_comes(browser, server, tmp_path):
    env = "browser_declared"
    Visdom(server="http://127.0.0.1", port=server.port, env=env, use_incoming_socket=False)
    page, problems = vb.open_dashboard(browser, server.url, env)
    page.evaluate("window.vizlabNoReload = true")
    try:
        with VisdomLogger(env=env, port=server.port, journal=str(tmp_path / "j.jsonl")) as log:
            log.window("loss", title="loss, declared", width=400, height=300)
            log.window("samples", kind="images")
            log.window("notes", kind="text", title="notes", width=300, height=200)
            assert log.flush(timeout=30)
            empty = vb.wait_for_ids(page, ["loss", "samples", "notes"])
            # The status pane first, then left to right in the declared order, the plot already
            # titled, nothing drawn yet.
            assert sorted(empty, key=lambda w: (empty[w]["box"]["y"], empty[w]["box"]["x"])) == \
                ["status", "loss", "samples", "notes"]
            assert empty["loss"]["plot_title"] == "loss, declared" and vb.total_points(empty["loss"]) == 0

            for step in range(50):
                log.scalar("loss", step, 1.0 / (step + 1), trace="train")
            log.images("samples", torch.rand(4, 1, 28, 28), nrow=4)
            assert log.flush(timeout=30)
        assert vb.wait_for_points(page, "loss", 99) == 100   # 50 points and their smoothed twins
        shown = vb.wait_for_panes(page, ["samples"])["samples"]
        assert len(shown["images"]) == 1 and shown["images"][0]["width"] > 0   # the image replaced the blank
        assert page.evaluate("window.vizlabNoReload") is True and problems.messages() == []
    finally:
        page.close()


@pytest.mark.browser
def test_smoothed_lines_are_drawn_over_faint_raw_ones_with_one_legend_entry_each(browser, server):
    env = "browser_smoothed"
    Visdom(server="http://127.0.0.1", port=server.port, env=env, use_incoming_socket=False)
    page, problems = vb.open_dashboard(browser, server.url, env)
    page.evaluate("window.vizlabNoReload = true")
    rng = random.Random(0)
    try:
        with VisdomLogger(env=env, port=server.port, journal=False) as log:
            for step in range(200):
                log.scalars("loss", step, {"a": rng.random(), "b": 1 + rng.random()})
            assert log.flush(timeout=30)
        assert vb.wait_for_points(page, "loss", 799) == 800     # 2 traces and 2 smoothed twins
        pane = vb.panes(page)["loss"]
        assert pane["legend"] == ["a", "b"] and pane["drawn_lines"] == 4
        strokes = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.js-plotly-plot .scatterlayer .trace path.js-line')).map(p => [p.style.stroke, p.style.strokeOpacity])""")
        blue, orange = "rgb(31, 119, 180)", "rgb(255, 127, 14)"
        assert [(s, float(o)) for s, o in strokes] == [(blue, 0.3), (orange, 0.3), (blue, 1.0), (orange, 1.0)]
        assert problems.messages() == []
    finally:
        page.close()


@pytest.mark.browser
def test_page_problems_reports_console_errors_and_missing_files(browser, server):
    # The dashboard tests pass only when this recorder is empty, so prove it does see trouble.
    page, problems = vb.open_dashboard(browser, server.url, "browser_problems")
    try:
        assert problems.messages() == []
        page.evaluate("""async () => {
            console.error('something broke');
            const s = document.createElement('script');
            s.src = '/static/js/no-such-file.js';
            await new Promise(done => { s.onerror = done; document.head.appendChild(s); });
        }""")
        found = "\n".join(problems.messages())
        assert "console error: something broke" in found
        assert "HTTP 404" in found and "/static/js/no-such-file.js" in found
    finally:
        page.close()


@pytest.mark.parametrize("ci, outcome", [("", "1 skipped"), ("true", "1 error")])
def test_missing_browser_skips_locally_but_fails_in_ci(tmp_path, ci, outcome):
    env = dict(os.environ, VIZLAB_CHROMIUM=str(tmp_path / "no-chromium"), CI=ci)
    done = subprocess.run([sys.executable, "-m", "pytest", __file__, "-k", "dashboard_renders",
                           "-rsf", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "inner")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert outcome in done.stdout.splitlines()[-1], done.stdout
    assert (done.returncode == 0) == (outcome == "1 skipped")
    assert "scripts/install_browser.sh" in done.stdout, "the message must say how to install one"
