"""Reading line-based list files (VOC image sets, NUS-WIDE lists and labels)."""

from __future__ import annotations

from pathlib import Path

from pvlr_kedro.ingest.errors import IngestionError


def read_lines(path: Path, *, parameter: str) -> list[str]:
    """Non-blank lines of ``path``, stripped (CRLF and trailing spaces are common in these
    files)."""
    if not path.is_file():
        raise IngestionError(
            f"file not found: {path} (set `{parameter}`, or the benchmark's `root`)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestionError(f"{path} is not UTF-8 text: {err}") from err
    return [line.strip() for line in text.splitlines() if line.strip()]
