"""The closing line about delivery says what happened: calls not sent vs. sent but unconfirmed."""

from vizlab.logger.summary import closing_summary


def summary(done, accepted=5):
    stats = {"dropped": 0, "journal_missed": 0, "unwritten": 0, "nonfinite": 0, "decimated": {},
             "waits": 0, "errors": 0, "accepted": accepted}
    return "\n".join(closing_summary(stats, "run.jsonl", 100_000, 3.0, delivered=False, sent=done,
                                      url="http://127.0.0.1:1"))


def test_calls_sent_but_not_confirmed_are_not_called_missing():
    err = summary(done=5)
    assert "every call was sent" in err and "close_timeout=3.0" in err
    assert "not everything reached" not in err


def test_calls_not_sent_are_counted():
    err = summary(done=2)
    assert "not everything reached Visdom at http://127.0.0.1:1 (the first 2 of 5 calls did)" in err
