"""Converter.records batches option-free scalar calls per (window, traces) until the next other
call; the one-trace calls take a shortcut (the batch the last call went to). What it makes must be
what the plain rule makes, whatever the mix of windows, traces, equal names in other string
objects, multi-trace calls and other calls between them."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from vizlab.logger.records import Converter


def plain_rule(events):
    out, batches = [], {}
    for event in events:
        if event[0] == "scalars" and not event[4]:
            _, win, x, values, _ = event
            key = (win, *values)
            if key not in batches:
                batches[key] = {"op": "points", "win": win, "x": [], "y": {t: [] for t in values}}
                out.append(batches[key])
            batches[key]["x"].append(x)
            for t, v in values.items():
                batches[key]["y"][t].append(v)
            continue
        batches.clear()
        out.append({"op": "text", "win": event[1], "html": event[2]})
    for record in out:
        if record["op"] == "points" and len(record["x"]) == 1:
            record.update(op="scalars", x=record["x"][0], y={t: v[0] for t, v in record["y"].items()})
    return out


def fresh(name):
    return "".join(list(name))   # an equal string, another object


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 300))
def test_batches_follow_the_plain_rule(seed, n):
    rnd = random.Random(seed)
    events = []
    for i in range(n):
        win = rnd.choice(["loss", "acc", fresh("loss")])
        kind = rnd.random()
        if kind < 0.6:
            events.append(("scalars", win, i, {rnd.choice(["value", fresh("value"), "val"]): rnd.random()}, {}))
        elif kind < 0.8:
            events.append(("scalars", win, float(i), {"a": i, "b": rnd.random()}, {}))
        elif kind < 0.9:
            events.append(("scalars", win, i, {"b": 1.5, "a": 2}, {}))
        else:
            events.append(("text", win, f"<p>{i}</p>", {}))
    assert Converter(lambda *a, **k: None).records(events) == plain_rule(events)


def test_a_bad_value_drops_its_call_alone():
    reports = []
    events = [("scalars", "loss", 0, {"value": 1.0}, {}), ("scalars", "loss", 1, {"value": object()}, {}),
              ("scalars", "loss", 2, {"value": 3.0}, {})]
    records = Converter(lambda key, message, **k: reports.append(key)).records(events)
    assert records == [{"op": "points", "win": "loss", "x": [0, 2], "y": {"value": [1.0, 3.0]}}]
    assert len(reports) == 1
