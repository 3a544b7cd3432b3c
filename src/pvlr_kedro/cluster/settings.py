"""The Slurm settings of ``conf/<env>/cluster.yml``: every key optional, an unknown one an
error."""

from __future__ import annotations

from dataclasses import dataclass, field

from pvlr_kedro.pvlr.params import from_params


@dataclass(frozen=True)
class SlurmSettings:
    """``slurm:`` of ``cluster.yml``; None leaves Slurm's default."""

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time: str | None = None
    gpus_per_task: int | None = None
    cpus_per_task: int | None = None
    mem: str | None = None
    extra_sbatch: list[str] = field(default_factory=list)
    setup: str | None = None
    signal_seconds: int = 300
    max_requeues: int = 5
    logs: str = "data/09_cluster"

    @classmethod
    def from_config(cls, config: dict) -> SlurmSettings:
        unknown = sorted(set(config) - {"slurm"})
        if unknown:
            raise ValueError(f"cluster.yml: unknown top-level keys {', '.join(unknown)} (slurm)")
        return from_params(cls, dict(config.get("slurm") or {}), "slurm")

    def directives(self, gpus: int | None = None) -> list[str]:
        """``#SBATCH`` options of a job (``gpus``: a row's own count, over ``gpus_per_task``)."""
        options = {
            "partition": self.partition,
            "account": self.account,
            "qos": self.qos,
            "time": self.time,
            "gpus-per-task": gpus or self.gpus_per_task,
            "cpus-per-task": self.cpus_per_task,
            "mem": self.mem,
        }
        lines = [f"--{key}={value}" for key, value in options.items() if value is not None]
        return [f"#SBATCH {line}" for line in [*lines, *self.extra_sbatch]]
