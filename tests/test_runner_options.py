"""Runner options are checked by argparse before anything trains: a clear usage error, exit 2."""

import pytest

from vizlab.runners import logistic_regression


@pytest.mark.parametrize("option", ["--log-every", "--refresh-every"])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_logistic_regression_rejects_non_positive_intervals(option, value, capsys):
    with pytest.raises(SystemExit) as stop:
        logistic_regression.main([option, value, "--no-visdom"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "must be a positive integer" in err and "Traceback" not in err
