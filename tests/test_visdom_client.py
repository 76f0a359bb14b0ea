"""vizlab.Visdom against real servers: Visdom's own demo gives the same windows as Visdom's
client, on a stock server and on one vizlab started; a raw-client loop survives a server missing
at start, frozen 6 s and restarted empty; `vizlab replay` rebuilds a raw-client journal."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import visdom

from support import windows
from support.servers import stock_server
from vizlab import Visdom
from vizlab.server.process import VisdomServer, free_port

pytestmark = pytest.mark.server   # starts real Visdom servers

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(__file__).resolve().parent / "third_party" / "visdom_demo"
# example/demo.py's run_demo (visdom 0.2.4), in its order, less the two that download files and
# the two WebGL ones (200,000 points, then 200,000 appended: a stock server spends minutes on the
# append's JSON patch at this machine's load, whichever client sends it).
DEMO = """text_basic text_update text_callbacks text_close image_basic image_callback
image_save_jpeg image_history image_grid plot_line_basic plot_line_multiple plot_line_update plot_line_opts plot_line_opts_update
plot_line_stackedarea plot_line_maxsize plot_line_doubleyaxis plot_line_pytorch plot_line_stem
plot_scatter_basic plot_scatter_update_opts plot_scatter_append plot_scatter_3d
plot_scatter_custom_marker plot_scatter_custom_colors plot_scatter_add_trace
plot_scatter_text_labels_1d plot_scatter_text_labels_2d plot_bar_basic plot_bar_stacked
plot_bar_nonstacked plot_bar_histogram plot_bar_piechart plot_surface_basic
plot_surface_basic_withnames plot_surface_append plot_surface_append_withnames
plot_surface_remove plot_surface_remove_withnames plot_surface_replace
plot_surface_replace_withnames plot_surface_contour plot_surface_3d plot_special_boxplot
plot_special_quiver plot_special_mesh plot_special_graph misc_plot_matplot misc_plot_latex
misc_plot_latex_update misc_video_tensor misc_audio_basic misc_arbitrary_visdom
misc_getset_state""".split()


@pytest.fixture(params=["stock", "vizlab"])
def server(request, tmp_path):
    if request.param == "stock":
        with stock_server(tmp_path) as srv:
            yield srv
    else:
        with VisdomServer(log_path=tmp_path / "visdom.log") as srv:
            yield srv


def demo_functions():
    sys.path.insert(0, str(DEMO_DIR))
    try:
        import components.image, components.misc, components.plot_bar, components.plot_line  # noqa: E401
        import components.plot_scatter, components.plot_special, components.plot_surface  # noqa: E401
        import components.properties, components.text  # noqa: E401
    finally:
        sys.path.remove(str(DEMO_DIR))
    found = {}
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("components."):
            found.update({n: getattr(module, n) for n in DEMO if hasattr(module, n)})
    return [found[n] for n in DEMO]


def run_demo(viz, env):
    """run_demo of example/demo.py: the same seed, each demo's exception recorded (as the demo
    prints and goes on). The matplotlib demo draws on pyplot's current figure: a fresh one, with
    the SVG's date and ids fixed, so that two runs draw the same SVG."""
    import matplotlib
    import matplotlib.pyplot as plt
    plt.close("all")
    matplotlib.rcParams["svg.hashsalt"] = "vizlab"
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    np.random.seed(42)
    assert viz.check_connection(timeout_seconds=3), "No connection could be formed quickly"
    raised = {}
    for demo in demo_functions():
        try:
            demo(viz, env, [])
        except Exception as err:
            raised[demo.__name__] = type(err).__name__
    return raised


def normalized(port, env):
    """Every window of env in page order, without what differs between any two runs (the
    window's random id, its content id, the order number that page() already encodes)."""
    skip = ("id", "contentID", "i")
    return [{k: v for k, v in w.items() if k not in skip} for w in windows.page(port, env).values()]


def test_visdom_demo_gives_the_windows_visdoms_client_gives(server, tmp_path):
    stock = visdom.Visdom(port=server.port, raise_exceptions=True)
    ours = Visdom(port=server.port, raise_exceptions=True, journal=tmp_path / "demo.jsonl")
    assert run_demo(ours, "demo_vizlab") == run_demo(stock, "demo_stock")
    assert ours.flush(60)
    expected = normalized(server.port, "demo_stock")
    assert len(expected) >= 45
    assert normalized(server.port, "demo_vizlab") == expected


def updates(viz, env):
    """update= in each form, integer ids, text appends, a closed window, a removed trace, and an
    append the server fails (one trace into a two-trace window: HTTP 500, then the next one)."""
    a = viz.line(X=np.arange(3), Y=np.arange(3.0), env=env, opts=dict(title="a", legend=["t"]))
    viz.line(X=np.array([3, 4]), Y=np.array([5.0, 6.0]), win=a, env=env, update="append", name="t")
    viz.line(X=np.array([0, 1]), Y=np.array([1.0, 0.0]), win=a, env=env, update="append", name="u")
    viz.line(X=None, Y=None, win=a, env=env, update="remove", name="u")
    viz.line(X=np.array([9]), Y=np.array([9.0]), win=a, env=env, update="replace", name="t")
    viz.line(X=np.zeros((1, 2)), Y=np.ones((1, 2)), win="legacy", env=env)
    viz.line(X=np.ones((1, 2)), Y=np.ones((1, 2)), win="legacy", env=env, update=True)
    viz.line(X=np.array([2]), Y=np.array([2.0]), win="legacy", env=env, update="append")  # HTTP 500
    viz.line(X=np.full((1, 2), 3), Y=np.ones((1, 2)), win="legacy", env=env, update="append")
    viz.line(X=np.arange(2), Y=np.arange(2.0), win=7, env=env, opts=dict(title="int"))
    viz.line(X=np.array([5]), Y=np.array([5.0]), win=7, env=env, update="append")
    viz.line(X=np.array([6]), Y=np.array([6.0]), win="fresh", env=env, update="append")
    t = viz.text("one", env=env)
    viz.text("two", win=t, env=env, append=True)
    viz.heatmap(np.arange(4.0).reshape(2, 2), win="h", env=env)
    viz.heatmap(np.ones((1, 2)), win="h", env=env, update="appendRow")
    viz.images(np.random.rand(2, 3, 4, 4), win="img", env=env, opts=dict(store_history=True))
    viz.image(np.random.rand(3, 4, 4), win="img", env=env, opts=dict(store_history=True))
    viz.close(viz.text("gone", env=env), env=env)


def test_update_forms_and_integer_ids_behave_as_in_visdoms_client(visdom_server, tmp_path):
    stock = visdom.Visdom(port=visdom_server.port, use_incoming_socket=False)
    ours = Visdom(port=visdom_server.port, use_incoming_socket=False, journal=tmp_path / "j.jsonl")
    np.random.seed(3)
    updates(stock, "forms_stock")
    np.random.seed(3)
    updates(ours, "forms_vizlab")
    assert ours.flush(60)
    expected = normalized(visdom_server.port, "forms_stock")
    assert len(expected) == 7
    assert normalized(visdom_server.port, "forms_vizlab") == expected


def test_replay_rebuilds_a_raw_client_journal(tmp_path):
    port = free_port("127.0.0.1")
    journal = tmp_path / "run.jsonl"
    ours = Visdom(port=port, use_incoming_socket=False, journal=journal)   # no server, ever
    np.random.seed(3)
    updates(ours, "replayed")
    ours._delivery.stop()   # the run is over: only its journal holds the calls
    with stock_server(tmp_path, port=port) as srv:
        done = subprocess.run([sys.executable, "-m", "vizlab.cli", "replay", str(journal),
                               "--port", str(port)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 0, done.stderr
        np.random.seed(3)
        updates(visdom.Visdom(port=port, use_incoming_socket=False), "direct")
        assert normalized(srv.port, "replayed") == normalized(srv.port, "direct")


def test_construction_and_reads_are_bounded(tmp_path):
    port = free_port("127.0.0.1")
    with pytest.raises(ConnectionError):
        Visdom(port=port, raise_exceptions=True, use_incoming_socket=False, journal=False)
    with VisdomServer(port=port, log_path=tmp_path / "visdom.log") as srv:
        viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False,
                     journal=False, read_timeout=2.0)
        win = viz.text("hello")
        assert viz.win_exists(win) is True   # a read sees this client's writes before it
        os.kill(srv.process.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            assert viz.text("while frozen", win=win) == win
            assert viz.get_window_data(win) is False
            assert time.monotonic() - start < 10   # read_timeout 2 s, generously
        finally:
            os.kill(srv.process.pid, signal.SIGCONT)
        assert viz.flush(60)
        assert json.loads(viz.get_window_data(win))["content"] == "while frozen"
