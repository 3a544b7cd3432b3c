"""Project commands (Kedro adds the commands of this ``cli`` group to ``kedro``):

kedro cluster submit <run set> [--env E] [--params P] [--dry-run]
kedro cluster status <run set> [--env E] [--params P]
kedro cluster report <run set> [--env E] [--params P]   (the report job runs this)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import _split_params
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from kedro.utils import find_kedro_project

from pvlr_kedro.cluster.jobs import Invocation, plan_jobs, submit
from pvlr_kedro.cluster.rows import output_state, run_set_rows
from pvlr_kedro.cluster.settings import SlurmSettings
from pvlr_kedro.cluster.status import row_states
from pvlr_kedro.pipelines.tables.nodes import RESULT_PARTS, report_paper_table
from pvlr_kedro.pipelines.tables.pipeline import check_spec

RUN_OPTIONS = [
    click.argument("run_set"),
    click.option("--env", "-e", default=None, help="Kedro configuration environment"),
    click.option("--params", default="", help="key=value pairs, as kedro run takes them"),
]


def run_options(command):
    for option in reversed(RUN_OPTIONS):
        command = option(command)
    return command


@click.group(name="pvlr-kedro")
def cli() -> None:
    """pvlr-kedro's project commands."""


@cli.group()
def cluster() -> None:
    """A run set (paper table, figure, any block with rows and benchmarks) on Slurm."""


class Project:
    """A Kedro session's context for ``run_set`` with ``--env`` and ``--params`` applied."""

    def __init__(self, run_set: str, env: str | None, params: str) -> None:
        logging.getLogger("kedro").setLevel(logging.WARNING)  # not a line per dataset read
        self.root = find_kedro_project(Path.cwd()) or Path.cwd()
        bootstrap_project(self.root)
        parsed = _split_params(click.get_current_context(), click.Option(["--params"]), params)
        self.session = KedroSession.create(
            project_path=self.root, env=env, runtime_params=parsed or None
        )
        self.context = self.session.load_context()
        self.run_set, self.invocation = run_set, Invocation(self.root, env, params)
        check_spec(run_set, self.context.params.get(run_set) or {})
        self.rows = run_set_rows(run_set, self.context.params)
        loader: Any = self.context.config_loader  # an OmegaConfigLoader (settings.py)
        loader.config_patterns.setdefault("cluster", ["cluster*", "cluster*/**"])
        self.settings = SlurmSettings.from_config(loader["cluster"])
        self.folder = (self.root / self.settings.logs / run_set).resolve()


@cluster.command(name="submit")
@run_options
@click.option("--dry-run", is_flag=True, help="print the job scripts; submit nothing")
def submit_command(run_set: str, env: str | None, params: str, dry_run: bool) -> None:
    """Submit the rows of RUN_SET whose outputs are missing or stale, then its report."""
    project = Project(run_set, env, params)
    catalog = project.context.catalog
    states = {row.run: output_state(row, catalog) for row in project.rows}
    todo = [row for row in project.rows if states[row.run] != "done"]
    done = len(project.rows) - len(todo)
    click.echo(f"{run_set}: {len(project.rows)} rows, {done} done for their recipe")
    jobs = plan_jobs(run_set, todo, project.folder, project.settings, project.invocation)
    if not jobs:
        click.echo("nothing to submit")
        return
    if dry_run:
        for job in jobs:
            after = f" (--dependency={job.condition}:<{', '.join(job.after)}>)" if job.after else ""
            click.echo(f"# ---- {job.name}{after}\n{job.script}")
        return
    record = submit(jobs, project.folder, todo)
    for name, job_id in record["jobs"].items():
        click.echo(f"submitted {name}: job {job_id}")
    click.echo(f"logs and scripts: {project.folder}")


@cluster.command(name="status")
@run_options
def status_command(run_set: str, env: str | None, params: str) -> None:
    """Each row of RUN_SET: done, stale, missing, queued, running or failed; job id and log."""
    project = Project(run_set, env, params)
    for row, state in row_states(project.rows, project.context.catalog, project.folder):
        click.echo(f"{row.run:50} {state.state:9} {state.job or '-':>14}  {state.log or ''}")


@cluster.command(name="report")
@run_options
def report_command(run_set: str, env: str | None, params: str) -> None:
    """RUN_SET's report from the rows that have results; the others are marked missing."""
    project = Project(run_set, env, params)
    catalog, spec = project.context.catalog, project.context.params[run_set]
    timed = "timing" in spec
    parts = RESULT_PARTS + (("step_seconds",) if timed else ())
    datasets: dict = {}
    for benchmark in spec["benchmarks"]:
        datasets[f"{benchmark}.ingestion_summary"] = catalog.load(f"{benchmark}.ingestion_summary")
    missing = []
    for row in project.rows:
        try:
            loaded = {part: catalog.load(f"{row.run}.{part}") for part in parts}
        except DatasetError:
            loaded = dict.fromkeys(parts)
            missing.append(row.run)
        datasets.update({f"{row.run}.{part}": value for part, value in loaded.items()})
    outputs = report_paper_table(
        spec=spec,
        smoke=bool(project.context.params.get("smoke")),
        table=run_set,
        benchmarks=list(spec["benchmarks"]),
        rows=[(row.benchmark, row.name) for row in project.rows],
        parts=parts,
        **datasets,
    )
    for name, value in outputs.items():
        catalog.save(f"{run_set}.{name}", value)
    click.echo(json.dumps({"report": f"{run_set}.report_markdown", "missing rows": missing}))
