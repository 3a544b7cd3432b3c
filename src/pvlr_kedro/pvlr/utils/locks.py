"""One writer at a time for what several runs share (a benchmark's image cache, its ingested
tables), also across the machines of a shared filesystem: an exclusive ``flock`` on a lock file.

The kernel (or the NFS lock manager) releases the lock when its holder dies, so the lock of a
killed job is taken over by the next run without any clean-up; the file itself stays, and records
who holds the lock, for the message the waiting run logs.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import time
from pathlib import Path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive(path: Path, what: str):
    """Hold ``path``'s lock for the block; while another run holds it, wait, saying so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            log.info("%s: another run builds it; waiting (lock %s, held by %s)", what, path, holder)
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            log.info("%s: lock %s taken after %.0f s", what, path, time.monotonic() - started)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.ctime()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
