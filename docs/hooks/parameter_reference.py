"""MkDocs hook: the parameter reference (docs/parameters.md) written from the typed configs
themselves, so that a new field appears in the documentation without a hand edit.

Each block is a pydantic dataclass (``pvlr_kedro.pvlr.utils.parameter_blocks``); a row gives
the key, its type, its default and the comment beside the field in the source (or the comment
line above it).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize

from pvlr_kedro.cluster.settings import SlurmSettings
from pvlr_kedro.demo_data import DemoConfig
from pvlr_kedro.ingest.coco import CocoOptions
from pvlr_kedro.ingest.csv_labels import CsvOptions
from pvlr_kedro.ingest.nuswide import NusWideOptions
from pvlr_kedro.ingest.sources import SourceConfig
from pvlr_kedro.ingest.voc import VocOptions
from pvlr_kedro.pipelines.run_sets.pipeline import PresetSpec, RowSpec, RunSetSpec, TimingSpec
from pvlr_kedro.pvlr.engine.training import TrainConfig
from pvlr_kedro.pvlr.evaluation.metrics import EvalConfig
from pvlr_kedro.pvlr.inference.config import ExportConfig, PredictConfig, ThresholdSetConfig
from pvlr_kedro.pvlr.method.config import PVLRConfig
from pvlr_kedro.pvlr.method.losses import LossConfig

MARKER = "{{ parameter_reference }}"
BLOCKS = {
    "<run>.model": PVLRConfig,
    "<run>.train": TrainConfig,
    "<run>.loss": LossConfig,
    "<run>.eval": EvalConfig,
    "<benchmark> (data source: root, format, image checks)": SourceConfig,
    "demo.generator": DemoConfig,
    "predict": PredictConfig,
    "thresholds": ThresholdSetConfig,
    "export": ExportConfig,
    "<benchmark> with format: coco": CocoOptions,
    "<benchmark> with format: voc": VocOptions,
    "<benchmark> with format: nuswide": NusWideOptions,
    "<benchmark> with format: csv": CsvOptions,
    "<run set> (table1, …, figure5)": RunSetSpec,
    "<run set>.rows.<row>": RowSpec,
    "presets.<name> (conf/base/parameters_presets.yml)": PresetSpec,
    "<run set>.timing (Table 7)": TimingSpec,
    "slurm (conf/base/cluster.yml)": SlurmSettings,
}


def on_page_markdown(markdown: str, page, **_) -> str:
    if page.file.src_path != "parameters.md":
        return markdown
    return markdown.replace(MARKER, "\n".join(block_table(n, c) for n, c in BLOCKS.items()))


def block_table(name: str, config: type) -> str:
    """One block as a Markdown section: its class, docstring summary and a row per field."""
    comments = field_comments(config)
    summary = (inspect.getdoc(config) or "").split("\n\n")[0].replace("\n", " ")
    rows = [
        f"| `{f.name}` | `{f.type}` | `{_default(f)}` | {comments.get(f.name, '')} |"
        for f in dataclasses.fields(config)
    ]
    return "\n".join(
        [
            f"## `{name}`",
            "",
            f"`{config.__module__}.{config.__name__}`: {summary}",
            "",
            "| key | type | default | meaning |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def field_comments(config: type) -> dict[str, str]:
    """Each field's comment in the class's source: on its line, else on the lines above it."""
    source = textwrap.dedent(inspect.getsource(config))
    by_line: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            by_line[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above, line = [], node.lineno - 1
            while line in by_line and lines[line - 1].lstrip().startswith("#"):
                above.insert(0, by_line[line])
                line -= 1
            text = by_line.get(node.end_lineno or node.lineno) or " ".join(above)
            found[node.target.id] = text.replace("|", "\\|")
    return found


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return "(required)"
    return repr(value).replace("|", "\\|")
