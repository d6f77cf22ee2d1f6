"""The public API is a promise: `core.__all__` is short and curated, every name resolves to
a documented object in a public module, the docs' public page documents exactly these names,
`import core` stays cheap, and the package builds with only `core` in it and its command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_PAGE = ROOT / "docs" / "reference" / "index.md"


def test_all_is_curated_and_every_name_resolves_to_a_documented_public_object():
    names = [name for name in core.__all__ if name != "__version__"]
    assert 10 <= len(names) <= 30 and len(set(names)) == len(names)
    for name in names:
        value = getattr(core, name)
        module = value.__module__
        assert not any(part.startswith("_") for part in module.split(".")), (name, module)
        assert (value.__doc__ or "").strip(), name
    assert set(core.__all__) <= set(dir(core))
    with pytest.raises(AttributeError):
        core.run_pipeline  # noqa: B018 - a deep name is not reached through the front door


def test_the_public_page_documents_exactly_the_curated_names():
    documented = re.findall(r"^::: (core(?:\.\w+)+)$", PUBLIC_PAGE.read_text(), flags=re.M)
    by_name = {path.rsplit(".", 1)[1]: path.rsplit(".", 1)[0] for path in documented}
    assert len(by_name) == len(documented)
    public = {name: getattr(core, name).__module__ for name in core.__all__ if name != "__version__"}
    assert by_name == public


def test_importing_core_loads_none_of_the_heavy_libraries():
    heavy = "('torch', 'transformers', 'altair')"
    probe = f"import sys, core, core.config; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_the_wheel_holds_the_library_its_data_and_the_command(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside pyproject.toml
    shutil.copytree(ROOT / "core", source / "core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("ccs_imbalance_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"core"}  # not ui, app_pages, tests or examples: only the library
    assert "core/py.typed" in names and "core/story/decks/demo.toml" in names and "core/api/sweeps.py" in names
    (entry_points,) = [n for n in names if n.endswith("entry_points.txt")]
    assert "ccs-lab = core.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    (metadata,) = [n for n in names if n.endswith("METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {core.__version__}" in text and "Requires-Dist: torch" in text
    assert "Requires-Dist: streamlit" in text and "extra == " in text  # the dashboard is an extra
