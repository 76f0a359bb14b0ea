"""VisdomLogger against a real Visdom server: every point, image, text and figure arrives."""

import base64
import io
import os
import threading

import numpy as np
import pytest
import torch
from PIL import Image
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer
from vizlab import journal as journal_mod
from support.grids import render_grid
from support.windows import traces, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def decode_png(src):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


@pytest.fixture
def open_logger(visdom_server, tmp_path):
    """VisdomLogger(env=...) on the session server, journal in tmp_path, closed after the test."""
    made = []

    def make(env, **kwargs):
        kwargs.setdefault("journal", str(tmp_path / f"{env}.jsonl"))
        log = VisdomLogger(env=env, port=visdom_server.port, **kwargs)
        made.append(log)
        return log

    yield make
    for log in made:
        log.close()


def test_every_point_of_several_traces_arrives_in_order(open_logger, viz):
    log = open_logger("lg_points")
    for step in range(300):
        log.scalar("loss", step, 1.0 / (step + 1), trace="train")
        if step % 50 == 0:
            log.scalars("loss", step, {"val": 2.0 * step, "test": np.float32(0.25)})
    assert log.flush(timeout=20)
    got = traces(viz, "lg_points", "loss")
    assert list(got) == ["train", "val", "test", "train (smoothed)"]   # companions drawn last
    assert got["train"]["x"] == list(range(300))
    assert got["train"]["y"] == [1.0 / (s + 1) for s in range(300)]
    assert got["val"]["x"] == list(range(0, 300, 50))
    assert got["val"]["y"] == [2.0 * s for s in range(0, 300, 50)]
    assert got["test"]["y"] == [0.25] * 6


def test_tensor_and_numpy_values_arrive_exactly(open_logger, viz):
    log = open_logger("lg_values")
    log.scalar("v", torch.tensor(3), torch.tensor(0.5, requires_grad=True) * 2, trace="t")
    log.scalar("v", np.int64(4), np.float64(0.125), trace="t")
    log.scalar("v", 5, torch.ones(1), trace="t")
    assert log.flush(timeout=10)
    got = traces(viz, "lg_values", "v")["t"]
    assert got["x"] == [3, 4, 5] and got["y"] == [1.0, 0.125, 1.0]


def test_tensor_logged_then_changed_in_place_keeps_logged_value(open_logger, viz):
    log = open_logger("lg_inplace")
    total = torch.zeros(())
    for step in range(3):
        total += 1.0
        log.scalar("sum", step, total, trace="t")
    total += 100.0
    assert log.flush(timeout=10)
    assert traces(viz, "lg_inplace", "sum")["t"]["y"] == [1.0, 2.0, 3.0]


class ThreadSpy(torch.Tensor):
    """A tensor that records on which thread its value is read."""
    reads = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("item", "__float__", "tolist", "numpy"):
            cls.reads.append(threading.current_thread().name)
        return super().__torch_function__(func, types, args, kwargs or {})


def test_values_are_read_on_the_journal_thread_not_the_callers(open_logger, viz):
    ThreadSpy.reads.clear()
    log = open_logger("lg_thread")
    log.scalar("t", 0, torch.tensor(0.75).as_subclass(ThreadSpy))
    assert log.flush(timeout=10)
    assert ThreadSpy.reads and set(ThreadSpy.reads) == {"vizlab-journal"}
    assert traces(viz, "lg_thread", "t")["value"]["y"] == [0.75]


def test_default_opts_and_overrides(open_logger, viz):
    log = open_logger("lg_opts")
    log.scalar("plain", 0, 1.0)
    log.scalar("custom", 0, 1.0, title="Loss (log)", xlabel="epoch", ylabel="nll", ytype="log")
    assert log.flush(timeout=10)
    plain = window(viz, "lg_opts", "plain")
    assert plain["title"] == "plain"
    assert plain["content"]["layout"]["showlegend"] is True
    assert plain["content"]["layout"]["xaxis"]["title"] == "step"
    custom = window(viz, "lg_opts", "custom")
    assert custom["title"] == "Loss (log)"
    layout = custom["content"]["layout"]
    assert layout["xaxis"]["title"] == "epoch"
    assert layout["yaxis"] == {"title": "nll", "type": "log", "tickformat": "~g"}   # whole tick values


def test_line_colours_and_dashes_per_trace(open_logger, viz):
    log = open_logger("lg_style")
    hours = np.linspace(0, 10, 5)
    log.line("pass", hours, {"p(pass)": 1 / (1 + np.exp(5 - hours)), "threshold": np.full(5, 0.5)},
             linecolor=np.array([[31, 119, 180], [255, 0, 0]]), dash=np.array(["solid", "dash"]))
    log.scalar("loss", 0, 1.0, trace="train", linecolor=(0, 128, 0))
    log.scalar("loss", 0, 0.5, trace="target", linecolor=(0, 128, 0), dash="dot")
    log.scalar("loss", 1, 0.8, trace="train")        # no style given: the trace keeps its colour
    assert log.flush(timeout=10)
    curves = traces(viz, "lg_style", "pass")
    assert curves["p(pass)"]["line"] == {"color": "#1f77b4", "dash": "solid"}
    assert curves["threshold"]["line"] == {"color": "#ff0000", "dash": "dash"}
    assert curves["threshold"]["y"] == [0.5] * 5
    loss = traces(viz, "lg_style", "loss")
    assert loss["train"]["line"] == {"color": "#008000"} and loss["train"]["y"] == [1.0, 0.8]
    assert loss["target"]["line"] == {"color": "#008000", "dash": "dot"}


def test_image_grid_text_figure_and_line_arrive(open_logger, viz):
    log = open_logger("lg_panes")
    images = torch.rand(10, 1, 28, 28)
    labels, preds = list(range(10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 0]
    log.images("samples", images, labels=labels, preds=preds, nrow=5, title="test samples")
    log.text("hparams", "<b>lr</b> 0.1")
    bars = [{"type": "bar", "x": ["a", "b"], "y": np.array([1.5, 2.5])}]
    log.figure("bars", bars, {"title": "counts", "barmode": "group"})
    log.line("curve", [0, 1, 2], {"up": [1, 2, 3], "down": torch.tensor([3.0, 2.0, 1.0])})
    assert log.flush(timeout=20)

    pane = window(viz, "lg_panes", "samples")
    assert pane["type"] == "image" and pane["title"] == "test samples"
    expected = render_grid(images, labels, preds, nrow=5)
    assert np.array_equal(decode_png(pane["content"]["src"]), expected)

    text = window(viz, "lg_panes", "hparams")
    assert text["type"] == "text" and text["content"] == "<b>lr</b> 0.1"

    fig = window(viz, "lg_panes", "bars")
    assert fig["content"]["data"] == [{"type": "bar", "x": ["a", "b"], "y": [1.5, 2.5]}]
    assert fig["content"]["layout"]["barmode"] == "group" and fig["title"] == "counts"

    curves = traces(viz, "lg_panes", "curve")
    assert curves["up"]["x"] == [0, 1, 2] and curves["up"]["y"] == [1, 2, 3]
    assert curves["down"]["y"] == [3.0, 2.0, 1.0]


def native_threads():
    """Threads of this process that are not Python's (an OpenMP pool's): the logger's own helper
    threads (the landing index's writer, say) may come and go."""
    return len(os.listdir("/proc/self/task")) - threading.active_count()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc (Linux)")
def test_images_start_no_thread_pool_competing_with_training(open_logger, viz):
    """A torch op on the sender thread gives it an OpenMP pool of its own; with two pools on two
    cores an MNIST epoch ran 2.4x slower. The grid must arrive without any new thread appearing."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.ones(1 << 20).mul_(2)           # the training thread's own pool is up
        log = open_logger("lg_pool")
        log.scalar("warm", 0, 1.0)
        assert log.flush(timeout=20)          # the sender thread and its connection exist
        before = native_threads()
        images = torch.randn(64, 1, 28, 28, dtype=torch.float16)  # bigger than torch's parallel grain
        log.images("samples", images, labels=list(range(64)), mean=0.1307, std=0.3081)
        assert log.flush(timeout=20)
        assert native_threads() == before
    finally:
        torch.set_num_threads(threads)
    pane = window(viz, "lg_pool", "samples")
    expected = render_grid(images.float(), list(range(64)), mean=0.1307, std=0.3081)
    assert np.array_equal(decode_png(pane["content"]["src"]), expected)


def test_figure_takes_pane_size_and_title(open_logger, viz):
    log = open_logger("lg_figsize")
    contour = [{"type": "contour", "z": [[1.0, 2.0], [3.0, 4.0]], "x": [-1, 1], "y": [-1, 1]}]
    log.figure("contour", contour, {"title": "f(x, y)"}, width=600, height=500, title="Himmelblau")
    log.figure("plain", [{"type": "bar", "y": [1]}], {"title": "from layout"})
    assert log.flush(timeout=10)
    pane = window(viz, "lg_figsize", "contour")
    assert (pane["width"], pane["height"], pane["title"]) == (600, 500, "Himmelblau")
    assert pane["content"]["data"] == contour and pane["content"]["layout"]["title"] == "f(x, y)"
    assert window(viz, "lg_figsize", "plain")["title"] == "from layout"
    with pytest.raises(ValueError, match="xlabel"):
        log.figure("contour", contour, xlabel="x")   # pane opts only; axis titles go in layout


def test_line_then_appends_continue_the_curve(open_logger, viz):
    log = open_logger("lg_line_append")
    log.line("curve", [0, 1], {"a": [5.0, 6.0]})
    assert log.flush(timeout=10)
    log.scalar("curve", 2, 7.0, trace="a")
    assert log.flush(timeout=10)
    assert traces(viz, "lg_line_append", "curve")["a"]["y"] == [5.0, 6.0, 7.0]


def test_long_trace_is_decimated_keeping_extremes_while_journal_keeps_all(open_logger, viz, tmp_path):
    log = open_logger("lg_decimate", max_points=100)
    ys = [float(np.sin(i / 50.0)) for i in range(2000)]
    ys[777], ys[1500] = 50.0, -50.0   # a spike each way must stay visible
    for i, y in enumerate(ys):
        log.scalar("long", i, y, trace="t")
    assert log.flush(timeout=20)
    shown = traces(viz, "lg_decimate", "long")["t"]
    assert len(shown["x"]) <= 100
    assert shown["x"] == sorted(shown["x"]) and shown["x"][-1] == 1999
    assert 50.0 in shown["y"] and -50.0 in shown["y"]
    assert log.stats["decimated"] == {("long", "t"): (2000, len(shown["x"]))}
    records = [r for r in journal_mod.read(log.journal_path) if r["op"] == "scalars"]
    assert [r["y"]["t"] for r in records] == ys


def test_one_request_per_window_per_flush_not_per_point(open_logger, viz, monkeypatch):
    from vizlab import connection

    posts = []   # one endpoint per window sent, alone or in a batch
    real_post, real_batch = connection.Connection.post, connection.Connection.post_batch
    monkeypatch.setattr(connection.Connection, "post",
                        lambda self, endpoint, msg: posts.append(endpoint) or real_post(self, endpoint, msg))
    monkeypatch.setattr(connection.Connection, "post_batch",
                        lambda self, items: posts.extend(e for e, _ in items) or real_batch(self, items))
    log = open_logger("lg_coalesce", interval=60, status=False)  # the sender only runs when flushed
    log.scalar("a", 0, 0.0)
    assert log.flush(timeout=10)
    posts.clear()
    for step in range(1, 500):
        log.scalars("a", step, {"x": step, "y": -step})
        log.scalar("b", step, step)
    assert log.flush(timeout=10)
    # a window goes once per round, not per point: one append to "a", one create of "b", or a
    # round more when the journal thread took the 998 calls in two batches (a busy machine)
    sends = [p for p in posts if p not in ("win_exists", "win_data")]
    assert 2 <= len(sends) <= 6, sends
    assert traces(viz, "lg_coalesce", "b")["value"]["x"] == list(range(1, 500))


def test_journal_path_printed_once_and_default_under_runs(visdom_server, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    with VisdomLogger(env="lg_journal", port=visdom_server.port) as log:
        log.scalar("a", 0, 1.0)
        assert log.flush(timeout=10)
    err = capfd.readouterr().err
    assert err.count("journal:") == 1
    assert os.path.dirname(log.journal_path) == str(tmp_path / "runs")
    ops = [r["op"] for r in journal_mod.read(log.journal_path)]
    assert ops == ["start", "status", "scalars", "status"]   # the status pane: begin, the end


def test_send_false_writes_the_journal_and_never_contacts_a_server(tmp_path, monkeypatch):
    import requests

    monkeypatch.setattr(requests.Session, "post", lambda *a, **k: pytest.fail("contacted a server"))
    path = tmp_path / "offline.jsonl"
    with VisdomLogger(env="offline", port=1, journal=str(path), send=False) as log:
        log.scalar("a", 0, 1.0)
        log.text("t", "hi")
        assert log.flush(timeout=5)
    assert [r["op"] for r in journal_mod.read(path)] == ["start", "status", "scalars", "text", "status"]


def test_journal_false_writes_nothing(open_logger, viz, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = open_logger("lg_nojournal", journal=False)
    log.scalar("a", 0, 1.0)
    assert log.flush(timeout=10)
    assert log.journal_path is None and not (tmp_path / "runs").exists()
    assert traces(viz, "lg_nojournal", "a")["value"]["y"] == [1.0]


def test_login_with_credentials_from_the_environment(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("VISDOM_USERNAME", "alice")
    monkeypatch.setenv("VISDOM_PASSWORD", "s3cret-pw")
    monkeypatch.setenv("VISDOM_COOKIE", "vizlab-test-cookie-secret")
    with VisdomServer(env_path=tmp_path / "env", login=True, log_path=tmp_path / "srv.log") as srv:
        with VisdomLogger(env="lg_auth", port=srv.port, journal=str(tmp_path / "a.jsonl")) as log:
            log.scalar("a", 0, 1.0)
            assert log.flush(timeout=10)
        reader = Visdom(port=srv.port, username="alice", password="s3cret-pw",
                        raise_exceptions=True, use_incoming_socket=False)
        assert traces(reader, "lg_auth", "a")["value"]["y"] == [1.0]
        # Without credentials the logger keeps the points and says why, once.
        monkeypatch.delenv("VISDOM_USERNAME")
        monkeypatch.delenv("VISDOM_PASSWORD")
        log = VisdomLogger(env="lg_auth", port=srv.port, journal=str(tmp_path / "b.jsonl"),
                           close_timeout=1)
        log.scalar("a", 1, 2.0)
        assert not log.flush(timeout=2)
        log.close()
        assert capfd.readouterr().err.count("requires a login: set VISDOM_USERNAME") == 1
    assert "s3cret-pw" not in (tmp_path / "a.jsonl").read_text() + (tmp_path / "b.jsonl").read_text()


def _distributed_worker(rank, world, init_file, port, all_ranks, journal_dir):
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}",
                                         rank=rank, world_size=world)
    with VisdomLogger(env="lg_dist" + str(all_ranks), port=port, all_ranks=all_ranks,
                      journal=os.path.join(journal_dir, f"r{rank}.jsonl")) as log:
        log.scalar(f"rank{rank}", 0, float(rank))
        log.flush(timeout=10)
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


@pytest.mark.parametrize("all_ranks", [False, True])
def test_distributed_only_rank_zero_logs_unless_all_ranks(visdom_server, viz, tmp_path, all_ranks):
    torch.multiprocessing.spawn(_distributed_worker, nprocs=2, join=True,
                                args=(2, str(tmp_path / "init"), visdom_server.port, all_ranks,
                                      str(tmp_path)))
    env = "lg_dist" + str(all_ranks)
    assert traces(viz, env, "rank0")["value"]["y"] == [0.0]
    assert viz.win_exists("rank1", env=env) is all_ranks
    assert (tmp_path / "r1.jsonl").exists() is all_ranks


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_values_do_not_synchronize_the_calling_thread(open_logger, viz):
    log = open_logger("lg_cuda", interval=60)     # the sender stays asleep until flush()
    loss = torch.tensor(0.25, device="cuda") * 2
    torch.cuda.set_sync_debug_mode("error")       # any device sync on this thread raises
    try:
        log.scalar("cuda", 0, loss)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert log.flush(timeout=10)
    assert traces(viz, "lg_cuda", "cuda")["value"]["y"] == [0.5]
