"""Pure unit tests: the call-site checks' style forms, the settings table and the palette."""

import numpy as np
import pytest

from vizlab import palette
from vizlab.logger.checks import check_opts, LINE_OPTS
from vizlab.settings_table import pane_size, read_settings, settings_html


@pytest.mark.parametrize("linecolor", [
    [(31, 119, 180), (255, 127, 14)],                      # visdom's form: one RGB row per trace
    np.array([[31, 119, 180], [255, 127, 14]]),
    [palette.BLUE, palette.ORANGE],                        # '#rrggbb', one per trace
    {"b": palette.ORANGE, "a": (31, 119, 180)},            # by trace name, any order
])
def test_every_colour_form_gives_the_same_styles(linecolor):
    opts = check_opts({"linecolor": linecolor}, LINE_OPTS, {"a": 1, "b": 2})
    assert opts["linecolor"] == {"a": palette.BLUE, "b": palette.ORANGE}


def test_one_style_for_all_traces():
    opts = check_opts({"linecolor": (0, 128, 0), "dash": "dot"}, LINE_OPTS, {"a": 1, "b": 2})
    assert opts == {"linecolor": {"a": "#008000", "b": "#008000"}, "dash": {"a": "dot", "b": "dot"}}
    assert check_opts({"linecolor": "#D62728"}, LINE_OPTS, {"a": 1})["linecolor"] == {"a": palette.RED}


@pytest.mark.parametrize("opts, message", [
    ({"linecolor": [(1, 2, 3)]}, "one per trace"),          # two traces, one colour row
    ({"linecolor": {"a": (1, 2)}}, "RGB triples"),
    ({"dash": {"a": "dashed"}}, "dash"),
])
def test_bad_styles_say_what_to_give(opts, message):
    with pytest.raises(ValueError, match=message):
        check_opts(opts, LINE_OPTS, {"a": 1, "b": 2})


def test_settings_table_reads_back_what_it_wrote():
    sections = {None: {"lr": 0.1, "device": "cpu", "name": "<a & b>"}}
    html = settings_html(sections)
    assert read_settings(html) == {"lr": "0.1", "device": "cpu", "name": "<a & b>"}
    assert "<h4>" not in html and "<h4>metrics</h4>" in settings_html({"metrics": {"acc": 0.9}})
    # Sized to its rows: 20 px a row plus the title bar; a heading adds 40.
    assert pane_size(sections)[1] == 30 + 20 * 3
    assert pane_size({"h": {"a": 1}, "g": {"b": 2}})[1] == 30 + 20 * 2 + 40 * 2


def test_palette_repeats_after_ten():
    assert palette.color(0) == palette.BLUE and palette.color(10) == palette.BLUE
    assert len(set(palette.COLORS)) == 10
