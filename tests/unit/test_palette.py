"""The lab's one colour rule (core.views.palette): families by what a method reads, the floor
grey, remedies as darker shades of their method, decomposition parts no method uses, and
every colour told apart under the three common colour-vision deficiencies."""

from __future__ import annotations

import colorsys

import numpy as np
import pandas as pd
import pytest

from core.normalizations import BASELINE, NORMALIZATION_REGISTRY
from core.probes import FLOOR_METHOD, METHOD_REGISTRY
from core.views.palette import (
    COOL,
    FLOOR,
    METHOD_COLORS,
    PART_COLORS,
    REFERENCE,
    REMEDY_LINE_COLORS,
    WARM,
    darker,
)
from core.views.style import SAME, end_labels, label_color, merge_coinciding, spread


def hue(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def test_unsupervised_probes_are_cool_supervised_warm_and_the_floor_grey():
    for method in METHOD_REGISTRY.values():
        color = METHOD_COLORS[method.id]
        if method.floor:
            assert color == FLOOR
        elif method.remedy_for is not None:
            assert color == darker(METHOD_COLORS[method.remedy_for])
        elif method.supervised:
            assert color in WARM
        else:
            assert color in COOL
    assert METHOD_COLORS[FLOOR_METHOD] == FLOOR
    # The families are hue bands apart: cool in blue-green, warm in red-orange-purple.
    assert all(150 <= hue(c) <= 210 for c in COOL) and all(hue(c) <= 45 or hue(c) >= 300 for c in WARM)


def test_every_line_has_its_own_colour_and_the_decomposition_uses_none_of_theirs():
    assert len(set(METHOD_COLORS.values())) == len(METHOD_REGISTRY)
    assert len(set(REMEDY_LINE_COLORS.values())) == len(REMEDY_LINE_COLORS)
    assert not set(PART_COLORS.values()) & (set(METHOD_COLORS.values()) | set(REMEDY_LINE_COLORS.values()))
    assert REMEDY_LINE_COLORS[NORMALIZATION_REGISTRY[BASELINE].label] == REFERENCE
    for norm in NORMALIZATION_REGISTRY.values():
        if norm.uses_labels:
            assert REMEDY_LINE_COLORS[norm.label] in WARM
        elif norm.remedy:
            assert REMEDY_LINE_COLORS[norm.label] in COOL


# Machado, Oliveira & Fernandes (2009) simulation matrices at full severity, on linear RGB.
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def lab(color: str, matrix=None) -> np.ndarray:
    """CIELAB of `color` (as seen with the deficiency `matrix`, if given)."""
    srgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        linear = np.clip(np.array(matrix) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", [None, *DEFICIENCIES])
def test_the_demo_methods_stay_apart_in_every_colour_vision(vision):
    from core.probes import DEMO_METHODS

    matrix = DEFICIENCIES.get(vision)
    colors = [METHOD_COLORS[m] for m in DEMO_METHODS]
    distances = [np.linalg.norm(lab(a, matrix) - lab(b, matrix)) for i, a in enumerate(colors) for b in colors[i + 1 :]]
    assert min(distances) > 15, (vision, min(distances))  # CIE76 ΔE: 15 and more tell lines apart at a glance


def test_coinciding_lines_are_drawn_once_and_named_together():
    rows = []
    for method, values in (("A", [0.9, 0.8]), ("B", [0.9, 0.8]), ("C", [0.7, 0.6]), ("D", [0.9, 0.81])):
        rows += [{"Method": method, "p": p, "mean": v} for p, v in zip((0.5, 0.9), values)]
    merged = merge_coinciding(pd.DataFrame(rows))
    assert list(dict.fromkeys(merged["Method"])) == [f"A{SAME}B", "C", "D"]
    assert len(merged) == 6
    assert label_color(f"LR (raw differences){SAME}LR (normalized)") == label_color("LR (raw differences)")


def test_line_end_labels_keep_their_distance_and_stay_on_the_axis():
    placed = spread([0.84, 0.85, 0.83, 0.2], gap=0.05, low=0.4, high=1.0)
    order = np.sort(placed)
    assert np.all(np.diff(order) >= 0.05 - 1e-12) and order[0] >= 0.4 and order[-1] <= 1.0
    assert placed[1] == pytest.approx(0.85)  # the highest stays where its line ends
    data = pd.DataFrame({"Method": ["CCS", "TPC"], "p": [0.95, 0.95], "mean": [0.8, 0.8]})
    chart = end_labels(data, None, [0.4, 1.0], "Method:N")
    ys = sorted(chart.data["label_y"])
    assert ys[1] - ys[0] >= 0.6 * 0.075 - 1e-12
