"""The page reads well: Plotly's mode bar runs down the plot's right edge, clear of the title
(measured in headless Chromium while the mouse is over the plot); log axes label their ticks with
whole values (0.5, 0.2) instead of bare minor digits; the status pane of a run whose x is epochs
says "epoch", and whole numbers stay whole ("10/10", not "10.0/10"). Real servers, read back."""

import re

import pytest

from support import browser as vb
from support.windows import window
from vizlab import VisdomLogger, VisdomServer

LONG_TITLE = "test accuracy (%) on the 10000 test images"


def pane_text(port, env):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", window(port, env, "status")["content"]))


@pytest.mark.server
def test_log_axes_and_the_mode_bar_in_the_layout(visdom_server, tmp_path):
    with VisdomLogger(env="pr_layout", port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        log.window("loss", ytype="log")
        for step in range(1, 50):
            log.scalar("loss", step, 1.0 / step)
        assert log.flush(timeout=30)
    layout = window(visdom_server.port, "pr_layout", "loss")["content"]["layout"]
    assert layout["yaxis"]["type"] == "log" and layout["yaxis"]["tickformat"] == "~g"
    assert "tickformat" not in layout["xaxis"]          # a linear axis keeps Plotly's own
    assert layout["modebar"] == {"orientation": "v"}


@pytest.mark.server
def test_a_run_in_epochs_says_epoch_and_whole_numbers_stay_whole(visdom_server, tmp_path):
    port = visdom_server.port
    with VisdomLogger(env="pr_epochs", port=port, journal=str(tmp_path / "e.jsonl"), total_steps=10.0) as log:
        log.window("accuracy", xlabel="epoch")
        for epoch in range(1, 11):
            log.scalar("accuracy", float(epoch), 90.0 + epoch / 2)
        assert log.flush(timeout=30)
        text = pane_text(port, "pr_epochs")
        assert re.search(r"\bepoch 10\b", text) and re.search(r"(epochs/s|s/epoch) [\d.,]+", text), text
        assert "10/10" in text and "10.0" not in text and "step" not in text, text
    assert "finished" in pane_text(port, "pr_epochs")
    # a run with a per-step window too counts in steps
    with VisdomLogger(env="pr_steps", port=port, journal=str(tmp_path / "s.jsonl"), total_steps=20) as log:
        log.window("accuracy", xlabel="epoch")
        log.scalar("accuracy", 1, 0.5)
        log.scalar("loss", 20, 0.1)
        assert log.flush(timeout=30)
        text = pane_text(port, "pr_steps")
        assert re.search(r"\bstep 20\b", text) and "20/20" in text and "epoch" not in text, text


MODEBAR_JS = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  const box = el => el.getBoundingClientRect().toJSON();
  return {modebar: box(plot.querySelector('.modebar')), title: box(plot.querySelector('.gtitle')),
          shown: getComputedStyle(plot.querySelector('.modebar')).opacity};
}"""


@pytest.mark.browser
@pytest.mark.server
def test_the_mode_bar_leaves_the_title_readable(tmp_path):
    vb.require_chromium(pytest)
    with vb.open_browser() as chromium, VisdomServer(env_path=tmp_path / "env") as server:
        with VisdomLogger(env="pr_modebar", port=server.port, journal=False, status=False) as log:
            log.window("accuracy", title=LONG_TITLE, xlabel="epoch")
            for epoch in range(1, 11):
                log.scalar("accuracy", epoch, 90 + epoch / 2)
            assert log.flush(timeout=30)
        page, problems = vb.open_dashboard(chromium, server.url, "pr_modebar")
        vb.wait_for_panes(page, ["accuracy"])
        page.hover(".js-plotly-plot .nsewdrag")   # the mode bar shows while the mouse is over the plot
        page.wait_for_function("() => getComputedStyle(document.querySelector('.modebar')).opacity === '1'")
        seen = page.evaluate(MODEBAR_JS)
        bar, title = seen["modebar"], seen["title"]
        assert bar["height"] > bar["width"], seen           # vertical, down the right edge
        overlap_x = min(bar["right"], title["right"]) - max(bar["left"], title["left"])
        overlap_y = min(bar["bottom"], title["bottom"]) - max(bar["top"], title["top"])
        assert overlap_x <= 0 or overlap_y <= 0, seen       # the title is not under the bar
        assert not problems.messages()
