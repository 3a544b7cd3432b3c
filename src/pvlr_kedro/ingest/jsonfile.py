"""Reading JSON annotation files with errors that name the file and the position."""

from __future__ import annotations

import json
from pathlib import Path

from pvlr_kedro.ingest.errors import IngestionError


def load_json(path: Path, *, parameter: str):
    """Parse ``path``; a missing file names ``parameter``, malformed JSON names line and column."""
    if not path.is_file():
        raise IngestionError(
            f"annotation file not found: {path} (set `{parameter}`, or the benchmark's `root`)"
        )
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise IngestionError(
            f"malformed JSON in {path}: {err.msg} at line {err.lineno}, column {err.colno}"
        ) from err
    except UnicodeDecodeError as err:
        raise IngestionError(f"{path} is not UTF-8 text: {err}") from err
