"""Data-parallel training on torch.distributed: the launcher, a process's place in the world,
collectives.

``launch`` starts the training processes with PyTorch's own elastic launcher
(``torch.distributed.launcher.api.elastic_launch``, the engine behind ``torchrun``): the
devices of this machine (``train.devices``) times the machines (``train.nodes``), joined by a
static rendezvous at ``train.rdzv_endpoint`` (machine ``train.node_rank`` 0 hosts it). NCCL on
CUDA, gloo on CPU. Each process logs through a queue into the launching process's logging (so
every rank's records reach the ``kedro run`` log, other ranks' prefixed by the rank), dies with its
launcher (``PR_SET_PDEATHSIG``), and a failure stops the whole run with the worker's own
error and its rank. Only global rank 0 returns a result; the others return None.
"""

from __future__ import annotations

import ctypes
import json
import logging
import logging.handlers
import multiprocessing
import os
import signal
import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, record
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @classmethod
    def current(cls) -> World:
        if not (dist.is_available() and dist.is_initialized()):
            return cls()
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, wanted: torch.device) -> torch.device:
        """The device this process trains on: its local GPU on CUDA."""
        return (
            torch.device("cuda", self.local_rank)
            if wanted.type == "cuda" and self.size > 1
            else wanted
        )

    def share(self, items: list) -> list:
        """This process's contiguous share of ``items``: shares differ in length by at most one, the
        longer first (``numpy.array_split``'s rule), and in rank order they are ``items``."""
        base, longer = divmod(len(items), self.size)
        start = self.rank * base + min(self.rank, longer)
        return items[start : start + base + (self.rank < longer)]

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the processes (every process gets the sum)."""
        if self.size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def gather(self, array: np.ndarray) -> np.ndarray:
        """Every process's rows, concatenated in rank order (each process gets them all)."""
        if self.size == 1:
            return array
        parts: list = [None] * self.size
        dist.all_gather_object(parts, array)
        return np.concatenate(parts)

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


@dataclass(frozen=True)
class LaunchPlan:
    """How many processes on how many machines, and where they meet."""

    devices: int
    nodes: int = 1
    node_rank: int = 0
    endpoint: str | None = None
    backend: str = "gloo"
    timeout_s: int = 300  # how long the machines of a run wait for each other

    @property
    def world_size(self) -> int:
        return self.devices * self.nodes


class ProcessGroupBatchNorm2d(torch.nn.BatchNorm2d):
    """BatchNorm over the global batch of a gloo process group (PyTorch's SyncBatchNorm runs on GPUs
    only): the per-channel sums are all-reduced, with gradients, so the statistics, the running
    statistics and the gradients are those of one process over the whole batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        count = torch.full((1,), x.numel() // x.shape[1], dtype=x.dtype, device=x.device)
        sums = torch.cat([x.sum((0, 2, 3)), (x * x).sum((0, 2, 3)), count])  # 2C+1
        sums = dist_nn.all_reduce(sums)  # the backward all-reduces the gradients
        channels = x.shape[1]
        total = sums[-1]
        mean = sums[:channels] / total
        var = sums[channels : 2 * channels] / total - mean * mean
        running_mean, running_var, tracked = (
            self.running_mean,
            self.running_var,
            self.num_batches_tracked,
        )
        # built by sync_batchnorm from BatchNorm2d with running statistics and a momentum
        assert running_mean is not None and running_var is not None and tracked is not None
        assert self.momentum is not None
        with torch.no_grad():
            tracked += 1
            running_mean.lerp_(mean.detach(), self.momentum)
            running_var.lerp_(var.detach() * total / (total - 1), self.momentum)
        scale = torch.rsqrt(var + self.eps) * self.weight
        return x * scale.view(1, -1, 1, 1) + (self.bias - mean * scale).view(1, -1, 1, 1)


def sync_batchnorm(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` with BatchNorm over the global batch: PyTorch's SyncBatchNorm on GPUs,
    ``ProcessGroupBatchNorm2d`` on a CPU (same parameters and buffers, so the same state dict)."""
    if device.type == "cuda":
        return torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for module in model.modules():
        if type(module) is torch.nn.BatchNorm2d:
            module.__class__ = ProcessGroupBatchNorm2d  # the same tensors; only forward changes
    return model


def launch(function, arguments: tuple, plan: LaunchPlan):
    """Run ``function(*arguments)`` in ``plan.devices`` processes on this machine, joined with the
    other machines' into one process group; the result of global rank 0 (None on the other
    machines)."""
    endpoint = plan.endpoint or f"127.0.0.1:{_free_port()}"
    log.info(
        "Training on %d process(es) (%d per machine × %d machine(s), this is machine %d), backend "
        "%s, rendezvous at %s",
        plan.world_size,
        plan.devices,
        plan.nodes,
        plan.node_rank,
        plan.backend,
        endpoint,
    )
    records = multiprocessing.get_context("spawn").Queue()  # handed to the workers as they start
    listener = logging.handlers.QueueListener(records, _Relay())
    listener.start()
    # the processes' error files, read on a failure and removed with the launch (the launcher's own
    # default, a new torchelastic_* folder under the temporary folder per launch, would stay behind)
    with tempfile.TemporaryDirectory(prefix="pvlr-launch-") as error_files:
        config = _launch_config(plan, endpoint, error_files)
        try:
            results = elastic_launch(config, _worker)(function, arguments, plan.backend, records)
        except ChildFailedError as err:
            raise RuntimeError(_failure_message(err, plan)) from None
        except (
            Exception
        ) as err:  # the rendezvous: a machine that never came, an endpoint that cannot be bound
            raise RuntimeError(
                f"the training processes could not meet at {endpoint} (train.rdzv_endpoint) "
                f"within {plan.timeout_s} s (train.rdzv_timeout): {type(err).__name__}: {err}"
            ) from err
        finally:
            listener.stop()
    return results.get(0) if plan.node_rank == 0 else None


def _launch_config(plan: LaunchPlan, endpoint: str, error_files: str) -> LaunchConfig:
    """The elastic launcher's settings for ``plan``: a static rendezvous at ``endpoint``, no
    restarts, the processes' error files under ``error_files``."""
    return LaunchConfig(
        logs_specs=DefaultLogsSpecs(log_dir=error_files),
        min_nodes=plan.nodes,
        max_nodes=plan.nodes,
        nproc_per_node=plan.devices,
        run_id=f"pvlr-{uuid.uuid4().hex[:8]}" if plan.nodes == 1 else "pvlr",
        rdzv_backend="static",
        rdzv_endpoint=endpoint,
        rdzv_configs={"rank": plan.node_rank, "timeout": plan.timeout_s},
        max_restarts=0,
        monitor_interval=0.2,
        start_method="spawn",
    )


@record
def _worker(function, arguments: tuple, backend: str, records):
    """One training process: die with the launcher, log through the queue, join the group, run."""
    _die_with_parent()
    rank = int(os.environ["RANK"])
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(logging.INFO)
    # rank 0's records read as a single process's (the resume and per-epoch lines unchanged)
    if rank:
        root.handlers[0].addFilter(_RankPrefix(rank))
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    else:  # CPU processes share the cores: more threads than cores slows each many times
        local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_processes))
    dist.init_process_group(backend)
    # an error leaves the group as it is: its peers fail after this one's record
    result = function(*arguments)
    dist.destroy_process_group()
    return result if rank == 0 else None


class _RankPrefix(logging.Filter):
    def __init__(self, rank: int) -> None:
        super().__init__()
        self.prefix = f"(rank {rank}) "  # not [rank N]: rich takes square brackets for markup

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.prefix):
            record.msg = self.prefix + record.getMessage()
            record.args = None
        return True


class _Relay(logging.Handler):
    """A worker's record, handed to the launching process's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def _failure_message(err: ChildFailedError, plan: LaunchPlan) -> str:
    """The first process to fail (the cause: the others fail when their peer is gone), with its
    rank and its own error, from the error files every process of this machine wrote (the oldest
    first)."""
    _, failure = err.get_first_failure()
    errors = []
    for local_rank, path in _error_files(failure.error_file):
        detail = json.loads(path.read_text()).get("message", {})
        detail = detail if isinstance(detail, dict) else {"message": str(detail)}
        errors.append(
            (
                path.stat().st_mtime_ns,
                plan.node_rank * plan.devices + local_rank,
                str(detail.get("message", "")).strip(),
            )
        )
    if not errors:  # no error file: killed by a signal (out of memory?)
        return (
            f"a training process failed with exit code {failure.exitcode} and no message "
            "(killed by a signal?)"
        )
    _, rank, message = min(errors)
    return f"training process rank {rank} failed: {message}"


def _error_files(first: str) -> list[tuple[int, Path]]:
    """(local rank, error file) of every process of the attempt that wrote one."""
    attempt = Path(first).parent.parent if first else None
    if attempt is None or not attempt.is_dir():
        return []
    return [
        (int(path.parent.name), path)
        for path in attempt.glob("*/error.json")
        if path.parent.name.isdigit()
    ]


def _die_with_parent() -> None:
    """Linux: this process is killed when its launcher dies (kill -9 of ``kedro run`` leaves no
    worker)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
