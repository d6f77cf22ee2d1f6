"""Contrast-pair probes: CCS (batched), TPC, logistic regression twice, and a random floor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodInfo:
    """How a method is shown and evaluated."""

    label: str
    supervised: bool
    normalized_inputs: bool
    description: str


METHOD_INFO = {
    "ccs": MethodInfo("CCS", False, True,
                      "Contrast-Consistent Search on per-side normalized pairs (reference optimizer)."),
    "tpc": MethodInfo("TPC", False, True, "Top principal component of the normalized differences."),
    "lr_raw": MethodInfo("LR (raw differences)", True, False,
                         "Logistic regression on x+ - x- without normalization: the supervised ceiling."),
    "lr_norm": MethodInfo("LR (normalized)", True, True,
                          "Logistic regression on the normalized inputs CCS sees: what normalization removes."),
    "random": MethodInfo("Random direction", False, True, "A random unit direction: the floor."),
}
