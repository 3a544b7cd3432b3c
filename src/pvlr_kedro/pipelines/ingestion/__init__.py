"""Ingestion: a benchmark's raw files → annotation table, vocabulary and summary."""
