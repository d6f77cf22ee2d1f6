"""Hugging Face hub ids to local snapshot folders, so a hub id is never read as a folder
of the machine that serves the lab (transformers and datasets look for a relative folder
of that name first).

The local hub cache is tried first, so an offline machine answers at once; the hub is
asked only when it answers a connection (hub_reachable).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from core.errors import UserError
from core.names import is_hub_id

# What a model load reads; everything else in a repository (other weight formats, ONNX,
# GGUF, images) is not downloaded. Pickled .bin weights only where no safetensors exist.
MODEL_FILES = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "tokenizer*"]


def _model_patterns(repo_id: str, revision: str | None, allow_code: bool) -> list[str]:
    from huggingface_hub import HfApi

    files = HfApi().list_repo_files(repo_id, revision=revision)
    patterns = list(MODEL_FILES)
    if not any(name.endswith(".safetensors") for name in files):
        patterns.append("*.bin")
    if allow_code:
        patterns.append("*.py")
    return patterns


def hub_snapshot(repo_id: str, revision: str | None, repo_type: str = "model", allow_code: bool = False) -> str:
    """The local folder of `repo_id` at `revision` (a model or a dataset repository):
    from the hub cache, or downloaded when the hub is reachable. A UserError otherwise."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if not is_hub_id(repo_id):
        raise UserError(f"{repo_id!r} is not a Hugging Face {repo_type} id (owner/name).")
    try:
        return snapshot_download(repo_id, repo_type=repo_type, revision=revision, local_files_only=True)
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        pass
    if not hub_reachable():
        raise UserError(
            f"Could not load {repo_type} '{repo_id}': it is not in the local Hugging Face cache and the "
            "hub cannot be reached. Without network, use the bundled model and data, or upload a CSV."
        )
    try:
        patterns = _model_patterns(repo_id, revision, allow_code) if repo_type == "model" else None
        return snapshot_download(repo_id, repo_type=repo_type, revision=revision, allow_patterns=patterns)
    except (HfHubHTTPError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise UserError(f"Could not load {repo_type} '{repo_id}' from the Hugging Face hub: {reason}") from None


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within `timeout` seconds.
    Checked before any download, so an offline machine gets an answer in seconds
    instead of after the hub client's retries (about half a minute)."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False
