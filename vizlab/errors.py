"""The one family of errors a user can fix: `vizlab.cli.main` prints them as one line on stderr."""


class UserError(RuntimeError):
    """A problem the user can fix; the message says how. Exit code 1."""

    exit_code = 1


class UsageError(UserError):
    """The command line itself is wrong (like argparse's errors). Exit code 2."""

    exit_code = 2
