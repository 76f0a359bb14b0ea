"""Give the C heap's free pages back to the OS once a long queue has drained (glibc's malloc_trim).

A fast loop can queue a million calls; once the journal thread has taken them, glibc keeps the
memory they used (the queue's blocks, the batches' lists, the journal's bytes) as free heap
inside the process, where it stays unless something asks for it back. close() asks, with
malloc_trim(0) (~2 ms in a 500 MB process), when the queue ever held WAKE_AT calls. Only glibc
has the function: elsewhere (macOS, musl, Windows) nothing is done and nothing is said.
"""

import ctypes


def trim():
    """Return glibc's free heap pages to the OS; True if it could be asked."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):   # not glibc (or no C library to ask)
        return False
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    malloc_trim(0)
    return True
