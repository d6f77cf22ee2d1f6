"""Load a model and tokenizer for hidden-state extraction, and pick device and dtype.

Only the base model is loaded (`AutoModel`, no language-model head): extraction needs
hidden states, not logits, and the head of a small model is a fifth of its compute.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from core.config import ModelSpec
from core.data.hub import hub_snapshot
from core.errors import UserError
from core.models import OFFLINE_MODELS, offline_model_id
from core.models.convert import converted_model
from core.models.known import quiet_transformers
from core.names import is_hub_id

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def pick_device(preference: str = "auto") -> torch.device:
    """cuda, then mps, then cpu for "auto"; otherwise the named device."""
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(preference: str, device: torch.device) -> torch.dtype:
    """float32 on CPU and MPS for "auto"; bfloat16 on CUDA where supported, else float16."""
    if preference != "auto":
        if preference not in DTYPES:
            raise UserError(f"Unknown dtype '{preference}' (use auto, {', '.join(DTYPES)}).")
        return DTYPES[preference]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    """'float32' for torch.float32, and so on."""
    return str(dtype).removeprefix("torch.")


def local_fingerprint(folder: Path) -> str:
    """A cheap identity for a local checkpoint folder: its config plus the names and sizes
    of its weight files (hashing gigabytes of weights on every call would be slow)."""
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted(folder.iterdir()):
        if path.suffix in {".safetensors", ".bin", ".gguf", ".pt"}:
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def local_model_folder(model_id: str) -> Path:
    """The folder an absolute model path names, or a UserError naming it by its name only."""
    path = Path(model_id)
    if not path.is_dir():
        raise UserError(f"Model folder {path.name} does not exist.")
    return path


def model_identity(spec: ModelSpec, device: torch.device) -> dict[str, Any]:
    """What makes two models' hidden states the same, computed without loading the model
    (it goes into the activation cache key)."""
    dtype = dtype_name(pick_dtype(spec.dtype, device))
    model_id = offline_model_id(spec.model_id)
    if model_id is not None:
        offline = OFFLINE_MODELS[model_id]
        return {"model_id": model_id, "name": offline.name, "gguf_sha256": offline.gguf_sha256, "dtype": dtype}
    if Path(spec.model_id).is_absolute():
        path = local_model_folder(spec.model_id)
        return {"model_id": str(path.resolve()), "fingerprint": local_fingerprint(path), "dtype": dtype}
    return {"model_id": spec.model_id, "revision": spec.revision or "main", "dtype": dtype}


@dataclass
class LoadedModel:
    """A model ready for extraction, with what the extractor needs to know about it."""

    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    num_hidden_states: int  # embeddings + one per block
    hidden_size: int
    accepts_position_ids: bool
    name: str
    causal: bool = False  # attention looks only backwards, so a shared prefix can be run once
    head_caches: dict = field(default_factory=dict)  # KV cache of a template's opening tokens (core.extraction.forward)
    lock: threading.Lock = field(default_factory=threading.Lock)  # held by every forward pass (forward.stopping_at)


def _hub_offline_message(model_id: str, error: Exception | None) -> str:
    reason = str(error).splitlines()[0][:300].rstrip(".") if error and str(error) else "the hub cannot be reached"
    return (
        f"Could not load model '{model_id}': {reason}. Without network, only models already in the Hugging "
        "Face cache or in a local folder can be loaded; the bundled model always works."
    )


def is_causal(config) -> bool:
    """Decoder-only architectures (registered for causal LM and not for masked LM: BERT-like
    encoders are registered for both)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    kind = getattr(config, "model_type", "")
    return kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


@contextmanager
def _load_errors(name: str):
    """Turn what transformers raises for an unloadable model into a UserError."""
    try:
        yield
    except UserError:
        raise
    except ValueError as error:
        if "trust_remote_code" in str(error):
            raise UserError(
                f"'{name}' needs its own code from the hub. Tick 'trust remote code' only if you trust its authors."
            ) from None
        raise UserError(_hub_offline_message(name, error)) from None
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(_hub_offline_message(name, error)) from None


@dataclass
class _Located:
    source: str
    name: str
    config: Any
    kwargs: dict


def _locate(spec: ModelSpec, say: Callable[[str], None]) -> _Located:
    """Where the checkpoint comes from (an offline model's converted folder, an absolute local folder, or a
    hub id's snapshot in the hub cache, downloaded first if need be) and its config. A hub
    id is resolved through core.data.hub, never read as a relative folder."""
    from transformers import AutoConfig

    model_id = offline_model_id(spec.model_id)
    if model_id is not None:
        offline = OFFLINE_MODELS[model_id]
        source, name = str(converted_model(offline, model_id, status=say)), offline.name
    elif Path(spec.model_id).is_absolute():
        source, name = str(local_model_folder(spec.model_id)), Path(spec.model_id).name
    elif is_hub_id(spec.model_id):
        source, name = hub_snapshot(spec.model_id, spec.revision, "model", spec.trust_remote_code), spec.model_id
    else:
        raise UserError(f"Model {spec.model_id!r} is neither an offline model, a Hugging Face id nor a folder path.")
    kwargs = {"trust_remote_code": spec.trust_remote_code}
    with _load_errors(name):
        try:
            config = AutoConfig.from_pretrained(source, local_files_only=True, **kwargs)
        except OSError as error:
            raise UserError(_hub_offline_message(name, error)) from None
    if getattr(config, "is_encoder_decoder", False):
        raise UserError(
            f"'{name}' is an encoder-decoder model; only decoder-only and encoder-only models are supported."
        )
    return _Located(source, name, config, kwargs)


def load_tokenizer(spec: ModelSpec, status: Callable[[str], None] | None = None):
    """Only the tokenizer of `spec` (for previews of the exact tokens a template makes)."""
    from transformers import AutoTokenizer

    located = _locate(spec, status or (lambda _message: None))
    with _load_errors(located.name):
        return AutoTokenizer.from_pretrained(located.source, local_files_only=True, **located.kwargs)


# Weights plus this share again for activations, caches and the allocator's slack.
MEMORY_HEADROOM = 1.2


def weight_bytes(config, dtype: torch.dtype, kwargs: dict | None = None) -> int:
    """Bytes the base model of `config` takes in `dtype`, counted on an empty copy on the
    meta device (accelerate), so nothing is allocated."""
    from accelerate import init_empty_weights
    from transformers import AutoModel

    with init_empty_weights(), quiet_transformers():
        empty = AutoModel.from_config(config, **(kwargs or {}))
    return sum(p.numel() for p in empty.parameters()) * torch.empty(0, dtype=dtype).element_size()


def free_bytes(device: torch.device, every_gpu: bool = False) -> int:
    """Memory free for a model on `device`: the GPU's (or all GPUs' with `every_gpu`), else
    the machine's available memory (/proc/meminfo's MemAvailable)."""
    if device.type == "cuda":
        indices = range(torch.cuda.device_count()) if every_gpu else [device.index or 0]
        return sum(torch.cuda.mem_get_info(i)[0] for i in indices)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def plan_placement(name: str, needed: int, dtype: torch.dtype, device: torch.device) -> bool:
    """Whether the model must be spread over every GPU (device_map="auto"), or a UserError
    when it fits nowhere: its weights with MEMORY_HEADROOM against the free memory."""
    spread = device.type == "cuda" and torch.cuda.device_count() > 1 and needed * MEMORY_HEADROOM > free_bytes(device)
    free = free_bytes(device, every_gpu=spread)
    if needed * MEMORY_HEADROOM > free:
        where = "all GPUs" if spread else ("the GPU" if device.type == "cuda" else "this machine")
        raise UserError(
            f"{name} needs about {needed / 2**30:.1f} GiB for its weights in {dtype_name(dtype)} "
            f"(and about {MEMORY_HEADROOM - 1:.0%} more to run); {where} has {free / 2**30:.1f} GiB free. "
            "Use a smaller model, a 16-bit dtype, or more memory."
        )
    return spread


def load_model(
    spec: ModelSpec, device: str | torch.device = "auto", status: Callable[[str], None] | None = None
) -> LoadedModel:
    """Load tokenizer and base model for `spec` on `device` in eval mode, after checking
    that its weights fit (plan_placement); a model larger than one GPU is spread over all
    of them (device_map="auto"). Remote code runs only when `spec.trust_remote_code` is set."""
    from transformers import AutoModel, AutoTokenizer

    device = device if isinstance(device, torch.device) else pick_device(device)
    dtype = pick_dtype(spec.dtype, device)
    say = status or (lambda _message: None)
    located = _locate(spec, say)
    with _load_errors(located.name):
        spread = plan_placement(located.name, weight_bytes(located.config, dtype, located.kwargs), dtype, device)
    say(f"Loading {located.name}" + (" across every GPU" if spread else ""))
    with _load_errors(located.name):
        tokenizer = AutoTokenizer.from_pretrained(located.source, local_files_only=True, **located.kwargs)
        with quiet_transformers():
            # A causal-LM checkpoint loaded as its base model reports the unused LM head.
            model = AutoModel.from_pretrained(
                located.source,
                dtype=dtype,
                local_files_only=True,
                device_map="auto" if spread else None,
                **located.kwargs,
            )
    if spread:
        device = model.get_input_embeddings().weight.device  # where the inputs go
    else:
        model.to(device)
    model.eval()
    with torch.inference_mode():
        # transformers installs the hooks that record hidden states on the blocks present
        # at the first such call; one whole pass now, so that a pass cut short later
        # (core.extraction.forward.stopping_at) cannot leave the deeper blocks unhooked.
        model(input_ids=torch.zeros((1, 1), dtype=torch.long, device=device), output_hidden_states=True)
    accepts_position_ids = "position_ids" in inspect.signature(model.forward).parameters
    config = located.config
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return LoadedModel(
        model,
        tokenizer,
        device,
        dtype,
        int(text_config.num_hidden_layers) + 1,
        int(text_config.hidden_size),
        accepts_position_ids,
        located.name,
        is_causal(config),
    )


def check_device(preference: str):
    """The torch device `preference` names (auto, cpu, cuda, cuda:N, mps), or a UserError
    if it is unknown or not available here."""
    import torch

    if not isinstance(preference, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d{1,2})?", preference):
        raise UserError(f"Unknown device {preference!r} (use auto, cpu, cuda, cuda:N or mps).")
    device = pick_device(preference)
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise UserError(f"Device {preference!r} is not available here (no such CUDA GPU); use auto or cpu.")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("Device 'mps' is not available here; use auto or cpu.")
    return device
