"""The one family of errors a user can fix: `vizlab.cli.main` prints them as one line, exit 1."""


class UserError(RuntimeError):
    """A problem the user can fix; the message says how."""
