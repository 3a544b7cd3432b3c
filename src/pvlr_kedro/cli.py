"""Project commands (Kedro adds the commands of this ``cli`` group to ``kedro``):

kedro cluster submit <run set> [--env E] [--params P] [--dry-run]
kedro cluster status <run set> [--env E] [--params P]
kedro cluster report <run set> [--env E] [--params P]   (the report job runs this)
kedro app [--run R] [--version V] [--which ema|final] [--port N] [--env E]
"""

from __future__ import annotations

import importlib.util
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
from pvlr_kedro.pipelines.run_sets.nodes import RESULT_PARTS, report_paper_table
from pvlr_kedro.pipelines.run_sets.pipeline import check_spec

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


def project_context(env: str | None, params: str = "") -> tuple[Path, Any]:
    """The project's root and a Kedro session's context with ``--env`` and ``--params`` applied."""
    logging.getLogger("kedro").setLevel(logging.WARNING)  # not a line per dataset read
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    bootstrap_project(root)
    parsed = _split_params(click.get_current_context(), click.Option(["--params"]), params)
    session = KedroSession.create(project_path=root, env=env, runtime_params=parsed or None)
    return root, session.load_context()


class Project:
    """A Kedro session's context for ``run_set`` with ``--env`` and ``--params`` applied."""

    def __init__(self, run_set: str, env: str | None, params: str) -> None:
        self.root, self.context = project_context(env, params)
        self.run_set, self.invocation = run_set, Invocation(self.root, env, params)
        parameters = self.context.params
        check_spec(run_set, parameters.get(run_set) or {}, parameters.get("presets") or {})
        self.rows = run_set_rows(run_set, parameters)
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


@cli.command(name="app")
@click.option("--run", default="demo", show_default=True, help="the run namespace to try")
@click.option("--version", default=None, help="a version folder of its model; default: latest")
@click.option("--which", type=click.Choice(["ema", "final"]), default="ema", show_default=True)
@click.option("--port", type=int, default=7860, show_default=True, help="on 127.0.0.1")
@click.option("--env", "-e", default=None, help="Kedro configuration environment")
def app_command(run: str, version: str | None, which: str, port: int, env: str | None) -> None:
    """A local page to try a trained run: images in, any class names, scores and attention."""
    if importlib.util.find_spec("gradio") is None:
        raise click.ClickException('the page needs Gradio: pip install -e ".[app]"')
    from pvlr_kedro.app.loading import page_model  # noqa: PLC0415  (the optional app extra)
    from pvlr_kedro.app.page import serve  # noqa: PLC0415

    _, context = project_context(env)
    try:
        model = page_model(context, run, version, which)
    except FileNotFoundError as err:
        raise click.ClickException(str(err)) from None
    page = serve(model, port)
    click.echo(f"run `{run}`, version {model.predictor.version}: http://127.0.0.1:{port}/")
    page.block_thread()
