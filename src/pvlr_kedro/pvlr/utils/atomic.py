"""Files written whole or not at all, by any number of writers at once.

``atomic_write(path, write)`` calls ``write(handle)`` on a temporary file beside ``path`` whose
name is unique to this process and call (``<name>.<pid>-<random>.partial``), then renames it over
``path``: a reader sees the old file or the new one, never a part. Two processes writing the same
file at once each write their own temporary file; the one renamed last wins, whole, and neither
breaks the other (before, both wrote ``<name>.partial`` and the second rename found nothing). A
write that fails leaves no temporary file behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(partial, "wb") as handle:
            write(handle)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
