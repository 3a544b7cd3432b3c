"""Reports a person reads: paper-layout tables (Markdown and CSV) and figures. No Kedro import."""
