"""Hub ids load from the local hub cache through the real hub-loading code (a snapshot
laid out as huggingface_hub lays it out), never from a folder of the same name; the
serving mode; what a shared server refuses, identically whatever exists on its disk;
user text made inert for Markdown and spreadsheets. Each test id is a row of
docs/robustness.md."""

from __future__ import annotations

import dataclasses
import gc
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from core.config import DatasetSpec, ModelSpec
from core.data.loaders import load_dataset
from core.data.uploads import save_upload
from core.errors import UserError, public_message, short_path
from core.extraction.models import load_model
from core.settings.limits import SHARED
from core.settings.presets import DEMO
from core.settings.validate import check_extract
from core.views.export import safe_csv, spreadsheet_safe
from ui.serving import is_shared

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = Path(__file__).resolve().parents[2]


def lay_snapshot(cache: Path, kind: str, repo_id: str, files_from: Path) -> Path:
    """A hub-cache entry for `repo_id` at "main", as snapshot_download leaves it."""
    folder = cache / f"{kind}s--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / COMMIT
    shutil.copytree(files_from, snapshot)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_hub_model_loads_from_the_hub_cache_not_a_same_named_folder(
    hub_cache, tiny_llama, tiny_gpt2, tmp_path, monkeypatch
):
    lay_snapshot(hub_cache, "model", "tiny/llama", tiny_llama)
    decoy = tmp_path / "work" / "tiny" / "llama"
    shutil.copytree(tiny_gpt2, decoy)  # a folder named like the hub id, holding another model
    monkeypatch.chdir(tmp_path / "work")
    loaded = load_model(ModelSpec(model_id="tiny/llama"), "cpu")
    assert type(loaded.model).__name__ == "LlamaModel"


def test_hub_dataset_loads_from_the_hub_cache(hub_cache, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    pd.DataFrame({"text": ["nice", "awful", "lovely", "bad"], "label": [1, 0, 1, 0]}).to_csv(
        files / "train.csv", index=False
    )
    lay_snapshot(hub_cache, "dataset", "someone/reviews", files)
    data = load_dataset(DatasetSpec(source="hf", name="someone/reviews", split="train"))
    assert data.texts == ("nice", "awful", "lovely", "bad")


def test_hub_id_missing_offline_is_one_fast_message(hub_cache):
    with pytest.raises(UserError, match="not in the local Hugging Face cache and the hub cannot be reached"):
        load_model(ModelSpec(model_id="nobody/nothing"), "cpu")


@pytest.mark.parametrize("existing, missing", [("docs", "no-such-folder-anywhere"), ("core", "c0re")])
def test_a_relative_name_reveals_nothing_about_the_servers_folders(hub_cache, existing, missing, monkeypatch):
    monkeypatch.chdir(REPO)
    assert (REPO / existing).is_dir()
    messages = []
    for name in (existing, missing):
        with pytest.raises(UserError) as error:
            load_model(ModelSpec(model_id=name), "cpu")
        messages.append(str(error.value).replace(name, "NAME"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "path",
    ["/etc", "/no/such/folder", "/root/.ssh", str(REPO)],
    ids=["etc", "missing-folder", "ssh-keys", "the-app-itself"],
)
def test_shared_mode_refuses_every_path_with_the_same_words(path):
    for changes in (
        {"model": ModelSpec(model_id=path)},
        {"dataset": DatasetSpec("hf", path)},
        {"dataset": DatasetSpec("csv", path)},
    ):
        with pytest.raises(UserError) as error:
            check_extract(dataclasses.replace(DEMO[0], **changes), SHARED)
        assert "loads no files or folders of its own" in str(error.value) and path not in str(error.value)


def test_shared_mode_runs_no_remote_code():
    with pytest.raises(UserError, match="without remote code"):
        check_extract(
            dataclasses.replace(DEMO[0], model=ModelSpec(model_id="org/model", trust_remote_code=True)), SHARED
        )


@pytest.mark.parametrize(
    "address, shared",
    [
        ("localhost", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("0.0.0.0", True),
        ("", True),
        (None, True),
        ("192.168.1.5", True),
    ],
)
def test_any_address_beyond_this_machine_means_shared_mode(address, shared, monkeypatch):
    monkeypatch.delenv("CCS_LAB_SHARED", raising=False)
    assert is_shared(address) is shared
    monkeypatch.setenv("CCS_LAB_SHARED", "1")
    assert is_shared(address)


def test_make_run_serves_localhost_and_make_serve_is_shared():
    makefile = (REPO / "Makefile").read_text()
    run = makefile.split("\nrun:")[1].split("\n\n")[0]
    serve = makefile.split("\nserve:")[1].split("\n\n")[0]
    assert "--server.address localhost" in run and "CCS_LAB_SHARED=1" in serve
    assert 'address = "localhost"' in (REPO / ".streamlit" / "config.toml").read_text()


def test_uploads_are_named_by_content_and_kept_where_asked(tmp_path):
    digest = save_upload(b"text,label\na,1\nb,0\n", tmp_path / "session")
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and (tmp_path / "session" / f"{digest}.csv").is_file()
    assert len(load_dataset(DatasetSpec("csv", digest), tmp_path / "session")) == 2
    with pytest.raises(UserError, match="not on this server"):
        load_dataset(DatasetSpec("csv", digest), tmp_path / "another-session")


def test_a_session_upload_folder_goes_with_its_session():
    from ui.serving import SessionFolder

    folder = SessionFolder()
    path = folder.path
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o700
    del folder
    gc.collect()
    assert not path.exists()


HOSTILE_TEXTS = [
    "fine\n\n![x](http://attacker.example/pixel.png) [click](javascript:alert(1))",
    "# Heading\n\n<img src=x onerror=alert(1)> <script>alert(1)</script>",
    "$\\\\frac{1}{2}$ and :red[red] and :smile: **bold** _it_ `code` > quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
]


@pytest.mark.parametrize(
    "text", HOSTILE_TEXTS, ids=["image-and-link", "heading-and-html", "maths-emoji-colour", "table"]
)
def test_plain_text_stays_text_in_markdown(text):
    from ui.render import plain

    rendered = MarkdownIt("commonmark").enable("table").render(plain(text))
    assert re.fullmatch(r"<p>[^<>]*</p>\n", rendered), rendered  # one paragraph, no element inside
    assert "$" not in re.sub(r"\\\$", "", plain(text)) and ":" not in re.sub(r"\\:", "", plain(text))


def test_errors_show_names_not_paths():
    error = FileNotFoundError("[Errno 2] No such file: '/root/.cache/ccs-imbalance-lab/uploads/secret.csv'")
    assert public_message(error) == "Unexpected FileNotFoundError: [Errno 2] No such file: 'secret.csv'"
    assert short_path("see ~/.ssh/id_rsa and /etc/passwd") == "see id_rsa and passwd"


def test_spreadsheet_exports_defuse_formulas():
    assert spreadsheet_safe("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert [spreadsheet_safe(v) for v in ("+1", "-1", "@SUM(A1)", "plain", 3)] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "plain",
        3,
    ]
    csv = safe_csv(pd.DataFrame({"text": ['=HYPERLINK("http://x")', "ok"], "n": [1, 2]}))
    assert csv.splitlines()[1].startswith("\"'=HYPERLINK")
