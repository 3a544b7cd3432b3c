"""A run set as plain ``sbatch`` scripts: prepare → rows (an array, multi-node rows apart) →
report, chained by ``--dependency``; submitted, with a record of the job ids.

Plain scripts rather than a submission library (submitit pickles a Python callable per job and
runs it through its own launcher): each job here is one ``kedro run`` command line, which a person
can read, rerun by hand or edit in ``--dry-run``'s output, and nothing new is installed on the
cluster.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pvlr_kedro.cluster.rows import Row
from pvlr_kedro.cluster.settings import SlurmSettings


@dataclass(frozen=True)
class Invocation:
    """How every job calls Kedro: the project, the environment, the ``--params`` given."""

    project: Path
    env: str | None
    params: str
    python: str = sys.executable

    def kedro(self, *arguments: str, expanded: str = "", params: bool = True) -> str:
        """A ``python -m kedro`` command line: ``arguments`` quoted, then ``expanded`` as written
        (words with shell variables), then the given ``--params`` unless ``params`` is false."""
        words = [self.python, "-m", "kedro", *arguments]
        words += [f"--env={self.env}"] if self.env else []
        words += [f"--params={self.params}"] if self.params and params else []
        return " ".join([*(shlex.quote(word) for word in words), expanded]).strip()


@dataclass(frozen=True)
class Job:
    """One ``sbatch`` script, its name and what it waits for."""

    name: str
    script: str
    after: tuple[str, ...] = ()  # names of jobs it depends on
    condition: str = "afterok"


def header(name: str, log: str, settings: SlurmSettings, invocation: Invocation, *extra: str):
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={name}",
        f"#SBATCH --output={log}",
        *settings.directives(),
        *(f"#SBATCH {line}" for line in extra),
        "set -uo pipefail",
        f"cd {shlex.quote(str(invocation.project))}",
        "export DO_NOT_TRACK=1",
    ]
    return lines + ([settings.setup] if settings.setup else [])


def prepare_job(run_set: str, benchmarks: list[str], logs: Path, settings, invocation) -> Job:
    """Each benchmark of the run set ingested once, before any row."""
    name = f"pvlr-{run_set}-prepare"
    lines = header(name, str(logs / "prepare-%j.log"), settings, invocation)
    namespaces = ",".join(benchmarks)
    lines.append(
        invocation.kedro("run", f"--pipelines={run_set}", f"--namespaces={namespaces}") + " || exit"
    )
    return Job(name, "\n".join(lines) + "\n")


def row_script_body(run: str, command: str, logs: Path, settings: SlurmSettings) -> list[str]:
    """Run one row in the background; on SIGUSR1 (``signal_seconds`` before the time limit, or a
    preemption's warning) stop it and requeue the job, which resumes from the row's checkpoint;
    the exit status goes to ``<logs>/<run>.exit`` for ``kedro cluster status`` (``run`` may be
    ``$RUN``: the path is double-quoted, so it expands)."""
    exit_file = f'"{logs}/{run}.exit"'
    return [
        f"echo running > {exit_file}",
        "requeue() {",
        '  kill -TERM "$child" 2>/dev/null; wait "$child"',
        f'  if [ "${{SLURM_RESTART_COUNT:-0}}" -lt {settings.max_requeues} ]; then',
        f'    echo "pvlr: {run} stopped before the time limit; requeued, it resumes from its '
        'checkpoint"',
        f"    echo requeued > {exit_file}",
        '    scontrol requeue "$JOB"; exit 0',
        "  fi",
        f'  echo "pvlr: {run} stopped; {settings.max_requeues} requeues spent"; echo 143 > '
        f"{exit_file}; exit 143",
        "}",
        "trap requeue USR1",
        f"{command} &",
        "child=$!",
        'wait "$child"; status=$?',
        'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
        f"echo $status > {exit_file}",
        "exit $status",
    ]


def rows_job(run_set: str, rows: list[Row], logs: Path, settings, invocation) -> Job:
    """One array task per single-machine row."""
    name = f"pvlr-{run_set}-rows"
    extra = [
        f"--array=0-{len(rows) - 1}",
        "--requeue",
        f"--signal=B:USR1@{settings.signal_seconds}",
    ]
    lines = header(name, str(logs / "row-%A_%a.log"), settings, invocation, *extra)
    runs = " ".join(shlex.quote(row.run) for row in rows)
    lines += [
        f"RUNS=({runs})",
        'RUN="${RUNS[$SLURM_ARRAY_TASK_ID]}"',
        'JOB="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    ]
    command = invocation.kedro("run", f"--pipelines={run_set}", expanded='--namespaces="$RUN"')
    body = row_script_body("$RUN", command, logs, settings)
    return Job(name, "\n".join(lines + body) + "\n", after=(f"pvlr-{run_set}-prepare",))


def multi_node_job(row: Row, logs: Path, settings, invocation) -> Job:
    """A row on ``train.nodes`` machines: one task per node through ``srun``; the rendezvous at the
    job's first node, on a port drawn from the job id (no two jobs on a node share one), each
    task's node rank from Slurm's ``SLURM_NODEID``."""
    name = f"pvlr-{row.run}"
    train = row.recipe.train
    gpus = train.devices if isinstance(train.devices, int) and train.devices > 1 else None
    extra = [
        f"--nodes={row.nodes}",
        "--ntasks-per-node=1",
        "--requeue",
        f"--signal=B:USR1@{settings.signal_seconds}",
        *([f"--gpus-per-task={gpus}"] if gpus else []),
    ]
    lines = header(name, str(logs / f"{row.run}-%j.log"), settings, invocation, *extra)
    key = f"{row.run_set}.rows.{row.name}.train"
    per_node = ",".join(
        part
        for part in (
            invocation.params,
            f"{key}.node_rank=$SLURM_NODEID",
            f"{key}.rdzv_endpoint=$HEAD:$PORT",
        )
        if part
    )
    run = invocation.kedro(
        "run",
        f"--pipelines={row.run_set}",
        f"--namespaces={row.run}",
        expanded=f'--params="{per_node}"',
        params=False,
    )
    lines += [
        'JOB="$SLURM_JOB_ID"',
        'HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "PORT=$((20000 + SLURM_JOB_ID % 20000))",
        "export HEAD PORT",
    ]
    command = f"srun --kill-on-bad-exit=1 bash -c {shlex.quote(run)}"
    body = row_script_body(row.run, command, logs, settings)
    return Job(name, "\n".join(lines + body) + "\n", after=(f"pvlr-{row.run_set}-prepare",))


def report_job(run_set: str, after: tuple[str, ...], logs: Path, settings, invocation) -> Job:
    """The run set's report once every row has ended, however: a missing row is marked so."""
    name = f"pvlr-{run_set}-report"
    lines = header(name, str(logs / "report-%j.log"), settings, invocation)
    lines.append(invocation.kedro("cluster", "report", run_set) + " || exit")
    return Job(name, "\n".join(lines) + "\n", after=after, condition="afterany")


def plan_jobs(run_set: str, rows: list[Row], logs: Path, settings, invocation) -> list[Job]:
    """The jobs that run ``rows`` (those not done) and then the report; none when no row is to
    run."""
    if not rows:
        return []
    benchmarks = list(dict.fromkeys(row.benchmark for row in rows))
    single = [row for row in rows if row.nodes == 1]
    jobs = [prepare_job(run_set, benchmarks, logs, settings, invocation)]
    if single:
        jobs.append(rows_job(run_set, single, logs, settings, invocation))
    jobs += [multi_node_job(row, logs, settings, invocation) for row in rows if row.nodes > 1]
    rows_jobs = tuple(job.name for job in jobs[1:])
    return [*jobs, report_job(run_set, rows_jobs, logs, settings, invocation)]


def submit(jobs: list[Job], folder: Path, rows: list[Row]) -> dict:
    """``sbatch`` each job (scripts kept under ``folder/scripts``), its dependencies by job id; the
    record (job ids, the array task of each row) appended to ``folder/submissions.json``."""
    if shutil.which("sbatch") is None:
        raise RuntimeError(
            "sbatch not found: submit from a machine with Slurm's commands (the cluster's login "
            "node), or print the scripts with --dry-run"
        )
    scripts = folder / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    ids: dict[str, str] = {}
    for job in jobs:
        path = scripts / f"{job.name}.sh"
        path.write_text(job.script)
        command = ["sbatch", "--parsable"]
        if job.after:
            command.append(f"--dependency={job.condition}:{':'.join(ids[a] for a in job.after)}")
        done = subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"sbatch {path} failed: {done.stderr.strip() or done.stdout}")
        ids[job.name] = done.stdout.strip().split(";")[0]
    array = [row for row in rows if row.nodes == 1]
    row_jobs = {
        row.run: f"{ids[f'pvlr-{row.run_set}-rows']}_{index}" for index, row in enumerate(array)
    }
    row_jobs.update({row.run: ids[f"pvlr-{row.run}"] for row in rows if row.nodes > 1})
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "jobs": ids, "rows": row_jobs}
    history = folder / "submissions.json"
    earlier = json.loads(history.read_text()) if history.exists() else []
    history.write_text(json.dumps([*earlier, record], indent=2))
    return record
