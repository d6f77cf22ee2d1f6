"""Finding the offline assets, the messages when they are missing, and unpacking the dataset."""

from __future__ import annotations

import io
import re
import tarfile

import pytest

from core.cli.assets import asset_report
from core.data import assets
from core.errors import UserError
from core.models import OFFLINE_MODELS, smollm2


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
    monkeypatch.setattr(smollm2.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match=re.escape("python -m core assets --install-model bundled")):
        smollm2.bundled_gguf_path()
    monkeypatch.setenv(assets.ASSETS_ENV, str(tmp_path))
    with pytest.raises(UserError, match="python -m core assets --install-dataset"):
        assets.bundled_dataset_path()
    report = asset_report()
    assert [row.installed for row in report] == [False, False, False]  # both models and the data
    assert [row.install_command for row in report[:2]] == [
        "python -m core assets --install-model bundled",
        "python -m core assets --install-model gemma3-270m --accept-license",
    ]
    assert "Gemma Terms of Use, opt-in" in report[1].name and "Apache-2.0, the default" in report[0].name


def test_installed_assets_are_found():
    # `make` installs both into the environment that runs the tests.
    assert smollm2.bundled_gguf_path().stat().st_size == 98_362_432
    assert OFFLINE_MODELS["bundled"].installed
    assert assets.bundled_dataset_path().read_text(encoding="utf-8").count("\n") >= 10_000
