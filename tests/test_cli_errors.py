"""Every `vizlab` sub-command reports a user error the same way: one line on stderr naming the
command, nothing on stdout, exit 1 (2 when the command line itself is wrong)."""

import pytest

from vizlab.cli import main
from vizlab.errors import UsageError, UserError
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


@pytest.mark.parametrize("argv,code,words", [
    (["assets", "install", "--from", "{tmp}/nope", "--static-dir", "{tmp}/static"], 1, "nope"),
    (["serve", "--login", "--port", "{port}"], 1, "VISDOM_USERNAME"),
    (["replay", "{tmp}/nope.jsonl"], 2, "no journal at"),
    (["run", "no_such_runner"], 2, "no runner named 'no_such_runner'"),
    (["demo", "--only", "no_such_runner"], 2, "no runner named no_such_runner"),
])
def test_user_errors_are_one_line_on_stderr(argv, code, words, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VISDOM_USERNAME", raising=False)
    monkeypatch.delenv("VISDOM_PASSWORD", raising=False)
    argv = [a.format(tmp=tmp_path, port=free_port()) for a in argv]
    assert main(argv) == code
    out, err = capsys.readouterr()
    command = argv[0]
    assert out == ""
    assert err.startswith(f"vizlab {command}: ") and err.count("\n") == 1, err
    assert words in err and "Traceback" not in err


def test_error_family():
    from vizlab.server.assets import AssetError
    from vizlab.runner_kit.data import MNISTUnavailable
    from vizlab.server.process import ServerError

    for cls in (AssetError, MNISTUnavailable, ServerError, UsageError):
        assert issubclass(cls, UserError)
    assert UserError.exit_code == 1 and UsageError.exit_code == 2
