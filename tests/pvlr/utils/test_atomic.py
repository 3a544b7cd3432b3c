"""Two writers of one file at once: each renames its own whole temporary file, neither breaks."""

import multiprocessing

import pytest

from pvlr_kedro.pvlr.utils.atomic import atomic_write

PAYLOADS = {writer: bytes([writer]) * 2**20 for writer in (1, 2)}


def write_many(path, writer: int) -> None:
    for _ in range(40):
        atomic_write(path, lambda handle: handle.write(PAYLOADS[writer]))


def test_two_processes_writing_one_file_at_once_never_break_each_other(tmp_path):
    path = tmp_path / "epoch_001.pt"
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=write_many, args=(path, w)) for w in PAYLOADS]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [process.exitcode for process in writers] == [0, 0]
    assert path.read_bytes() in PAYLOADS.values()  # the last renamed wins, whole
    assert [p.name for p in tmp_path.iterdir()] == ["epoch_001.pt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")

    def fail(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
