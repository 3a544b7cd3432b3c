"""Training on a CPU: freed tensor memory kept for the next step instead of handed back to the OS.

PyTorch's CPU tensors come from the C library's ``malloc``. glibc serves blocks above its mmap
threshold with fresh ``mmap`` pages and returns freed memory at the top of its heap once more than
its trim threshold is free, so every training step maps, page-faults and unmaps its activations
anew: on the demo that was half the process's system time and 6–10 % of its training time.
Raising both thresholds (``mallopt``; the ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``
variables do the same at start-up) keeps the memory in the heap to be reused; the process holds its
peak footprint until it ends. Elsewhere (macOS, Windows, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import platform

log = logging.getLogger(__name__)

# (mallopt option from glibc's <malloc.h>, value)
THRESHOLDS = (
    (-3, 32 << 20),  # M_MMAP_THRESHOLD: glibc's largest; blocks above 32 MiB are still mapped
    (-1, 256 << 20),  # M_TRIM_THRESHOLD: up to 256 MiB free at the heap's top is kept
)


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once); whether they were set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    # mallopt returns 1 on success
    done = all(libc.mallopt(option, value) == 1 for option, value in THRESHOLDS)
    if not done:
        log.info("glibc's mallopt refused the allocator thresholds; left as they were")
    return done
