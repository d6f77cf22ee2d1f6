"""Shared pieces of the benchmarks: the demo activations, timing, and the BENCH line."""

from __future__ import annotations

import platform
import time
from contextlib import contextmanager

import torch

from core.extraction.extract import activation_key, extract
from core.extraction.models import pick_device
from core.extraction.runtime import Runtime
from core.settings.presets import DEMO
from core.store.activations import ActivationSet, ActivationStore


def device_line() -> str:
    """What the numbers were measured on."""
    device = pick_device()
    if device.type == "cuda":
        return f"device: {torch.cuda.get_device_name()} (CUDA), torch {torch.__version__}"
    return (
        f"device: CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}"
    )


def demo_layer(layer: int | None = None) -> ActivationSet:
    """The demo's activations at the demo layer, extracting them first if they are not cached."""
    store = ActivationStore()
    key = activation_key(DEMO[0])
    if not store.has(key):
        print("demo activations not cached: extracting them first (a few minutes on a CPU)", flush=True)
        extract(DEMO[0], Runtime(activations=store))
    return store.load(key, layers=[DEMO[1].layer if layer is None else layer])


@contextmanager
def timed(result: dict, name: str):
    """Store the wall time of the block in result[name] (seconds)."""
    started = time.perf_counter()
    yield
    result[name] = time.perf_counter() - started


def bench_line(name: str, speedup: float, agree: str) -> str:
    """The one comparable line each benchmark ends with."""
    return f"BENCH {name} speedup={speedup:.1f}x agree={agree}"
