"""Property tests: any mix of numbers arrives exactly (non-finite as gaps); any image shape is
either rendered or refused with ValueError/TypeError at the call site."""

import json
import math
import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from visdom import Visdom

from vizlab import VisdomLogger
from support.grids import render_grid
from vizlab.logger.render import PADDING, grid_plan

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

RUN = itertools.count()

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)
as_kind = st.sampled_from(["float", "int", "np32", "np64", "tensor"])


def convert(value, kind):
    if kind == "int":
        return int(value) if math.isfinite(value) and abs(value) < 2 ** 53 else value
    if kind == "np32":
        with np.errstate(over="ignore"):   # huge floats become inf on purpose: a gap to count
            return np.float32(value)
    if kind == "np64":
        return np.float64(value)
    if kind == "tensor":
        return torch.tensor(value, dtype=torch.float64)
    return value


def shown(value):
    value = float(value) if not isinstance(value, int) else value
    return value if math.isfinite(value) else None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.lists(st.tuples(st.sampled_from(["a", "b", "c d"]), finite_or_not, as_kind),
                       min_size=1, max_size=40))
def test_any_numbers_arrive_exactly_with_gaps_for_non_finite(visdom_server, tmp_path, points):
    env = f"prop_values_{next(RUN)}"
    expected = {}
    with VisdomLogger(env=env, port=visdom_server.port, journal=False) as log:
        for step, (trace, value, kind) in enumerate(points):
            value = convert(value, kind)
            log.scalar("w", step, value, trace=trace)
            y = value.item() if isinstance(value, (torch.Tensor, np.generic)) else value
            expected.setdefault(trace, ([], []))
            expected[trace][0].append(step)
            expected[trace][1].append(shown(y))
        assert log.flush(timeout=20)
        assert log.stats["nonfinite"] == sum(v is None for _, ys in expected.values() for v in ys)
    viz = Visdom(port=visdom_server.port, raise_exceptions=True, use_incoming_socket=False)
    got = {t["name"]: (t["x"], t["y"]) for t in json.loads(viz.get_window_data("w", env=env))["content"]["data"]}
    assert got == expected




@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=5),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.uint8, torch.int64, torch.bool]),
       nrow=st.integers(min_value=1, max_value=9))
def test_any_image_shape_is_rendered_or_refused_clearly(shape, dtype, nrow):
    images = torch.zeros(shape, dtype=dtype)
    log = VisdomLogger(env="prop_images", journal=False, send=False)
    try:
        log.images("img", images, labels=list(range(shape[0])), nrow=nrow)
    except (ValueError, TypeError) as err:
        assert any(word in str(err) for word in ("images", "labels"))
        valid = False
    else:
        valid = True
    finally:
        log.close()
    ok_shape = len(shape) == 4 and shape[1] in (1, 3) and 0 not in shape
    ok_dtype = dtype in (torch.float32, torch.float64, torch.uint8)
    assert valid == (ok_shape and ok_dtype)
    if valid:
        n, _, h, w = shape
        grid = render_grid(images, labels=list(range(n)), nrow=nrow)
        shown, tile_h, tile_w, cols = grid_plan(n, h, w, nrow)   # the upscale, bounded in pixels
        rows = math.ceil(n / cols)
        assert shown == n and tile_h // h == tile_w // w >= 1
        assert grid.shape == (rows * (tile_h + PADDING) + PADDING, cols * (tile_w + PADDING) + PADDING, 3)
