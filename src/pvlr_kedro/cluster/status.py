"""Where a run set stands: each row's state from Slurm (queued, running) and from its outputs and
its job's exit file (done, stale, failed, missing), with its last job id and log."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pvlr_kedro.cluster.rows import Row, output_state

SLURM_STATES = {"PENDING": "queued", "CONFIGURING": "queued", "REQUEUED": "queued"}


@dataclass(frozen=True)
class RowState:
    state: str  # done | stale | missing | queued | running | failed
    job: str | None = None
    log: str | None = None


def submitted_jobs(folder: Path) -> dict[str, str]:
    """Each row's job id in the run set's last submission that ran it (``submissions.json``)."""
    history = folder / "submissions.json"
    jobs: dict[str, str] = {}
    for record in json.loads(history.read_text()) if history.exists() else []:
        jobs.update(record["rows"])
    return jobs


def queue_states(jobs: list[str]) -> dict[str, str]:
    """Slurm's state of each job id still known to the queue (array tasks one by one)."""
    if not jobs:
        return {}
    found = subprocess.run(
        ["squeue", "-h", "-r", "-o", "%i|%T", "-j", ",".join(sorted(set(jobs)))],
        capture_output=True,
        text=True,
        check=False,
    )
    states = {}
    for line in found.stdout.splitlines():
        job, _, state = line.partition("|")
        states[job.strip()] = SLURM_STATES.get(state.strip(), state.strip().lower())
    return states


def log_file(folder: Path, row: Row, job: str) -> Path:
    if row.nodes > 1:
        return folder / f"{row.run}-{job}.log"
    return folder / f"row-{job}.log"


def row_states(rows: list[Row], catalog, folder: Path) -> Iterator[tuple[Row, RowState]]:
    """Slurm's word first (queued, running), then the outputs (done, stale), then the job's exit
    file (failed), else missing."""
    jobs = submitted_jobs(folder)
    queue = queue_states([jobs[row.run] for row in rows if row.run in jobs])
    for row in rows:
        job = jobs.get(row.run)
        log = str(log_file(folder, row, job)) if job else None
        if job in queue:
            yield row, RowState(queue[job], job, log)
            continue
        state = output_state(row, catalog)
        exit_file = folder / f"{row.run}.exit"
        ended = exit_file.read_text().strip() if exit_file.exists() else None
        if state != "done" and ended not in (None, "0", "running", "requeued"):
            state = "failed"
        yield row, RowState(state, job, log)
