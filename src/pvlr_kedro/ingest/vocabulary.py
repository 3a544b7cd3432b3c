"""The label vocabulary: class names, the words put into prompts, and their source ids."""

from __future__ import annotations

from collections import Counter

from pvlr_kedro.ingest.errors import IngestionError, preview
from pvlr_kedro.ingest.records import ClassList


def build_vocabulary(classes: ClassList, renames: dict, *, namespace: str) -> dict:
    """``names``, ``prompt_names`` (names unless ``renames`` maps them) and ``source_ids``.

    A rename of a class that does not exist, or two classes sharing one prompt name, is an error.
    """
    renames = dict(renames or {})
    unknown = [name for name in renames if name not in classes.names]
    if unknown:
        raise IngestionError(
            f"`{namespace}.prompt_names` renames unknown classes: {preview(unknown)}"
        )
    prompts = [str(renames.get(name, name)) for name in classes.names]
    shared = [prompt for prompt, count in Counter(prompts).items() if count > 1]
    if shared:
        raise IngestionError(
            f"`{namespace}.prompt_names` gives several classes the same prompt name: "
            f"{preview(shared)}"
        )
    return {
        "names": list(classes.names),
        "prompt_names": prompts,
        "source_ids": list(classes.source_ids),
    }
