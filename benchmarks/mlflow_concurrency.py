"""Several jobs writing one SQLite MLflow store at once, as table rows on a cluster would: each
process opens a run, logs a row's worth of parameters and per-epoch metrics, and closes it.
Prints, per number of writers, the seconds taken and the runs that failed (e.g. "database is
locked").

    .venv/bin/python benchmarks/mlflow_concurrency.py [--writers 2 4 8] [--epochs 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path


def one_row(store: str, row: int, epochs: int) -> str | None:
    import mlflow  # noqa: PLC0415  (in each writer, as each job imports it)

    mlflow.set_tracking_uri(store)
    mlflow.set_experiment("concurrency")
    try:
        with mlflow.start_run(run_name=f"row{row}"):
            mlflow.log_params({f"model.key{k}": k for k in range(60)})
            for epoch in range(1, epochs + 1):
                mlflow.log_metrics({f"metric{k}": epoch * k for k in range(10)}, step=epoch)
        return None
    except Exception as err:  # noqa: BLE001  (counted, not raised: the figure is how many fail)
        return f"{type(err).__name__}: {str(err)[:120]}"


def trial(writers: int, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        store = f"sqlite:///{Path(folder) / 'mlruns.db'}"
        one_row(store, -1, 1)  # the schema made once, as the first job would
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(writers) as pool:
            errors = pool.starmap(one_row, [(store, row, epochs) for row in range(writers)])
        failed = [error for error in errors if error]
        return {
            "writers": writers,
            "seconds": round(time.perf_counter() - started, 1),
            "failed": len(failed),
            "errors": sorted(set(failed)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    for writers in args.writers:
        print(json.dumps(trial(writers, args.epochs)))


if __name__ == "__main__":
    main()
