import json

from vizlab import VisdomLogger

import pytest  # noqa: E402
pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def test_scalar_reaches_server(visdom_server, viz):
    with VisdomLogger(env="smoke", port=visdom_server.port) as log:
        log.scalar("loss", 0, 1.5, trace="train")
        log.scalar("loss", 1, 0.5, trace="train")
        assert log.flush(timeout=10)
    data = json.loads(viz.get_window_data("loss", env="smoke"))
    (trace,) = data["content"]["data"]
    assert trace["name"] == "train"
    assert trace["x"] == [0, 1] and trace["y"] == [1.5, 0.5]
