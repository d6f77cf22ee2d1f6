"""`make gpu-check`: what a GPU changes, in one command for the day one is at hand.

On a CUDA machine it extracts the demo (SmolLM2-135M-Instruct, the demo's data set,
template and layers) on the CPU in float32 (the reference), then on the GPU in float32
and in bfloat16, and compares:

- hidden states at the demo layer: float32 on the GPU within 1e-3 of the CPU's (relative
  to the largest value; TF32 is off for float32 matmuls by default), bfloat16 with every
  vector's cosine similarity to the CPU's at least 0.99;
- the demo sweep's accuracies (CCS, TPC, LR normalized; 5 seeds, p = 0.5 and 0.95; a
  quarter of the examples to train, three eighths to test, as the demo):
  every cell's mean within 0.02 of the CPU's for float32, 0.05 for bfloat16;

then runs examples/grid-demo.toml with the Ray executor on the GPU, and prints timings and
the peak GPU memory. Each cache lives in a temporary folder, so nothing here reads or
writes the lab's cache. Without CUDA it says so in one line and exits 0; `--on-cpu` runs
the same comparisons on the CPU (bfloat16 against float32), so the script itself is
exercised where no GPU is.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from core.config import ExtractConfig
from core.experiments.grid import load_grid
from core.experiments.grid_ray import run_on_ray
from core.experiments.grid_run import run_inprocess
from core.experiments.sweep import run_sweep
from core.extraction.extract import extract
from core.extraction.runtime import Runtime
from core.paths import cache_root
from core.settings.presets import DEMO
from core.store.activations import ActivationStore

STATE_TOLERANCE = {"float32": 1e-3}  # max |difference| / max |value|
COSINE_FLOOR = {"bfloat16": 0.99}  # least cosine similarity of any hidden-state vector
ACCURACY_TOLERANCE = {"float32": 0.02, "bfloat16": 0.05}  # per cell, mean over seeds
SWEEP = dataclasses.replace(DEMO[1], p_levels=(0.5, 0.95), seeds=tuple(range(5)), methods=("ccs", "tpc", "lr_norm"))


def sweep_for(examples: int):
    """SWEEP with the demo's shares of training and test pairs (400 and 600 of 1,600)."""
    return dataclasses.replace(SWEEP, n_train=examples // 4, n_test=examples * 3 // 8)


GRID = Path(__file__).parents[2] / "examples" / "grid-demo.toml"


def extracted(config: ExtractConfig, device: str, root: Path) -> tuple[np.ndarray, float, object]:
    """The demo layer's x+ states of `config` extracted on `device` into a store of its
    own, the seconds it took, and the activation set."""
    store = ActivationStore(root)
    started = time.perf_counter()
    outcome = extract(config, Runtime(activations=store, device=device))
    seconds = time.perf_counter() - started
    acts = store.load(outcome.key, layers=[SWEEP.layer])
    return acts.pos[0].numpy(), seconds, acts


def state_agreement(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(max |difference| relative to the largest reference value, least cosine similarity
    of matching vectors) between two [n, d] arrays of hidden states."""
    relative = float(np.abs(other - reference).max() / np.abs(reference).max())
    cosine = (reference * other).sum(1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(other, axis=1))
    return relative, float(cosine.min())


def accuracy_gap(reference, other) -> float:
    """Largest difference of a cell's mean accuracy over seeds between two sweeps."""
    means = [result.table.groupby(["method", "p"])["accuracy"].mean() for result in (reference, other)]
    return float((means[0] - means[1]).abs().max())


def check(device: str, dtypes: tuple[str, ...], examples: int) -> list[str]:
    """Every comparison of the module docstring on `device`; the failures, one line each."""
    failures = []
    base = dataclasses.replace(DEMO[0], n_examples=examples, layers=(SWEEP.layer,))
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        root = Path(folder)
        reference, seconds, reference_acts = extracted(base, "cpu", root / "cpu")
        print(f"cpu float32: extraction {seconds:.1f} s ({examples} examples)", flush=True)
        sweep_config = sweep_for(examples)
        reference_sweep = run_sweep(reference_acts, sweep_config, Runtime(device="cpu", sweeps=None))
        for dtype in dtypes:
            config = dataclasses.replace(base, model=dataclasses.replace(base.model, dtype=dtype))
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            states, seconds, acts = extracted(config, device, root / f"{device}-{dtype}")
            started = time.perf_counter()
            sweep = run_sweep(acts, sweep_config, Runtime(device=device, sweeps=None))
            sweep_seconds = time.perf_counter() - started
            relative, cosine = state_agreement(reference, states)
            gap = accuracy_gap(reference_sweep, sweep)
            peak = f"; peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if device == "cuda" else ""
            print(
                f"{device} {dtype}: extraction {seconds:.1f} s, sweep {sweep_seconds:.1f} s; hidden states vs cpu "
                f"float32: max relative difference {relative:.1e}, least cosine {cosine:.5f}; largest accuracy "
                f"gap {gap:.3f}{peak}",
                flush=True,
            )
            if dtype in STATE_TOLERANCE and relative > STATE_TOLERANCE[dtype]:
                failures.append(f"{dtype} hidden states differ by {relative:.1e} > {STATE_TOLERANCE[dtype]:g}")
            if dtype in COSINE_FLOOR and cosine < COSINE_FLOOR[dtype]:
                failures.append(f"{dtype} hidden states have cosine {cosine:.4f} < {COSINE_FLOOR[dtype]}")
            if gap > ACCURACY_TOLERANCE.get(dtype, 0.05):
                failures.append(f"{dtype} accuracies differ by {gap:.3f} > {ACCURACY_TOLERANCE.get(dtype, 0.05)}")
        models = cache_root() / "models"  # the converted models, not converted again
        os.environ["CCS_LAB_CACHE"] = str(root / "grid")
        (root / "grid").mkdir()
        (root / "grid" / "models").symlink_to(models, target_is_directory=True)
        grid = load_grid(GRID)
        started = time.perf_counter()
        outcome = run_on_ray(grid, device=device) if device == "cuda" else run_inprocess(grid, Runtime(device=device))
        print(
            f"grid {GRID.name} ({outcome.executor}, {device}): {outcome.extracted} extraction(s), "
            f"{outcome.swept} sweep(s) in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--on-cpu", action="store_true", help="run the comparisons on the CPU (bfloat16 vs float32)")
    parser.add_argument("--examples", type=int, default=DEMO[0].n_examples, help="examples to extract")
    args = parser.parse_args(argv)
    if not args.on_cpu and not torch.cuda.is_available():
        print(f"gpu-check: no CUDA device on this machine (torch {torch.__version__}); nothing to check.")
        return 0
    device = "cpu" if args.on_cpu else "cuda"
    if device == "cuda":
        print(f"gpu-check on {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    dtypes = ("bfloat16",) if args.on_cpu else ("float32", "bfloat16")
    failures = check(device, dtypes, args.examples)
    print("gpu-check: " + ("every comparison within its tolerance" if not failures else "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
