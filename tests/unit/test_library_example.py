"""The Python example of the docs (examples/library.py, included verbatim in
docs/guide/python.md) runs as written on the bundled model and does what it says:
a table of every method at every p, the provenance line and the chart."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "library.py"
pytestmark = pytest.mark.slow


def test_the_library_example_extracts_sweeps_and_draws(bundled_model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    printed = capsys.readouterr().out
    table = namespace["run"].sweep.table
    assert len(table) == 5 * 3 * 3 and set(table.p) == {0.5, 0.8, 0.95}  # the demo's five methods
    assert "CCS" in printed and "p=0.95" in printed and "sign-resolved as max(acc, 1 - acc)" in printed
    balanced = table[(table.method == "lr_raw") & (table.p == 0.5)].accuracy.mean()
    assert balanced > 0.7  # the bundled model reads sentiment at layer 23
    assert (tmp_path / "accuracy_vs_p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
