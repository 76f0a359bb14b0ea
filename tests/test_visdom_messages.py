"""vizlab.Visdom's message logic against Visdom's own client code (no server).

The hot call, line(update='append'), is built without Visdom's general path: each case here
must give exactly the message Visdom's client builds. Folding two appends must give the window
the server makes of the two (checked in test_visdom_client.py against a real server)."""

import json

import numpy as np
import pytest
import torch
import visdom

from vizlab.integrations import visdom_messages as messages


class Capture(visdom.Visdom):
    """Visdom's client with its post replaced by a record of what it would send."""

    def __init__(self):
        self.sent, self.exists = [], True
        super().__init__(use_incoming_socket=False)
        self.sent.clear()

    def _send(self, msg, endpoint="events", quiet=False, from_log=False, create=True):
        self.sent.append((endpoint, json.loads(json.dumps(msg))))
        return msg.get("win")

    def win_exists(self, win, env=None):
        return self.exists


CASES = [
    dict(Y=[0.5], X=[3]),
    dict(Y=np.array([0.5]), X=np.array([3])),
    dict(Y=np.array([1, 2]), X=np.array([3, 4])),
    dict(Y=np.array([0.5], dtype=np.float32), X=np.array([7])),
    dict(Y=torch.tensor([0.1]), X=torch.ones(1) * 5),
    dict(Y=torch.Tensor([0.1, 0.2, 0.3]).unsqueeze(0), X=torch.ones((1, 3)) * 9),   # ssd.pytorch
    dict(Y=np.array([[0.1, 0.2]]), X=np.array([4]), opts=dict(legend=["a", "b"])),
    dict(Y=np.array([float("nan"), 1.0]), X=np.array([1, 2])),
    dict(Y=np.array([0.3]), X=np.array([2]), name="val"),
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(title="loss", xlabel="it")),
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(title=5)),
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(markers=True, fillarea=True, webgl=True)),
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(markersize=4, markersymbol="cross")),
    dict(Y=np.array([[0.3]]), X=np.array([[2]]), name="one"),
    dict(Y=np.array([0.3]), X=np.array([2.5]), env="other"),
]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_line_append_is_visdoms_message(case):
    stock = Capture()
    args = dict(case)
    opts_a = args.pop("opts", None)
    opts_b = None if opts_a is None else dict(opts_a)
    stock.line(win="w", update="append", opts=opts_a, **args)
    (endpoint, expected), = stock.sent
    built = messages.line_append(args["Y"], args["X"], "w", args.get("env"), opts_b, args.get("name"))
    assert endpoint == "update"
    assert json.loads(json.dumps(built)) == expected
    assert opts_a == opts_b   # the caller's dict is filled in as Visdom fills it


def test_reused_opts_dict_gives_the_same_message():
    stock, opts_a, opts_b = Capture(), dict(title="t"), dict(title="t")
    for i in range(2):
        stock.line(Y=np.array([i]), X=np.array([i]), win="w", update="append", opts=opts_a)
        built = messages.line_append(np.array([i]), np.array([i]), "w", None, opts_b, None)
        assert json.loads(json.dumps(built)) == stock.sent[-1][1]


@pytest.mark.parametrize("case", [
    dict(Y=np.array([0.3]), X=None),                                   # Visdom asserts
    dict(Y=np.array([[0.1, 0.2]]), X=np.array([1]), name="n"),         # Visdom asserts
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(linecolor=np.array([[0, 0, 255]]))),
    dict(Y=np.array([0.3]), X=np.array([2]), opts=dict(legend=[])),    # Visdom raises
    dict(Y=np.array([]), X=np.array([])),
])
def test_line_append_leaves_the_rest_to_visdom(case):
    assert messages.line_append(case["Y"], case["X"], "w", None, case.get("opts"),
                                case.get("name")) is None


def test_kinds_and_replies():
    assert messages.kind("update", {"win": "w"}) == messages.WINDOW
    assert messages.kind("close", {"win": None}) == messages.ENV
    assert messages.kind("close", {"win": "w"}) == messages.WINDOW
    assert messages.kind("win_data", {"win": "w"}) == messages.READ
    assert messages.kind("win_data", {"win": "w", "data": "{}"}) == messages.WINDOW
    assert messages.kind("env/main", {"eid": "main"}) == messages.ENV
    assert messages.kind("win_exists", {"win": "w"}) == messages.READ
    assert messages.reply("events", {"win": 3}) == "3"
    assert messages.reply("save", {"data": ["a"]}) == '["a"]'


def test_created_is_visdoms_message_for_a_missing_window():
    """An append to a window the server lacks: Visdom's client sends the update=None message."""
    stock = Capture()
    stock.exists = False
    stock.line(Y=np.array([0.3, 0.4]), X=np.array([1, 2]), win="w", update="append",
               opts=dict(title="t"))
    (endpoint, expected), = stock.sent
    append = messages.line_append(np.array([0.3, 0.4]), np.array([1, 2]), "w", None,
                                  dict(title="t"), None)
    assert messages.created(json.loads(json.dumps(append))) == (endpoint, expected)


def test_merge_folds_appends_and_text_only():
    a = messages.line_append(np.array([1.0]), np.array([1]), "w", "main", None, None)
    b = messages.line_append(np.array([2.0]), np.array([2]), "w", "main", None, None)
    merged = messages.merge(a, b)
    assert merged["data"][0]["x"] == [1.0, 2.0] and merged["data"][0]["y"] == [1.0, 2.0]
    assert a["data"][0]["x"] == [1.0]   # the inputs are not changed
    titled = messages.line_append(np.array([2.0]), np.array([2]), "w", "main", dict(title="t"), None)
    assert messages.merge(a, titled) is None
    gap = messages.line_append(np.array([2.0]), np.array([float("nan")]), "w", "main", None, None)
    assert messages.merge(a, gap) is None
    assert messages.merge(dict(a, win=3), dict(b, win=3)) is None   # integer ids: Visdom replaces
    ta = {"data": [{"content": "a", "type": "text"}], "win": "t", "eid": "main", "opts": {}}
    tb = {"data": [{"content": "b", "type": "text"}], "win": "t", "eid": "main", "opts": {}}
    assert messages.merge(ta, tb)["data"][0]["content"] == "a<br>b"
