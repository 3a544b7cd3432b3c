"""The one error type ingestion raises: its message names the file, the record and the fault."""


class IngestionError(ValueError):
    """Bad input: a missing, malformed or inconsistent annotation or image file."""


def preview(items, limit: int = 5) -> str:
    """``a, b, c, … (12 in all)``: the first few of a list of offending items."""
    items = list(items)
    shown = ", ".join(str(item) for item in items[:limit])
    return shown if len(items) <= limit else f"{shown}, … ({len(items)} in all)"
