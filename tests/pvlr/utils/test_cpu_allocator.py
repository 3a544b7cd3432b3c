"""Freed CPU tensor memory is reused, not mapped and page-faulted afresh every step."""

import os
import platform
import subprocess
import sys

import pytest

# Tensors of 1–30 MiB made, touched and freed ten times (as a training step's activations
# are), after two rounds of warm-up; prints the page faults of those ten rounds.
ROUNDS = """
import resource, sys, torch
from pvlr_kedro.pvlr.utils.cpu_allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def rounds(count):
    for _ in range(count):
        blocks = [torch.ones(mebibytes << 18) for mebibytes in (1, 3, 5, 9, 17, 30)]
        del blocks
rounds(2)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(10)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    """The rounds' page faults in a fresh process, from glibc's starting thresholds (128 KiB, held
    fixed: its dynamic raise depends on the heap's history, so the default faults now and then)."""
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 << 10)}
    done = subprocess.run(
        [sys.executable, "-c", ROUNDS, mode],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's allocator"
)
def test_freed_tensor_memory_is_reused_without_new_page_faults():
    default, kept = page_faults("default"), page_faults("keep")
    assert default > 10_000  # glibc's thresholds: the blocks are mapped anew each round
    assert kept < default / 20
