"""The notebook runs against a finished (smoke) run, so that it cannot rot."""

import nbformat
from nbclient import NotebookClient

from tests.conftest import REPO


def test_notebook_executes_and_shows_metrics_and_attention(smoke_project, monkeypatch):
    monkeypatch.setenv("PVLR_RUN", "table4.coco.full")
    # the smoke run's results live in its environment's data/smoke/
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    notebook = nbformat.read(REPO / "notebooks/inspect_run.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(smoke_project)}},
    ).execute()
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "EMA model (reported)" in html and "top3 OF1" in html
    pictures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= 2  # the per-class AP bars and the attention maps
    assert any("benchmark coco, backbone pvlr-tiny-rn" in o.get("text", "") for o in outputs)
