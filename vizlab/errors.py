"""The one family of errors a user can fix: `vizlab` prints them as one line on stderr, no traceback."""


class UserError(RuntimeError):
    """A problem the user can fix; the message says how. `vizlab COMMAND` exits 1."""

    exit_code = 1


class UsageError(UserError):
    """The command line itself is wrong (as argparse reports it): exit 2."""

    exit_code = 2
