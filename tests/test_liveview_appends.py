"""Decimated windows are kept up to date by appends: the sender against a fake Visdom, the model
alone at 10^3 to 10^7 points. The real server's side is in test_liveview_server.py."""

import json
import math
import random
import sys
import threading

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from vizlab.logger import sender as sender_mod
from vizlab.connection import ServerRefused
from vizlab.logger.notices import Notices
from vizlab.logger.sender import Delivery, Sender
from vizlab.windows import Trace, Windows


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeVisdom:
    """What Visdom does with vizlab's requests: /events sets a window, /update appends to each
    trace in order (refused for a window it lacks), /win_exists. Each post costs `cost` on `clock`."""

    url = "http://fake:1"

    def __init__(self, clock, cost=0.001):
        self.clock, self.cost = clock, cost
        self.windows = {}            # win -> [[name, xs, ys], ...]
        self.posts = []              # (endpoint, win) in order

    def post(self, endpoint, message):
        self.clock.now += self.cost
        return self._apply(endpoint, message)

    def _apply(self, endpoint, message):
        message = json.loads(json.dumps(message))   # what goes over the wire
        win = message["win"]
        self.posts.append((endpoint, win))
        if endpoint == "win_exists":
            return "true" if win in self.windows else "false"
        if endpoint == "events":
            self.windows[win] = [[d.get("name"), d.get("x"), d.get("y")] for d in message["data"]]
            return win
        if win not in self.windows:
            raise ServerRefused(f"{self.url}/update answered HTTP 500", 500)
        for trace, data in zip(self.windows[win], message["data"]):
            trace[1] = trace[1] + data["x"]
            trace[2] = trace[2] + data["y"]
        return win

    def takes_batches(self):
        return False             # stock Visdom: one window per request

    def count(self, endpoint, win=None):
        return sum(1 for e, w in self.posts if e == endpoint and win in (None, w))


class BatchingFakeVisdom(FakeVisdom):
    """vizlab's server: /vizlab/batch takes many windows in one request (one `cost`), answering
    each as its own request would; `fail_next` makes the next batch of sends fail as a whole."""

    def __init__(self, clock, cost=0.001):
        super().__init__(clock, cost)
        self.batches, self.fail_next = [], False

    def takes_batches(self):
        return True

    def post_batch(self, items):
        self.clock.now += self.cost
        if self.fail_next and any(endpoint != "win_exists" for endpoint, _ in items):
            self.fail_next = False
            raise requests.ConnectionError("connection reset mid-batch")
        self.batches.append(len(items))
        replies = []
        for endpoint, message in items:
            try:
                replies.append((200, self._apply(endpoint, message)))
            except ServerRefused as err:
                replies.append((err.status, str(err)))
        return replies


class FakeJournalThread:
    """The parts of the journal thread the sender uses."""

    def __init__(self):
        self.written, self.on_written, self.started = 0, None, True
        self.journal = None

    def wake(self):
        pass

    def is_alive(self):
        return True


def fake_sender(model, cost=0.001, server_class=FakeVisdom):
    clock = Clock()
    server = server_class(clock, cost)
    sender = Sender(model, threading.Lock(), FakeJournalThread(), server, Notices(), clock=clock)
    return sender, server, clock


def one_round(sender, clock, gap=10.0):
    """One sender round, long enough after the last that pacing lets it send."""
    clock.now += gap
    sender._cycle()


def server_points(server, win):
    return {name: (xs, ys) for name, xs, ys in server.windows[win]}


def model_points(model, win):
    return {name: t.shown() for name, t in model.windows[win].traces.items()}


def log_points(model, win, trace, xs, ys):
    model.apply({"op": "points", "win": win, "x": xs, "y": {trace: ys}})


@settings(max_examples=40, deadline=None)
@given(max_points=st.integers(10, 400), chunks=st.lists(st.integers(1, 600), min_size=1, max_size=40),
       step=st.sampled_from([1, 0.25, 7]), restart_at=st.integers(0, 45), seed=st.integers(0, 10**6))
def test_the_server_window_equals_the_model_after_every_round(max_points, chunks, step, restart_at, seed):
    """Random lengths and strides, gaps, a second trace that gets points every other round, and a
    server that restarts empty once: after every round the server shows what the model shows."""
    rng = random.Random(seed)
    model = Windows("e", max_points)
    sender, server, clock = fake_sender(model)
    x = 0
    for n, size in enumerate(chunks):
        xs = [x + i * step for i in range(size)]
        x += size * step
        log_points(model, "w", "a", xs, [rng.choice([rng.random(), math.nan]) for _ in xs])
        if n % 2:
            log_points(model, "w", "b", xs[::3], [rng.random() for _ in xs[::3]])
        if n == restart_at:
            server.windows.clear()       # restarted empty: the next append is refused
        one_round(sender, clock)
        assert server_points(server, "w") == model_points(model, "w")
        assert all(len(t.shown()[0]) <= max_points for t in model.windows["w"].traces.values())


def feed_in_rounds(n, max_points, per_round, seed=0):
    """One trace of n points, a sender round every `per_round` points: (model, server, trace)."""
    rng = random.Random(seed)
    model = Windows("e", max_points)
    sender, server, clock = fake_sender(model)
    for start in range(0, n, per_round):
        xs = list(range(start, min(n, start + per_round)))
        log_points(model, "w", "t", xs, [rng.random() for _ in xs])
        one_round(sender, clock)
    return model, server, model.windows["w"].traces["t"]


@pytest.mark.parametrize("n", [20_000, 200_000])
def test_a_fast_loop_sends_a_window_whole_only_when_the_stride_doubles(n):
    """Many points per round (the usual training loop): one whole send to create the window,
    then whole sends exactly at the stride's doublings (about log2(n / max_points)), the rest
    appends."""
    model, server, trace = feed_in_rounds(n, 1_000, 700)
    assert server_points(server, "w") == model_points(model, "w")
    wholes = server.count("events", "w")
    assert wholes == 1 + trace.rebuilds == model.requests["whole"]
    assert trace.rebuilds <= trace.doublings + 1      # + the first: from every point to buckets
    assert trace.doublings <= math.log2(n / 1_000) + 2
    assert server.count("update", "w") == model.requests["append"] == math.ceil(n / 700) - wholes


def test_a_slow_loop_rebuilds_only_after_half_a_window_of_appends():
    """A round every 3 points: each round adds up to 3 points (the open segment's min, max and
    last), so the log fills before the buckets need a doubling; it is rebuilt (a whole send) at
    most once per max_points/2 appended points."""
    n, max_points = 60_000, 200
    model, server, trace = feed_in_rounds(n, max_points, 3)
    assert server_points(server, "w") == model_points(model, "w")
    appended = sum(1 for _ in range(0, n - max_points, 3)) * 3
    # + 1: the whole send that turns the markers off once the trace passes SPARSE_POINTS
    assert server.count("events", "w") == 1 + 1 + trace.rebuilds
    assert trace.rebuilds <= 1 + trace.doublings + appended / (max_points // 2 - 4)
    assert server.count("update", "w") > 20 * server.count("events", "w")


def test_an_x_before_the_latest_rebuilds_and_the_server_follows():
    model = Windows("e", 50)
    sender, server, clock = fake_sender(model)
    log_points(model, "w", "t", list(range(500)), [float(i % 7) for i in range(500)])
    one_round(sender, clock)
    log_points(model, "w", "t", [3], [-99.0])          # from the past: lands in an old bucket
    one_round(sender, clock)
    assert server_points(server, "w") == model_points(model, "w")
    assert (3, -99.0) in zip(*model_points(model, "w")["t"])


def test_settle_gives_the_form_a_replay_gives():
    """At close the live windows are rebuilt from their buckets, so `vizlab replay` of the
    journal (which never sent mid-run) shows exactly the same."""
    live, replayed = Windows("e", 100), Windows("e", 100)
    sender, server, clock = fake_sender(live)
    for start in range(0, 3_000, 7):
        xs = list(range(start, start + 7))
        for model in (live, replayed):
            log_points(model, "w", "t", xs, [math.sin(x) for x in xs])
        one_round(sender, clock)
    assert server_points(server, "w") != model_points(replayed, "w")   # pieces sealed at sends
    sender.writer.is_alive = lambda: False                           # close: the journal ended
    one_round(sender, clock)
    assert server_points(server, "w") == model_points(replayed, "w") == model_points(live, "w")


def check_model_at(n, max_points, per_send, spikes):
    """A trace of n points, taken for a send every `per_send` points, replayed onto a list the
    way the server applies it; the view covers the run, keeps the spikes and equals the list."""
    rng = random.Random(n)
    trace, server, rebuilds = Trace(max_points), [], 0
    spike_at = dict(spikes)
    for start in range(0, n, per_send):
        xs = list(range(start, min(n, start + per_send)))
        trace.extend(xs, [spike_at.get(x, rng.random()) for x in xs])
        if trace.rebuilds != rebuilds or not trace.decimated:
            trace.take_new()
            server, rebuilds = list(zip(*trace.shown())), trace.rebuilds
        else:
            server += zip(*trace.take_new())
    xs, ys = trace.shown()
    assert server == list(zip(xs, ys))
    assert len(xs) <= max_points and xs == sorted(xs) and xs[-1] == n - 1
    tenths = [0] * 10
    for x in xs:
        tenths[min(9, x * 10 // n)] += 1
    assert min(tenths) >= 0.05 * len(xs), tenths
    assert all(p in set(zip(xs, ys)) for p in spikes)
    assert trace.logged == n
    return trace


def spikes_in(n, count, seed):
    rng = random.Random(seed)
    stretch = n // count
    return [(k * stretch + rng.randrange(stretch), 1000.0 if k % 2 else -1000.0) for k in range(count)]


@pytest.mark.parametrize("n, per_send", [(10**3, 7), (10**4, 50), (10**5, 750), (10**6, 750)])
def test_the_model_at_any_length(n, per_send):
    trace = check_model_at(n, 1_000 if n < 10**5 else 10_000, per_send, spikes_in(n, 10, n))
    assert trace.decimated == (n > (1_000 if n < 10**5 else 10_000))


@pytest.mark.slow
def test_the_model_at_ten_million_points():
    trace = check_model_at(10**7, 10_000, 3_000, spikes_in(10**7, 20, 7))
    assert trace.doublings <= math.log2(10**7 / 10_000) + 2


def test_with_a_thousand_windows_every_changed_window_is_sent_within_a_few_rounds():
    """1,000 windows changing every round and each request taking 2 ms: a round sends what fits in
    SLICE, the longest-unsent first, and no round waits more than MAX_WAIT after the last; so
    every window is sent within ceil(1000 x 2 ms / SLICE) + 1 rounds, a few seconds."""
    model = Windows("e", 10_000)
    sender, server, clock = fake_sender(model, cost=0.002)
    rounds_since = {}
    for n in range(40):
        for w in range(1_000):
            log_points(model, f"w{w}", "t", [n], [float(n)])
        before = len(server.posts)
        clock.now = max(clock.now + sender.interval, sender.state.next_send)   # when it may send
        sender._cycle()
        sent = {w for e, w in server.posts[before:] if e != "win_exists"}
        for w in range(1_000):
            rounds_since[f"w{w}"] = 0 if f"w{w}" in sent else rounds_since.get(f"w{w}", 0) + 1
        assert max(rounds_since.values()) <= math.ceil(1_000 * 0.002 / sender_mod.SLICE) + 1
    assert sender.state.next_send - clock.now <= sender_mod.MAX_WAIT


def test_a_server_that_takes_batches_gets_every_window_every_round_in_a_few_requests():
    """1,000 windows changing every round, each request costing 2 ms: through the batch endpoint
    every window goes out every round, in ceil(1000 / BATCH) requests, and the server ends equal
    to the model; the server is asked once whether it takes batches."""
    model = Windows("e", 10_000)
    sender, server, clock = fake_sender(model, cost=0.002, server_class=BatchingFakeVisdom)
    for n in range(10):
        for w in range(1_000):
            log_points(model, f"w{w}", "t", [n], [float(n)])
        batches = len(server.batches)
        clock.now = max(clock.now + sender.interval, sender.state.next_send)
        sender._cycle()
        assert len(server.batches) - batches == math.ceil(1_000 / sender_mod.BATCH)
        assert model.changed() == []
    assert all(server_points(server, f"w{w}") == model_points(model, f"w{w}") for w in range(1_000))
    assert server.count("update") + server.count("events") == 10 * 1_000
    assert sender._batches is True


def test_a_batch_that_fails_whole_is_sent_again_whole():
    """Decimated windows (max_points 50); three batches of appends fail as a whole: every window
    in them is to be sent whole, and the server ends equal to the model."""
    model = Windows("e", 50)
    sender, server, clock = fake_sender(model, server_class=BatchingFakeVisdom)
    failures = 0
    for n in range(0, 300, 3):
        for w in range(5):
            log_points(model, f"w{w}", "t", [n, n + 1, n + 2], [float(n), None, float(w)])
        fail = n in (30, 93, 150) and all(model.windows[f"w{w}"].on_server for w in range(5))
        server.fail_next = fail
        one_round(sender, clock)
        if fail:
            failures += 1
            assert not any(model.windows[f"w{w}"].on_server for w in range(5))
    one_round(sender, clock)
    assert failures == 3 and model.changed() == []
    assert all(server_points(server, f"w{w}") == model_points(model, f"w{w}") for w in range(5))


def test_an_append_refused_inside_a_batch_rebuilds_that_window():
    """The server lost one window (restarted, or it was closed): its append is refused inside the
    batch, the others are delivered, and the next check sends the lost one whole."""
    model = Windows("e", 10_000)
    sender, server, clock = fake_sender(model, server_class=BatchingFakeVisdom)
    for n in range(6):
        for w in range(3):
            log_points(model, f"w{w}", "t", [n], [float(n)])
        if n == 3:
            del server.windows["w1"]
        one_round(sender, clock)
    assert all(server_points(server, f"w{w}") == model_points(model, f"w{w}") for w in range(3))
    assert server.count("events", "w1") == 2 and server.count("events", "w0") == 1


def test_a_window_with_many_points_is_updated_less_often_unless_a_caller_waits():
    """Rounds every 0.25 s, one new point per window per round for 20 s: a window of 10,000
    points goes out at most every MAX_PAUSE seconds, a small one every round; flush() gets both."""
    model = Windows("e", 20_000)
    sender, server, clock = fake_sender(model)
    log_points(model, "big", "t", list(range(10_000)), [0.5] * 10_000)
    log_points(model, "small", "t", [0], [0.5])
    for n in range(1, 81):
        log_points(model, "big", "t", [10_000 + n], [1.0])
        log_points(model, "small", "t", [n], [1.0])
        clock.now = max(clock.now + 0.25, sender.state.next_send)
        sender._cycle()
    assert min(sender_mod.MAX_PAUSE, 10_000 / sender_mod.REDRAW_RATE) == sender_mod.MAX_PAUSE == 0.75
    assert server.count("update", "small") + server.count("events", "small") == 80
    assert server.count("update", "big") + server.count("events", "big") <= 20 / 0.75 + 1
    assert "big" in model.changed()
    sender.state.add_waiter()        # what flush() does: every changed window goes now
    clock.now += 0.25
    sender._cycle()
    sender.state.remove_waiter()
    assert model.changed() == []
    assert server_points(server, "big") == model_points(model, "big")


def test_new_windows_go_out_in_the_order_they_were_made_then_the_longest_unsent_first():
    model = Windows("e", 100)
    for name in ("zeta", "alpha", "mid"):
        log_points(model, name, "t", [0], [1.0])
    assert model.changed() == ["zeta", "alpha", "mid"]       # the page's order
    for name in model.changed()[:2]:
        model.delivered(name, model.request(name)[2])
    for name in ("zeta", "alpha", "mid"):
        log_points(model, name, "t", [1], [2.0])
    assert model.changed() == ["mid", "zeta", "alpha"]       # mid never went out


def test_delivery_counts_every_ask_from_many_threads():
    """verify_asked and next_try are changed by callers and the sender thread at once: with its
    own lock no ask is lost, and a backoff set while a caller waits stays short."""
    state = Delivery(verify_every=10.0)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        def caller():
            for _ in range(5_000):
                state.add_waiter()
                state.remove_waiter()

        def sender_thread():
            for i in range(5_000):
                state.ask_check()
                state.failed_round(float(i))

        threads = [threading.Thread(target=f) for f in (caller, caller, sender_thread, sender_thread)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert state.verify_asked == 4 * 5_000 + 1     # + the first failed round (it may come back empty)
    assert state.waiters == 0
    state.add_waiter()
    state.failed_round(100.0)
    assert state.next_try <= 100.5                 # a waiting caller: at most 0.5 s of backoff
    state.remove_waiter()
    state.failed_round(200.0)
    assert state.next_try == 205.0                 # nobody waits: the full backoff
