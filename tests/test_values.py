"""The values people have, read back from a real server: a matplotlib Figure and a Plotly figure
object to log.figure, images in every dataformats= layout, PIL images and lists of them, text
appended to a pane (live and on replay); wrong shapes get a message naming the fix."""

import base64
import io

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from vizlab import VisdomLogger
from vizlab.cli.replay import replay
from support.windows import window

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the headless backend)


def picture(port, env, win):
    """The image a window shows, as an RGB array."""
    src = window(port, env, win)["content"]["src"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def share(rgb, colour):
    """The fraction of the picture's pixels within 10 of `colour`."""
    return float((np.abs(rgb.astype(int) - colour).max(axis=2) <= 10).mean())


@pytest.fixture
def log(visdom_server, tmp_path, request):
    env = "values_" + request.node.name.removeprefix("test_")[:40]
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        yield log


def test_a_matplotlib_figure_is_shown_as_its_picture(log, visdom_server):
    fig = plt.figure(figsize=(4, 3), dpi=50, facecolor="#ff0000")   # 200 x 150 pixels, red
    fig.add_subplot().plot([0, 1], [1, 0])
    log.figure("fit", fig, title="the fit")
    assert log.flush(timeout=30)
    rgb = picture(visdom_server.port, log.env, "fit")
    height, width = rgb.shape[:2]
    assert 150 <= height <= 160 and 200 <= width <= 210, rgb.shape   # the figure, a thin frame
    assert share(rgb, (255, 0, 0)) > 0.25   # the red edge around the white axes
    assert window(visdom_server.port, log.env, "fit")["title"] == "the fit"
    assert plt.fignum_exists(fig.number)   # the user's figure stays theirs
    with pytest.raises(TypeError, match="layout= is for Plotly"):
        log.figure("fit", fig, layout={"title": "x"})


def test_a_plotly_figure_object(log, visdom_server):
    go = pytest.importorskip("plotly.graph_objects")
    fig = go.Figure([go.Bar(x=["a", "b", "c"], y=np.array([3.0, 1.0, 2.0]))],
                    layout={"title": {"text": "counts"}, "yaxis": {"type": "log"}})
    log.figure("bars", fig, layout={"height": 300})
    assert log.flush(timeout=30)
    content = window(visdom_server.port, log.env, "bars")["content"]
    (bar,) = content["data"]
    assert bar["type"] == "bar" and bar["x"] == ["a", "b", "c"] and bar["y"] == [3.0, 1.0, 2.0]
    assert content["layout"]["title"]["text"] == "counts" and content["layout"]["yaxis"]["type"] == "log"
    assert content["layout"]["height"] == 300   # the layout given here over the figure's
    with pytest.raises(TypeError, match="a Plotly figure or a matplotlib Figure, got int"):
        log.figure("bars", 3)


@pytest.mark.parametrize("dataformats,shape", [("NCHW", (2, 3, 8, 8)), ("NHWC", (2, 8, 8, 3)),
                                               ("CHW", (3, 8, 8)), ("HWC", (8, 8, 3)), ("HW", (8, 8))])
def test_every_dataformats_layout(log, visdom_server, dataformats, shape):
    images = np.zeros(shape, dtype=np.uint8)
    channel_axis = dataformats.find("C")
    if channel_axis < 0:
        images[:] = 255   # grey: white
        colour = (255, 255, 255)
    else:
        index = [slice(None)] * len(shape)
        index[channel_axis] = 1
        images[tuple(index)] = 255   # the G channel: green
        colour = (0, 255, 0)
    log.images("grid", images, dataformats=dataformats)
    assert log.flush(timeout=30)
    rgb = picture(visdom_server.port, log.env, "grid")
    assert share(rgb, colour) > 0.5, dataformats


def test_pil_images_and_lists_of_them(log, visdom_server):
    blue = Image.new("RGB", (40, 30), (0, 0, 255))
    log.images("one", blue)
    log.images("many", [Image.new("RGBA", (40, 30), (255, 0, 0, 128))] * 3, labels=[1, 2, 3])
    log.images("grey", Image.new("L", (40, 30), 255))
    assert log.flush(timeout=30)
    assert share(picture(visdom_server.port, log.env, "one"), (0, 0, 255)) > 0.5
    many = picture(visdom_server.port, log.env, "many")
    assert many.shape[1] > 3 * many.shape[0] and share(many, (255, 0, 0)) > 0.4   # three in a row
    assert share(picture(visdom_server.port, log.env, "grey"), (255, 255, 255)) > 0.9
    with pytest.raises(ValueError, match="differ in size"):
        log.images("many", [blue, Image.new("RGB", (10, 10))])


def test_text_appends_live_and_on_replay(log, visdom_server, tmp_path):
    log.text("notes", "<p>epoch 1</p>", title="notes")
    log.text("notes", "<p>epoch 2</p>", append=True)
    log.text("notes", "<p>epoch 3</p>", append=True)
    assert log.flush(timeout=30)
    content = window(visdom_server.port, log.env, "notes")["content"]
    assert content == "<p>epoch 1</p><p>epoch 2</p><p>epoch 3</p>"
    log.text("fresh", "only", append=True)   # nothing before: the pane starts with it
    log.text("notes", "<p>new</p>")          # without append the pane is replaced
    log.close()
    assert window(visdom_server.port, log.env, "notes")["content"] == "<p>new</p>"
    replay(str(tmp_path / "j.jsonl"), port=visdom_server.port, env=log.env + "_rp")
    assert window(visdom_server.port, log.env + "_rp", "fresh")["content"] == "only"
    assert window(visdom_server.port, log.env + "_rp", "notes")["content"] == "<p>new</p>"
    with pytest.raises(TypeError, match="append="):
        log.text("notes", "x", append="yes")


@pytest.mark.parametrize("shape,dataformats,fix", [
    ((1, 300, 400, 3), "NCHW", r"\(1, 300, 400, 3\) looks like NHWC: pass dataformats='NHWC' or "
                               r"x.permute\(0, 3, 1, 2\)"),
    ((3, 28, 28), "NCHW", "looks like one CHW image: pass dataformats='CHW' or x\\[None\\]"),
    ((28, 28, 3), "NCHW", "looks like one HWC image: pass dataformats='HWC'"),
    ((28, 28), "NCHW", "looks like one grey image: pass dataformats='HW'"),
    ((2, 5, 8, 8), "NCHW", "1, 3 or 4 channels"),
    ((2, 3, 8, 8), "NCWH?", "use one of NCHW, NHWC, CHW, HWC, HW"),
])
def test_a_wrong_shape_names_the_fix(shape, dataformats, fix):
    log = VisdomLogger(send=False, journal=False, status=False)
    with pytest.raises(ValueError, match=fix):
        log.images("x", torch.rand(*shape), dataformats=dataformats)
    with pytest.raises(TypeError, match="int64: convert with x.float"):
        log.images("x", torch.ones(1, 1, 4, 4, dtype=torch.long))
    log.close()
