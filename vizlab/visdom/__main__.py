"""python -m vizlab.visdom script.py [args]: run a Visdom program unchanged, on vizlab's client.

`import visdom` then gives Visdom's own module with `visdom.Visdom` replaced by vizlab.Visdom
(a subclass of it), so `visdom.Visdom(...)` and `from visdom import Visdom` both get the drop-in;
everything else in the module (visdom.server, helpers) is Visdom's.
"""

import os
import runpy
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m vizlab.visdom SCRIPT.py [ARGS...]\n"
              "runs SCRIPT with `visdom.Visdom` being vizlab's client (calls never wait on the "
              "server; a journal keeps every call)", file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    import visdom
    from vizlab.integrations.visdom_client import Visdom
    visdom.Visdom = Visdom
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
