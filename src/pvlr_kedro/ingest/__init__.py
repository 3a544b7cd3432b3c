"""Annotation ingestion: each benchmark's real file format turned into one table.

No Kedro import here: the readers are plain functions over files, usable in a notebook.
"""

from pvlr_kedro.ingest.errors import IngestionError
from pvlr_kedro.ingest.sources import SourceConfig, read_source

__all__ = ["IngestionError", "SourceConfig", "read_source"]
