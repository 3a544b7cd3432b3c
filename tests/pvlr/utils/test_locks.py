"""Runs that share a benchmark's image cache: started at once, one builds it and the others wait
and reuse it; a lock whose holder was killed is taken over."""

import logging
import multiprocessing
import os
import signal
import time

from pvlr_kedro.pipelines.training.nodes import cache_images
from pvlr_kedro.pvlr.engine.recipe import Recipe
from pvlr_kedro.pvlr.utils.locks import exclusive
from tests.pvlr.conftest import generated_demo


def build_and_log(annotations, source, cache_root, log_file) -> None:
    logging.basicConfig(filename=log_file, level=logging.INFO, force=True)
    recipe = Recipe.from_layers(
        {"model": {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64}},
        run="r",
        benchmark="demo",
        smoke=True,
    )
    cache_images(annotations, source, recipe, cache_root)


def test_two_runs_at_once_build_the_cache_once(tmp_path):
    """Both runs start while the cache's lock is held (as by a third run): both wait, then one
    builds and the other reuses."""
    table, _, summary = generated_demo(tmp_path / "demo", 40, 8)
    source = {
        "root": str(tmp_path / "demo"),
        "signature": summary["image_signature"],
        "image_cache": "uint8",
    }
    context = multiprocessing.get_context("fork")
    logs = [tmp_path / f"run{n}.log" for n in range(2)]
    runs = [
        context.Process(target=build_and_log, args=(table, source, str(tmp_path / "cache"), log))
        for log in logs
    ]
    with exclusive(tmp_path / "cache/demo/64px-uint8.lock", "the test"):
        for run in runs:
            run.start()
        deadline = time.monotonic() + 120
        while not all(log.exists() and "waiting" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "the runs did not wait for the lock"
            time.sleep(0.1)
    for run in runs:
        run.join(timeout=300)
    assert [run.exitcode for run in runs] == [0, 0]
    said = "\n".join(log.read_text() for log in logs)
    assert said.count("built: 48 pictures") == 1 and said.count("is complete") == 1
    assert said.count("another run builds it; waiting (lock") == 2 and "held by pid" in said


def hold_forever(path) -> None:
    with exclusive(path, "test"):
        time.sleep(600)


def test_the_lock_of_a_killed_holder_is_taken_over(tmp_path):
    path = tmp_path / "cache.lock"
    holder = multiprocessing.get_context("fork").Process(target=hold_forever, args=(path,))
    holder.start()
    while not path.exists() or "pid" not in path.read_text():
        time.sleep(0.05)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    started = time.monotonic()
    with exclusive(path, "test"):
        assert f"pid {os.getpid()}" in path.read_text()
    assert time.monotonic() - started < 5
