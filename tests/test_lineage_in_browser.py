"""`kedro viz build`, served on loopback, renders the train_coco nodes in headless Chromium."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (scripts/test.sh installs it)"
)
def test_viz_page_renders_the_train_coco_pipeline(project, tmp_path):
    environment = {**os.environ, "DO_NOT_TRACK": "1"}
    kedro = os.path.join(os.path.dirname(sys.executable), "kedro")
    subprocess.run(
        [kedro, "viz", "build"],
        cwd=project,
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(project / "build"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(50):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        profile = tmp_path / "chromium-profile"
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--window-size=1600,1000",
                "--dump-dom",
                f"{url}?pid=train_coco&expandAllPipelines=true",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    rendered = set(
        part.split("<", 1)[0]
        for part in dom.split('class="pipeline-node__text"')[1:]
        for part in [part.split(">", 1)[1]]
    )
    assert {
        "prepare_source",
        "ingest_annotations",
        "resolve_recipe",
        "train_model",
        "evaluate_model",
        "report_run",
        "coco.annotations",
        "coco.model",
        "coco.metrics",
    } <= rendered
    # the train_coco pipeline, not the default
    assert not any(name.startswith("demo.") for name in rendered)
