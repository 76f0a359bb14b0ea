"""Files and folders that are their owner's alone: journals, server logs, the server's token.

Files are created 0600 (never through the umask) and the folders vizlab creates 0700. A folder
that already lets others in is fixed when it is vizlab's own (~/.vizlab), or only named in one
line when the user chose it (it may be shared on purpose).
"""

import os
import secrets
import stat
import sys
from pathlib import Path

from vizlab.protocol import read_token, token_path


def _say(message):
    print(f"vizlab: {message}", file=sys.stderr, flush=True)


_warned = set()   # folders already named once in this process


def private_dir(path, fix=True, what="what Visdom saves"):
    """Folder `path`, made 0700 if missing. One that others can enter is made 0700 and said so
    (fix: vizlab's own folders), or only said so, once (a folder the user chose: maybe shared on
    purpose). `what`: what goes there, for that line."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and fix:
        path.chmod(mode & 0o700)
        _say(f"{path} was readable by other users (mode {mode:04o}); made it {mode & 0o700:04o}")
    elif mode & 0o077 and str(path.resolve()) not in _warned:
        _warned.add(str(path.resolve()))
        _say(f"warning: other users can enter {path} (mode {mode:04o}), where {what} go; "
             f"chmod 700 it unless that is meant")
    return path


def make_private(path):
    """chmod 0600 a secret that others could read, and say so (whatever its folder's mode)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        _say(f"{path} was readable by other users (mode {mode:04o}); made it 0600. Anyone who "
             "read it could sign in: delete it to have a new secret made")


def write_private(path, text):
    """Write a secret 0600 from the start (never through the umask), replacing any file there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)   # an existing file keeps its old mode through O_CREAT
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def open_append(path):
    """A file opened for appending in binary, created 0600 (an existing file keeps its mode)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600), "ab")


def server_token(port):
    """The token for a private server on `port`: the one on disk if any (a restart of the same
    server keeps its token URL), else a new one; the file is left 0600 in a 0700 folder."""
    private_dir(token_path(port).parent)
    path = token_path(port)
    token = read_token(port)
    if token is None:
        token = secrets.token_urlsafe(24)
        write_private(path, token)
    make_private(path)
    return token
