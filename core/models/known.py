"""How many hidden states a model has, read without loading its weights or touching the
network, and a quiet way to call transformers while doing so."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from core.config import ModelSpec
from core.models import OFFLINE_MODELS, offline_model_id


@contextmanager
def quiet_transformers():
    """Silence transformers' load report and progress bars for the duration of a load."""
    from transformers.utils import logging as hf_logging  # transformers takes 2 s to import; only loads need it

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def known_hidden_states(spec: ModelSpec) -> int | None:
    """How many hidden states (embeddings + blocks) `spec` has, where that is known without
    loading weights or touching the network: an offline model, a local folder or a hub id
    already in the hub cache. None otherwise (extraction checks it after loading)."""
    model_id = offline_model_id(spec.model_id)
    if model_id is not None:
        return OFFLINE_MODELS[model_id].hidden_states
    from transformers import AutoConfig  # as above: only a hub or local model needs it

    try:
        if Path(spec.model_id).is_absolute():
            source = spec.model_id
        else:
            from huggingface_hub import snapshot_download

            source = snapshot_download(spec.model_id, revision=spec.revision, local_files_only=True)
        with quiet_transformers():
            config = AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        return int(text_config.num_hidden_layers) + 1
    except Exception:  # unknown here: the extraction, which loads the model, checks it
        return None
