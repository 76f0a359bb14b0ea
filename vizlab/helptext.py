"""The help of every `vizlab` command and runner: each option's default said once."""

import argparse


class DefaultsOnce(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's "(default: ...)" only where it adds something: not on a help that already names
    its default, not on a flag (off unless given), not for None (the help says what happens)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.nargs == 0 or action.default in (None, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)
