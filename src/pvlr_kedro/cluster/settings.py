"""The Slurm settings of ``conf/<env>/cluster.yml``: every key but ``logs`` optional (the base
file sets it under ``${globals:data_root}``), an unknown one an error."""

from __future__ import annotations

from dataclasses import field

from pydantic.dataclasses import dataclass

from pvlr_kedro.pvlr.utils.parameter_blocks import (
    BLOCK_RULES,
    AtLeastOne,
    NonNegativeInt,
    ParameterBlock,
)


@dataclass(frozen=True, config=BLOCK_RULES)
class SlurmSettings(ParameterBlock):
    """``slurm:`` of ``cluster.yml``; None leaves Slurm's default."""

    logs: str  # job scripts, logs and submission records, per run set
    partition: str | None = None  # -p
    account: str | None = None  # -A
    qos: str | None = None  # --qos
    time: str | None = None  # a row's time limit, e.g. "12:00:00" (-t)
    gpus_per_task: AtLeastOne | None = None  # e.g. 1 (a row with train.devices: N asks for N)
    cpus_per_task: AtLeastOne | None = None  # -c
    mem: str | None = None  # e.g. "64G"
    extra_sbatch: list[str] = field(default_factory=list)  # more #SBATCH lines
    setup: str | None = None  # shell lines every job runs first (activate an environment)
    # SIGUSR1 this long before the time limit: stop, requeue, resume
    signal_seconds: NonNegativeInt = 300
    max_requeues: NonNegativeInt = 5  # requeues of a row after preemption or its time limit

    block = "slurm"

    @classmethod
    def from_config(cls, config: dict) -> SlurmSettings:
        unknown = sorted(set(config) - {"slurm"})
        if unknown:
            raise ValueError(f"cluster.yml: unknown top-level keys {', '.join(unknown)} (slurm)")
        return cls.from_params(config.get("slurm") or {})

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
