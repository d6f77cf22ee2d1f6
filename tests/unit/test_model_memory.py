"""Before a model loads: its weights are counted on an empty copy (exactly what loading
allocates), and a model that does not fit the free memory is refused with one message
instead of an out-of-memory crash."""

from __future__ import annotations

import pytest
import torch

from core.config import ModelSpec
from core.errors import UserError
from core.extraction import models


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_weight_bytes_are_what_loading_allocates(tiny_llama, dtype):
    from transformers import AutoConfig

    loaded = models.load_model(ModelSpec(model_id=str(tiny_llama), dtype=models.dtype_name(dtype)), "cpu")
    actual = sum(p.numel() * p.element_size() for p in loaded.model.parameters())
    assert models.weight_bytes(AutoConfig.from_pretrained(tiny_llama), dtype) == actual


def test_a_model_that_does_not_fit_is_refused_before_loading(tiny_llama, monkeypatch):
    monkeypatch.setattr(models, "free_bytes", lambda device, every_gpu=False: 1000)
    with pytest.raises(UserError, match=r"needs about .* GiB .* this machine has 0\.0 GiB free"):
        models.load_model(ModelSpec(model_id=str(tiny_llama)), "cpu")


def test_free_memory_is_read_on_this_machine():
    assert 0 < models.free_bytes(torch.device("cpu")) < 2**50
