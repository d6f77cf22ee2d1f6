"""What a sweep's cells hold: each cell's trained probe (core.probes.LinearProbe), a whole
sweep's result (SweepResult: the table, every cell's probe, the test split), and how a
sweep's probes are flattened into named tensors to be stored (safetensors) and read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.normalizations.stats import STAT_FIELDS, NormStats
from core.probes import METHOD_REGISTRY, LinearProbe
from core.settings.schema import bound_of
from core.settings.sweep import SweepConfig
from core.store.activation_files import MAX_HIDDEN  # the bound on a stored probe's width too

MAX_TEMPLATES = int(bound_of("templates").high)

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


# Each stored tensor's safetensors dtype, as probes_to_tensors writes it.
TENSOR_DTYPES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
                 torch.int64: "I64"}  # fmt: skip
FLOATS = ("F16", "BF16", "F32", "F64")


def check_probe_layout(layout: Mapping[str, tuple[str, tuple[int, ...]]], config: SweepConfig) -> None:
    """What probes_to_tensors writes for `config`, checked on the tensors' names, dtypes and
    shapes (`layout`: name -> (safetensors dtype, shape)) before any is read: the test split,
    and for each method its cells, weights, biases, losses and normalization statistics, of
    one width up to MAX_HIDDEN; a one-line ValueError otherwise."""
    cells = len(config.p_levels) * len(config.seeds)
    widths = {shape[1] for name, (_, shape) in layout.items() if len(shape) == 2 and not name.endswith(".cells")}
    if len(widths) != 1 or not 1 <= next(iter(widths)) <= MAX_HIDDEN:
        raise ValueError(f"its probes are not of one width from 1 to {MAX_HIDDEN}")
    (width,) = widths
    # A template ensemble's probes store statistics per template: [C, k, d].
    ensembles = {shape[1:-1] for name, (_, shape) in layout.items() if name.rpartition(".")[2] in STAT_FIELDS}
    if len(ensembles) > 1 or not all(len(t) == 0 or (len(t) == 1 and 2 <= t[0] <= MAX_TEMPLATES) for t in ensembles):
        raise ValueError(f"its normalization statistics are not of one template count up to {MAX_TEMPLATES}")
    templates = next(iter(ensembles), ())
    expected = {"test_indices": (("I64",), (config.n_test,))}
    for method in config.methods:
        expected |= {
            f"{method}.cells": (("F64",), (cells, 2)),
            f"{method}.weight": (FLOATS, (cells, width)),
            f"{method}.bias": (("F64",), (cells,)),
            f"{method}.loss": (("F64",), (cells,)),
        }
        scaled = any(f"{method}.{name}" in layout for name in STAT_FIELDS[2:])  # both spreads, or neither
        expected |= {
            f"{method}.{name}": (FLOATS, (cells, *templates, width)) for name in STAT_FIELDS[: 4 if scaled else 2]
        }
    if set(layout) != set(expected):
        odd = sorted(set(layout) ^ set(expected))[0]
        raise ValueError(f"its probes do not hold what its run trains ({odd[:60]!r})")
    for name, (dtype, shape) in layout.items():
        dtypes, wanted = expected[name]
        if dtype not in dtypes or tuple(shape) != wanted:
            raise ValueError(f"its tensor {name} is {dtype} {list(shape)}, not {'/'.join(dtypes)} {list(wanted)}")


def check_probe_cells(cells: Mapping[str, np.ndarray], test_indices: np.ndarray, config: SweepConfig) -> None:
    """Each method's stored cells (`<method>.cells`, [C, 2]: p, seed) are the cells of
    `config`, once each, and the test split names distinct examples; a ValueError otherwise."""
    wanted = sorted((round(float(p), 12), int(seed)) for p in config.p_levels for seed in config.seeds)
    for method in config.methods:
        found = sorted((round(float(p), 12), float(seed)) for p, seed in np.asarray(cells[f"{method}.cells"]))
        if found != [(p, float(seed)) for p, seed in wanted]:
            raise ValueError(f"the cells of its {method} probes are not those of its run")
    if len(np.unique(test_indices)) != len(test_indices) or (np.asarray(test_indices) < 0).any():
        raise ValueError("its test split does not name distinct examples")


def check_probes(tensors: Mapping[str, torch.Tensor], config: SweepConfig) -> None:
    """check_probe_layout and check_probe_cells on loaded tensors."""
    layout = {
        name: (TENSOR_DTYPES.get(tensor.dtype, str(tensor.dtype)), tuple(tensor.shape))
        for name, tensor in tensors.items()
    }
    check_probe_layout(layout, config)
    cells = {f"{method}.cells": tensors[f"{method}.cells"].numpy() for method in config.methods}
    check_probe_cells(cells, tensors["test_indices"].numpy(), config)


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
