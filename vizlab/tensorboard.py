"""python -m vizlab.tensorboard script.py [args]: run a TensorBoard program unchanged, drawing in Visdom.

`torch.utils.tensorboard.SummaryWriter` and `tensorboardX.SummaryWriter` are vizlab's for the whole
run (vizlab.integrations.tensorboard_hook), whoever opens them: the script, accelerate's
`log_with="tensorboard"`, transformers' `report_to="tensorboard"`. `-m module` runs a module instead.
"""

import importlib.util
import os
import runpy
import sys

USAGE = ("usage: python -m vizlab.tensorboard SCRIPT.py [ARGS...]  (or -m MODULE [ARGS...])\n"
         "runs the program with TensorBoard's SummaryWriter being vizlab's: its windows go to Visdom "
         "(VISDOM_PORT / VISDOM_SERVER pick the server)")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help") or argv == ["-m"]:
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv and argv[0] != "-m" else 2
    from vizlab.integrations.tensorboard_hook import install
    install()
    if argv[0] == "-m":
        if importlib.util.find_spec(argv[1]) is None:
            print(f"vizlab.tensorboard: no module named {argv[1]!r}\n{USAGE}", file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    if not os.path.isfile(argv[0]):
        print(f"vizlab.tensorboard: no such script: {argv[0]}\n{USAGE}", file=sys.stderr)
        return 2
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
