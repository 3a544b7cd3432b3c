"""Training, evaluation and the report of one run: the template every benchmark and table row
uses."""
