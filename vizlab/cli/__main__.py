"""`python -m vizlab.cli` is the `vizlab` command."""

import sys

from vizlab.cli import main

sys.exit(main())
