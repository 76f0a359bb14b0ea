"""Issue 19: malformed requests, stock Visdom and vizlab's server side by side.

A few thousand requests in classes; after every request both servers must answer the same
status, and after every class every window both servers hold must be the same (the patched
server never drifts from stock). Deterministic (seeded), bounded, marked slow.
"""

import json
import random

import pytest
import requests

from support.servers import nested, stock_server
from vizlab.server.process import VisdomServer

pytestmark = [pytest.mark.server, pytest.mark.slow]
WINDOWS = ("two", "one", "big", "note")


def base_windows(eid):
    """/events bodies of the windows every class starts from, in env `eid`."""
    def line(win, names, n):
        return {"eid": eid, "win": win, "layout": {}, "opts": {},
                "data": [{"x": list(range(n)), "y": [i * 0.5 for i in range(n)], "name": name,
                          "type": "scatter", "mode": "lines"} for name in names]}
    return [line("two", ["a", "b"], 5), line("one", ["a"], 3), line("big", ["a"], 300),
            {"eid": eid, "win": "note", "data": [{"content": "hi", "type": "text"}],
             "layout": {}, "opts": {}}]


def append(eid, win, x, y, name="a", **extra):
    return {"eid": eid, "win": win, "append": True, "name": name,
            "data": [{"x": x, "y": y, "type": "scatter"}], **extra}



def odd_values(rng):
    return rng.choice([None, "s", True, [], {}, [1], {"a": 1}, float("nan"), float("inf"),
                       -float("inf"), 10**400, -0.0, 1e308, "", nested(rng.randint(2, 60), 0.5)])


def classes(eid, rng):
    """{class name: [(endpoint, body bytes)]}; every body aims at env `eid`'s windows."""
    def dumps(obj):
        return json.dumps(obj).encode()
    win = lambda: rng.choice(WINDOWS + ("missing",))  # noqa: E731
    out = {}
    out["not json"] = [(rng.choice(["update", "events", "close", "win_data", "win_exists"]),
                        rng.choice([b"", b"{", b"[1,", b"nul", b"\xff\xfe", b'{"eid":', b"{}" * 3,
                                    bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))]))
                       for _ in range(90)]
    out["wrong types"] = [("update", dumps({"eid": eid, "win": rng.choice([1, None, [], {}, "two"]),
                                            "append": rng.choice([True, 1, "yes", None]),
                                            "data": rng.choice([None, 1, "x", {}, [1], [{}]])}))
                          for _ in range(120)]
    out["odd values"] = [("update", dumps(append(eid, win(), [rng.choice([odd_values(rng), 7])],
                                                 [odd_values(rng)])))
                         for _ in range(150)]
    out["lengths"] = [("update", dumps(append(eid, win(), list(range(10, 10 + rng.randint(0, 5))),
                                              [0.1] * rng.randint(0, 5))))
                      for _ in range(120)]
    out["names"] = [("update", dumps(append(eid, win(), [50 + k], [1.0],
                                            name=rng.choice(["a", "b", "c", None, "", 3, ["a"]]))))
                    for k in range(120)]
    out["all traces"] = [("update", dumps({"eid": eid, "win": win(), "append": True,
                                           "data": [{"x": [60 + k], "y": [2.0], "type": "scatter"}
                                                    for _ in range(rng.randint(0, 3))]}))
                         for k in range(90)]
    out["deep nesting"] = [("update", dumps(append(eid, win(), [70 + k], [nested(rng.choice([5, 100, 500, 900]), 0.5)])))
                           for k in range(36)]
    out["json tokens"] = [("update", ('{"eid": "%s", "win": "%s", "append": true, "name": "a", '
                                      '"data": [{"x": [%s], "y": [%s], "type": "scatter"}]}'
                                      % (eid, win(), rng.choice(["NaN", "Infinity", "1e999", "80"]),
                                         rng.choice(["NaN", "-Infinity", "1e999", "1"]))).encode())
                          for _ in range(90)]
    out["opts and markers"] = [("update", dumps(append(
        eid, win(), [90 + k], [1.0],
        **rng.choice([{"opts": {"title": "t"}}, {"layout": {"title": "u"}}, {"opts": None},
                      {"layout": []}, {"opts": {"legend": ["a"]}}]))))
        for k in range(60)] + [("update", dumps({"eid": eid, "win": win(), "append": True, "name": "a",
                                                  "data": [{"x": [95 + k], "y": [1.0], "type": "scatter",
                                                            "marker": rng.choice([None, {}, {"color": ["red"]},
                                                                                  {"size": 3}, [], "m"])}]}))
                                for k in range(60)]
    out["events"] = [("events", dumps(rng.choice([
        {"eid": eid}, {"eid": eid, "win": "made", "data": []},
        {"eid": eid, "win": "made", "data": [{"x": [1], "y": [1]}], "layout": {}, "opts": {}},
        {"eid": eid, "win": "made", "data": "x", "layout": {}, "opts": {}},
        {"eid": eid, "win": "made", "data": [{"content": 5, "type": "text"}], "layout": {}, "opts": {}},
        {"eid": eid, "win": None, "data": [], "layout": None, "opts": []}])))
        for _ in range(90)]
    out["close and env names"] = [(rng.choice(["close", "win_data", "win_exists"]),
                                   dumps({"eid": rng.choice([eid, "../etc", "", None, 5, eid + "/.."]),
                                          "win": rng.choice(["missing", "one", None, 3])}))
                                  for _ in range(90)]
    return out


def windows(url, eid):
    """Every base window's content as the server holds it (contentID is random per server)."""
    held = {}
    for win in WINDOWS + ("made",):
        reply = requests.post(url + "/win_data", data=json.dumps({"eid": eid, "win": win}))
        if reply.status_code == 200 and reply.text.startswith("{"):
            pane = json.loads(reply.text)
            pane.pop("contentID", None)
            held[win] = pane
        else:
            held[win] = reply.status_code
    return held


def test_malformed_requests_leave_both_servers_alike(tmp_path):
    with stock_server(tmp_path) as stock, VisdomServer(env_path=tmp_path / "env") as ours:
        sessions = {srv.url: requests.Session() for srv in (stock, ours)}
        total, differing = 0, []
        for index, (name, sent) in enumerate(classes("fuzz", random.Random(19)).items()):
            eid = f"fuzz{index}"
            for url, http in sessions.items():
                for body in base_windows(eid):
                    assert http.post(url + "/events", data=json.dumps(body)).status_code == 200
            for endpoint, body in sent:
                body = body.replace(b'"fuzz"', json.dumps(eid).encode())
                statuses = [http.post(f"{url}/{endpoint}", data=body, timeout=60).status_code
                            for url, http in sessions.items()]
                total += 1
                if statuses[0] != statuses[1]:
                    differing.append((name, endpoint, body[:120], statuses))
            assert windows(stock.url, eid) == windows(ours.url, eid), name
        assert total > 1000   # to each server
        assert differing == []
        assert stock.process.poll() is None and ours.process.poll() is None
