"""The closing line about delivery says what happened: calls not sent vs. sent but unconfirmed."""

from types import SimpleNamespace

from vizlab.logger import visdom_logger as logger


def summary(capsys, done, accepted=5):
    stats = {"dropped": 0, "journal_missed": 0, "unwritten": 0, "nonfinite": 0, "decimated": {},
             "waits": 0, "errors": 0, "accepted": accepted}
    sender = SimpleNamespace(state=SimpleNamespace(done=done),
                             connection=SimpleNamespace(url="http://127.0.0.1:1"))
    log = SimpleNamespace(stats=stats, _sender=sender, journal_path="run.jsonl", close_timeout=3.0)
    logger.report(log, delivered=False)
    return capsys.readouterr().err


def test_calls_sent_but_not_confirmed_are_not_called_missing(capsys):
    err = summary(capsys, done=5)
    assert "every call was sent" in err and "close_timeout=3.0" in err
    assert "not everything reached" not in err


def test_calls_not_sent_are_counted(capsys):
    err = summary(capsys, done=2)
    assert "not everything reached Visdom at http://127.0.0.1:1 (the first 2 of 5 calls did)" in err
