"""The one closing line says what happened: calls accepted, journaled, delivered; windows not sent
vs. sent but unconfirmed; how many windows the server is behind on, named."""

from vizlab.logger.summary import closing_line

STATS = {"dropped": 0, "journal_missed": 0, "unwritten": 0, "nonfinite": 0, "decimated": {},
         "waits": 0, "errors": 0, "accepted": 5, "journaled": 5}


def line(behind=(), absent=0, windows=1000, done=False, **stats):
    delivery = {"url": "http://127.0.0.1:1", "done": done, "sent": not done and not behind,
                "windows": windows, "behind": list(behind), "absent": absent}
    return closing_line("e", dict(STATS, **stats), "run.jsonl", 100_000, 3.0, delivery)


def test_all_well_is_one_line_with_the_url_and_the_counts():
    text = line(done=True)
    assert text == ("closed env 'e' (http://127.0.0.1:1/env/e): 5 calls accepted, 5 journaled "
                    "(run.jsonl), 5 delivered")


def test_calls_sent_but_not_confirmed_are_not_called_missing():
    text = line()
    assert "every window was sent" in text and "close_timeout=3.0" in text and "behind" not in text


def test_windows_behind_are_counted_and_named():
    text = line(behind=[f"w{i}" for i in range(963)], absent=900)
    assert "not all delivered" in text and "first 0" not in text and "\n" not in text
    assert ("behind on 963 of the run's 1000 windows ('w0', 'w1', 'w2' and 960 more, 900 of them "
            "not at all); replay: vizlab replay run.jsonl") in text


def test_windows_missing_are_counted_once():
    text = line(behind=["a", "b"], absent=2, windows=5)
    assert "Visdom at http://127.0.0.1:1 lacks 2 of the run's 5 windows ('a', 'b'); replay:" in text


def test_nothing_delivered_says_so():
    text = line(behind=["a", "b"], absent=2, windows=2)
    assert "none delivered" in text and "holds none of the run's 2 windows" in text
