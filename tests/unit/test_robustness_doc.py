"""docs/robustness.md names a test for every case; each named test is collected by pytest,
so the table cannot promise a check that is not run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FILES = {
    "I": "tests/unit/test_robustness_inputs.py",
    "S": "tests/unit/test_robustness_store.py",
    "H": "tests/unit/test_hub_and_serving.py",
    "A": "tests/app/test_shared_mode.py",
    "P": "tests/app/test_pages.py",
    "T": "tests/unit/test_talk.py",
    "D": "tests/unit/test_deck.py",
    "R": "tests/app/test_present.py",
    "C": "tests/unit/test_companions.py",
    "N": "tests/unit/test_remedies.py",
    "X": "tests/unit/test_distractors.py",
    "G": "tests/unit/test_grid.py",
    "B": "tests/unit/test_bundled.py",
    "K": "tests/unit/test_run_keys.py",
    "M": "tests/unit/test_metrics_and_charts.py",
    "O": "tests/unit/test_models.py",
    "Q": "tests/unit/test_pack_border.py",
    "W": "tests/app/test_pack_origin.py",
    "U": "tests/app/test_runs.py",
    "F": "tests/unit/test_activation_files.py",
    "V": "tests/app/test_imported_activations.py",
    "E": "tests/unit/test_estimators.py",
    "Y": "tests/unit/test_template_ensembles.py",
    "L": "tests/unit/test_cli.py",
}


def table_rows() -> list[str]:
    lines = (REPO / "docs" / "robustness.md").read_text().splitlines()
    return [line for line in lines if re.match(r"^\| \d+ \|", line)]


def named_tests() -> list[tuple[str, str]]:
    """(file, test id) for every test the table names; a bare `[param]` continues the
    function before it."""
    named = []
    for row in table_rows():
        cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        file, function = None, None
        for token in re.findall(r"(?<![\w.])[" + "".join(FILES) + r"](?= `)|`[^`]+`", cell):
            if token in FILES:
                file = FILES[token]
                continue
            name = token.strip("`")
            if not name.startswith("["):
                function = name.partition("[")[0]
                named.append((file, name))
            else:
                named.append((file, function + name))
    return named


def test_the_table_has_at_least_60_cases():
    assert len(table_rows()) >= 60


def test_every_test_the_table_names_is_collected():
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *FILES.values()],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    ).stdout
    ids = set(collected.splitlines())
    missing = [f"{file}::{name}" for file, name in named_tests() if f"{file}::{name}" not in ids]
    assert not missing and len(named_tests()) >= 60, missing
