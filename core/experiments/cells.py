"""What a sweep's cells hold: each cell's trained probe (LinearProbe: its direction, bias,
the statistics its training pairs were normalized with, and its training loss), a whole
sweep's result (SweepResult: the table, every cell's probe, the test split), and how a
sweep's probes are flattened into named tensors to be stored (safetensors) and read back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.config import SweepConfig
from core.normalizations.stats import NormStats
from core.probes import METHOD_REGISTRY
from core.probes.base import PairScores, pair_scores


@dataclass
class LinearProbe:
    """One trained probe of one sweep cell."""

    method: str
    form: str
    weight: torch.Tensor
    bias: float
    train_stats: NormStats
    loss: float = float("nan")

    def scores(self, pos: torch.Tensor, neg: torch.Tensor) -> PairScores:
        """Confidence that x+ is true for [n, d] pairs already normalized as the caller
        chose (the test split's own statistics, or this probe's training statistics)."""
        return pair_scores(self.form, self.weight, self.bias, pos, neg)


CellKey = tuple[str, float, int]  # (method, p, seed)


@dataclass
class SweepResult:
    """A finished sweep: its table, every cell's trained probe, and the test split.
    `cached`: loaded whole from the store; `reused`: methods whose cells came from it."""

    key: str
    config: SweepConfig
    activation_key: str
    table: pd.DataFrame
    probes: dict[CellKey, LinearProbe]
    test_indices: np.ndarray
    seconds: float
    cached: bool = False
    reused: tuple[str, ...] = ()


def method_stats_kind(method: str, normalization: str) -> str:
    """The normalization whose statistics a method's probe stores: the sweep's, or "none"
    for a method that reads raw pairs."""
    return normalization if METHOD_REGISTRY[method].normalized_inputs else "none"


def probes_to_tensors(cells: dict[CellKey, LinearProbe], test_indices: np.ndarray) -> dict[str, torch.Tensor]:
    """Flatten every cell's probe into named tensors (safetensors), stacked per method in
    the order of `<method>.cells` ([C, 2]: p, seed), with the sweep's test split."""
    tensors: dict[str, torch.Tensor] = {"test_indices": torch.from_numpy(test_indices.astype(np.int64))}
    for method in dict.fromkeys(m for m, _, _ in cells):
        keys = [k for k in cells if k[0] == method]
        probes = [cells[k] for k in keys]
        tensors[f"{method}.cells"] = torch.tensor([[p, seed] for _, p, seed in keys], dtype=torch.float64)
        tensors[f"{method}.weight"] = torch.stack([probe.weight for probe in probes])
        tensors[f"{method}.bias"] = torch.tensor([probe.bias for probe in probes], dtype=torch.float64)
        tensors[f"{method}.loss"] = torch.tensor([probe.loss for probe in probes], dtype=torch.float64)
        stats = [probe.train_stats.to_tensors(f"{method}.") for probe in probes]
        tensors.update({name: torch.stack([each[name] for each in stats]) for name in stats[0]})
    return tensors


def probes_from_tensors(tensors: dict[str, torch.Tensor], config: SweepConfig) -> dict[CellKey, LinearProbe]:
    """Inverse of probes_to_tensors."""
    probes = {}
    for method in config.methods:
        kind = method_stats_kind(method, config.normalization)
        form = METHOD_REGISTRY[method].form
        for i, (p, seed) in enumerate(tensors[f"{method}.cells"].tolist()):
            stats = NormStats.from_tensors(kind, tensors, f"{method}.", i)
            probes[(method, float(p), int(seed))] = LinearProbe(
                method,
                form,
                tensors[f"{method}.weight"][i],
                float(tensors[f"{method}.bias"][i]),
                stats,
                float(tensors[f"{method}.loss"][i]),
            )
    return probes
