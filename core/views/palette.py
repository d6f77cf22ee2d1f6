"""The lab's one colour rule, from Okabe & Ito's colourblind-safe hues: what learns without
labels is cool (blues and greens), what reads labels is warm (vermilion, orange, purple),
the floor is grey, the reference a remedy is read against is black, and the parts of a
decomposition are neutral greys no method uses. Colours are given in registry order within
each family, and a label-free remedy of a method is a darker shade of that method's
colour, so a new method or normalization gets its family's next colour without naming one.
"""

from __future__ import annotations

from core.metrics import THRESHOLD_REMEDIES
from core.normalizations import BASELINE, NORMALIZATION_REGISTRY
from core.probes import METHOD_REGISTRY

COOL = ("#0072B2", "#56B4E9", "#009E73", "#004A75", "#00664D", "#7FC4E8")
WARM = ("#D55E00", "#E69F00", "#CC79A7", "#8F3F00", "#A0527A", "#B37A00")
FLOOR = "#999999"
REFERENCE = "#000000"
OTHER = ("#666666", "#B0B0B0")  # normalizations that are neither the reference nor a remedy
PART_COLORS = {"moved threshold": "#C4C4C4", "lost direction": "#4A4A4A"}  # a drop's parts (decomposition)
CURVE_COLORS = (REFERENCE, "#6E6E6E", "#AAAAAA")  # measured, then predictions: neutral, no method's hue
TRUTH_COLORS = {"+ is true": "#009E73", "+ is false": "#CC79A7"}
OUTCOME_COLORS = {"correct": "#009E73", "wrong": "#D55E00"}
# Runs side by side (compare charts): the palette's hues in the order that tells them apart best.
RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def darker(color: str, factor: float = 0.62) -> str:
    """`color` (#RRGGBB) with each channel scaled by `factor`: a remedy beside its method."""
    channels = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(channel * factor):02X}" for channel in channels)


def _families(items: list[tuple[str, str]]) -> dict[str, str]:
    """Each (id, family) its family's next colour; family "cool", "warm", "other" or a colour."""
    palettes = {"cool": COOL, "warm": WARM, "other": OTHER}
    used = dict.fromkeys(palettes, 0)
    colors = {}
    for key, family in items:
        if family not in palettes:
            colors[key] = family
            continue
        palette = palettes[family]
        colors[key] = palette[used[family] % len(palette)]
        used[family] += 1
    return colors


def _method_colors() -> dict[str, str]:
    def family(method) -> str:
        if method.floor:
            return FLOOR
        return "warm" if method.supervised else "cool"

    bases = [(m.id, family(m)) for m in METHOD_REGISTRY.values() if m.remedy_for is None]
    colors = _families(bases)
    for method in METHOD_REGISTRY.values():
        if method.remedy_for is not None:
            colors[method.id] = darker(colors[method.remedy_for])
    return colors


def _remedy_line_colors() -> dict[str, str]:
    """The lines of a remedy chart: each normalization and each label-free threshold read as
    a remedy, by display label."""

    def family(norm) -> str:
        if norm.id == BASELINE:
            return REFERENCE
        if norm.uses_labels:
            return "warm"
        return "cool" if norm.remedy else "other"

    items = [(norm.label, family(norm)) for norm in NORMALIZATION_REGISTRY.values()]
    items += [(remedy.label, "cool") for remedy in THRESHOLD_REMEDIES.values()]
    return _families(items)


METHOD_COLORS = _method_colors()
REMEDY_LINE_COLORS = _remedy_line_colors()
