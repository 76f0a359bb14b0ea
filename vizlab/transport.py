"""Old home of the logger's background half, now split by job; these names stay importable.

vizlab.windows (window model + decimation), vizlab.records (calls -> journal records),
vizlab.connection (HTTP), vizlab.writer (the journal thread), vizlab.sender (the sender thread).
"""

from vizlab.connection import Connection, ServerRefused  # noqa: F401
from vizlab.notices import say  # noqa: F401
from vizlab.windows import Windows  # noqa: F401
