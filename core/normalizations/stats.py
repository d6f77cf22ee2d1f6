"""What a normalization fits and applies: per-side statistics (NormStats), the inputs a fit
may read (FitInputs), and weighted per-side means, the building block of every
normalization in the registry (core.normalizations)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

STAT_FIELDS = ("mean_pos", "mean_neg", "std_pos", "std_neg")


@dataclass
class NormStats:
    """Per-side statistics of one training (or test) set, fitted by normalization `kind`:
    x+ -> (x+ - mean_pos) / std_pos and x- -> (x- - mean_neg) / std_neg; std is None for
    a shift-only normalization."""

    kind: str
    mean_pos: torch.Tensor
    mean_neg: torch.Tensor
    std_pos: torch.Tensor | None = None
    std_neg: torch.Tensor | None = None

    def apply(self, x_pos: torch.Tensor, x_neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalize [n, d] pairs with these statistics (their own, or a training set's);
        a template ensemble's [n, k, d] with statistics [k, d]."""
        pos, neg = x_pos - self.mean_pos, x_neg - self.mean_neg
        if self.std_pos is not None:
            pos, neg = pos / self.std_pos, neg / self.std_neg
        return pos, neg

    def to_tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        """Named tensors to save (safetensors), `prefix` + field name; no std if shift-only."""
        return {f"{prefix}{name}": getattr(self, name) for name in STAT_FIELDS if getattr(self, name) is not None}

    @classmethod
    def from_tensors(cls, kind: str, tensors: dict[str, torch.Tensor], prefix: str, row: int | None = None):
        """Inverse of to_tensors; `row` picks one set out of stacked ones."""

        def read(name: str) -> torch.Tensor | None:
            tensor = tensors.get(f"{prefix}{name}")
            return None if tensor is None else (tensor if row is None else tensor[row])

        if read("mean_pos") is None or read("mean_neg") is None:
            raise KeyError(f"{prefix}mean_pos")
        return cls(kind, read("mean_pos"), read("mean_neg"), read("std_pos"), read("std_neg"))


def stack_stats(per_template: list[NormStats]) -> NormStats:
    """One template ensemble's statistics [k, d] out of each template's [d]."""

    def stacked(name: str) -> torch.Tensor | None:
        values = [getattr(stats, name) for stats in per_template]
        return None if values[0] is None else torch.stack(values)

    return NormStats(per_template[0].kind, *(stacked(name) for name in STAT_FIELDS))


@dataclass
class FitInputs:
    """What a normalization may read: the raw [n, d] pairs; their labels (only a
    normalization that says it uses labels reads them); and a companion set its registry
    entry asks for: the same examples asked through the negated question ([n, d] each,
    row for row) or the template filled with content-free texts ([m, d] each)."""

    pos: torch.Tensor
    neg: torch.Tensor
    labels: np.ndarray | None = None
    companion: tuple[torch.Tensor, torch.Tensor] | None = None


def weighted_mean(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean over rows of [n, d] `x`, each row weighted (weights need not sum to 1)."""
    if weights is None:
        return x.mean(dim=0)
    weights = weights.to(x.dtype)
    return (weights @ x) / weights.sum()


def class_balancing_weights(classes: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Weights giving each of the two classes in 0/1 `classes` half the total mass (each
    present class; a set with one class only keeps equal weights)."""
    classes = torch.as_tensor(np.asarray(classes), dtype=torch.bool)
    ones = int(classes.sum())
    if ones in (0, len(classes)):
        return torch.ones(len(classes), dtype=torch.float32)
    return torch.where(classes, 0.5 / ones, 0.5 / (len(classes) - ones)).to(torch.float32)
