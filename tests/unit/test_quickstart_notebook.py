"""The notebook of the docs (examples/quickstart.ipynb, rendered on the docs site) runs as
written on the bundled model, in a fresh kernel, and shows what it says: the public API,
a sweep's summary with intervals, a chart, single pairs, estimators on the reader's own
arrays agreeing with the sweep, and an imported activation file swept."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"
pytestmark = pytest.mark.slow


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts.append(data.get("text/plain", ""))
    return "\n".join(parts)


def test_the_quickstart_notebook_runs_and_shows_what_it_says(bundled_model, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "stored outputs"
    where = {"metadata": {"path": str(tmp_path)}}  # the kernel's working folder: the file it writes lands there
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources=where).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [_text(cell) for cell in code]
    assert "'CCS'" in outputs[0] and "'sweep'" in outputs[0]
    assert "torch.Size([1, 400" in outputs[1]
    assert "sign-resolved as max(acc, 1 - acc)" in outputs[2] and "ci_low" in outputs[2]
    assert any("vegaEmbed" in out.get("data", {}).get("text/html", "") for out in code[3].outputs)  # altair's chart
    assert "confidence" in outputs[4]
    ccs_line, lr_line = outputs[5].splitlines()[:2]
    assert float(ccs_line.split()[1]) > 0.9 and float(lr_line.split()[-1]) > 0.9
    assert float(outputs[6].split()[-1]) > 0.99  # the estimator finds the sweep cell's direction
    assert "my_activations.safetensors" in outputs[7] and "ccs" in outputs[7] and "0.9" in outputs[7]
    assert (tmp_path / "my_activations.safetensors").is_file()
