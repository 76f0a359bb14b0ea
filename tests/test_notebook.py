"""Notebooks: examples/notebook.ipynb executed headless (nbclient, a real ipykernel) against a real
server and read back from it: a cell's exception is an alert in the status pane and the run stays
live; re-running the set-up cell closes the earlier logger of the env first; an interrupted cell
(SIGINT in the kernel) does not end the run; a logger left open is closed at kernel shutdown."""

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from vizlab import journal as journal_mod
from support.windows import points, window

pytestmark = [pytest.mark.server, pytest.mark.slow]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"
ENV = "notebook_demo"


@pytest.fixture
def kernel_env(visdom_server, monkeypatch):
    """The kernel inherits the environment: the test server's port, this checkout first."""
    monkeypatch.setenv("VISDOM_PORT", str(visdom_server.port))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(EXAMPLE.parent.parent),
                                                                   os.environ.get("PYTHONPATH")])))
    return visdom_server.port


def client(nb, cwd):
    return NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                          resources={"metadata": {"path": str(cwd)}})


def pane(port):
    content = window(port, ENV, "status")["content"]
    state = re.search(r"data-state='(\w+)'", content).group(1)
    return state, re.sub(r"<[^>]+>", " ", content)


def statuses(path):
    return [r for r in journal_mod.read(str(path)) if r["op"] == "status"]


def html_output(cell):
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_example_notebook_runs_headless(kernel_env, tmp_path):
    port = kernel_env
    nb = nbformat.read(EXAMPLE, as_version=4)
    client(nb, tmp_path).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the logger shows itself: a link to its env, its state, its counts
    assert f"/env/{ENV}'" in html_output(code[1]) and "running" in html_output(code[1])
    closed = html_output(code[-1])
    assert "closed" in closed and re.search(r"\b\d+ on the server", closed), closed
    # the error cell raised in the notebook, and the pane says so; the run went on to its end
    error = next(o for o in code[3].outputs if o.output_type == "error")
    assert error.ename == "ValueError"
    state, text = pane(port)
    assert state == "finished"
    assert "error in cell: ValueError: images must have 1, 3 or 4 channels" in text, text
    assert len(points(port, ENV, "loss")["value"]) == 300   # 150 before the error, 150 after
    fit = window(port, ENV, "fit")
    assert fit["title"] == "the fit after 300 steps" and fit["content"]["src"].startswith("data:image/png")
    (journal,) = tmp_path.glob("runs/*.jsonl")
    kinds = [(r["state"], (r.get("alert") or {}).get("kind")) for r in statuses(journal)]
    assert ("running", "cell") in kinds and kinds[-1] == ("finished", None)


def opened_at(path):
    return next(r["time"] for r in journal_mod.read(str(path)) if r["op"] == "start")


def test_rerun_setup_interrupt_and_kernel_shutdown(kernel_env, tmp_path):
    """Set-up, train, set-up again, train, a SIGINT inside a cell, train, then shut the kernel
    down with the logger open."""
    port = kernel_env
    nb = nbformat.read(EXAMPLE, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    imports, setup, train = code[0], code[1], code[2]
    kernels = nbformat.v4.new_code_cell("import signal\nkernels = signal.getsignal(signal.SIGINT)")
    interrupt = nbformat.v4.new_code_cell(
        "import os, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(30)")
    # SIGINT stays the kernel's: the first logger installs no handler (ipykernel resets SIGINT
    # before each cell, so only the cell that opens it could tell)
    first_setup = nbformat.v4.new_code_cell(
        setup.source + "\nassert signal.getsignal(signal.SIGINT) is kernels, signal.getsignal(signal.SIGINT)")
    check = nbformat.v4.new_code_cell("train(20)\nassert log.flush(60)")
    cells = [kernels, imports, first_setup, train, setup, nbformat.v4.new_code_cell("train(10)"), interrupt, check]
    nb.cells = cells
    nbc = client(nb, tmp_path)
    with nbc.setup_kernel():
        for index, cell in enumerate(cells):
            if cell is interrupt:
                with pytest.raises(Exception, match="KeyboardInterrupt"):
                    nbc.execute_cell(cell, index)
            else:
                nbc.execute_cell(cell, index)
        state, text = pane(port)
        assert state == "running" and "cell interrupted (KeyboardInterrupt)" in text, text
        assert sorted(points(port, ENV, "loss")["value"]) == list(range(1, 31))   # the second logger's
        # in the order they were opened (by name, a second opened in the same second, NAME-TIME-2,
        # sorts before NAME-TIME)
        first, second = sorted(tmp_path.glob("runs/*.jsonl"), key=opened_at)
        # the re-run set-up cell closed the first logger: its journal is whole and finished
        assert statuses(first)[-1]["state"] == "finished"
        assert [r["x"] for r in journal_mod.read(str(first)) if r["op"] == "scalars"] == list(range(1, 151))
    # the kernel is gone: atexit closed the logger left open
    assert statuses(second)[-1]["state"] == "finished", statuses(second)[-1]
    assert pane(port)[0] == "finished"
