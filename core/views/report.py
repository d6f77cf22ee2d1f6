"""Text that says how a number was computed: the provenance line under every table and
chart, and the method x p table the CLI prints."""

from __future__ import annotations

import textwrap

import pandas as pd

from core.analysis.label_budget import BUDGETS
from core.analysis.separation import Verdict
from core.config import CCSConfig
from core.metrics import few_seeds_note
from core.probes import METHOD_REGISTRY
from core.settings.presets import optimizer_name
from core.settings.sweep import SweepConfig
from core.views.style import method_label, normalization_label


def describe_ccs(ccs: CCSConfig) -> str:
    """The CCS optimizer and its schedule in a phrase ("fast optimizer, 10 restarts x 500
    epochs at lr 0.002"), for captions that must say which optimizer drew a curve."""
    return f"{optimizer_name(ccs)} optimizer, {ccs.restarts} restarts x {ccs.epochs} epochs at lr {ccs.lr:g}"


def statistics_of_test_split(config: SweepConfig) -> str:
    """Whose statistics normalize the test split: "own" or "training-set"."""
    return "own" if config.test_normalization == "own" else "training-set"


def describe_sweep(
    config: SweepConfig, seconds: float | None = None, cached: bool = False, reused: tuple[str, ...] = ()
) -> str:
    """n, seeds, test split, normalization, optimizer and sign convention of a sweep, in one
    line, ending with how long it took: `seconds` of computing, whether it was `cached`
    (loaded whole from the cache), and which methods' cells were `reused` from the cache."""
    took = f"computed in {seconds:.1f} s" if seconds is not None else ""
    reuse = f"{', '.join(method_label(m) for m in reused)} reused from the cache" if reused else ""
    timing = ", ".join(part for part in (took, reuse, "loaded from cache" if cached else "") if part)
    timing = f" ({timing})" if timing else ""
    note = few_seeds_note(len(config.seeds))
    unsupervised = [method_label(m) for m in config.methods if not METHOD_REGISTRY[m].supervised]
    signs = (
        f"unsupervised methods ({', '.join(unsupervised)}) sign-resolved as max(acc, 1 - acc) on the test split"
        if unsupervised
        else "no method here is sign-resolved"
    )
    return (
        f"Layer {config.layer}; {config.n_train} training pairs per cell; fixed balanced test split of "
        f"{config.n_test} pairs (split seed {config.split_seed}), normalized with its "
        f"{statistics_of_test_split(config)} statistics; per-side normalization "
        f"'{config.normalization}' ({normalization_label(config.normalization)}); {len(config.seeds)} seeds, "
        "mean and 95% t-interval over seeds; CCS "
        f"{config.ccs.restarts} restarts x {config.ccs.epochs} AdamW epochs at lr {config.ccs.lr:g} "
        f"({optimizer_name(config.ccs)} optimizer); {signs}{timing}." + (f" Note: {note}." if note else "")
    )


def describe_templates(templates: tuple[str, ...] | list[str]) -> str:
    """How a run read its prompts: one template, or a template ensemble and what that does."""
    if not templates:
        return "one template"
    return (
        f"template ensemble of {len(templates)} ({', '.join(templates)}): each side centered per template, one "
        "probe fitted on the pairs of all of them, each test pair's log-odds averaged over its templates"
    )


def chart_caption(config: SweepConfig) -> str:
    """The short line a chart carries on screen: training size, seeds, test split and the
    CCS optimizer that produced the CCS curve."""
    note = few_seeds_note(len(config.seeds))
    return (
        f"n_train {config.n_train} per cell, {len(config.seeds)} seeds (95% CI), balanced test split of "
        f"{config.n_test}, layer {config.layer}; CCS: {describe_ccs(config.ccs)}" + (f" ({note})" if note else "")
    )


def format_summary(summary: pd.DataFrame) -> str:
    """Method x p table of 'mean [95% CI]' for a terminal."""
    levels = sorted(summary["p"].unique())
    width = max(len(method_label(m)) for m in summary["method"]) + 2
    lines = ["method".ljust(width) + "".join(f"p={p:<19g}" for p in levels)]
    for method in dict.fromkeys(summary["method"]):
        cells = []
        for p in levels:
            row = summary[(summary["method"] == method) & (summary["p"] == p)].iloc[0]
            cells.append(f"{row['mean']:.3f} [{row['ci_low']:.3f},{row['ci_high']:.3f}]".ljust(21))
        lines.append(method_label(method).ljust(width) + "".join(cells))
    return "\n".join(lines)


def summary_pivot(summary: pd.DataFrame) -> pd.DataFrame:
    """Method x p table of 'mean [low, high]' strings (rows in method order), for display."""
    cells = summary.assign(
        Method=summary["method"].map(method_label),
        value=[
            f"{m:.3f} [{lo:.3f}, {hi:.3f}]" if hi == hi else f"{m:.3f}"
            for m, lo, hi in zip(summary["mean"], summary["ci_low"], summary["ci_high"])
        ],
    )
    table = cells.pivot(index="Method", columns="p", values="value")
    table.columns = [f"p = {p:g}" for p in table.columns]
    return table.loc[list(dict.fromkeys(cells["Method"]))]


def subtitle_lines(text: str, width: int = 100) -> list[str]:
    """A provenance line wrapped into chart subtitle lines, so exported figures carry it."""
    return textwrap.wrap(text, width)


def layer_table(summary: pd.DataFrame) -> pd.DataFrame:
    """A layer scan's means (core.metrics.summarize by method, p and layer) as one row per
    layer and a column per method and level of p, for a terminal or a page."""
    cells = summary.assign(column=[f"{method_label(m)} p={p:g}" for m, p in zip(summary["method"], summary["p"])])
    table = cells.pivot(index="layer", columns="column", values="mean").round(3)
    return table[list(dict.fromkeys(cells["column"]))]


def recovered_share_table(shares: pd.DataFrame) -> pd.DataFrame:
    """core.analysis.remedies.recovered_share as shown: each remedy at each level of p with
    the Burns and remedy accuracies, the drop, the paired gain with its interval and the
    share of the drop it wins back."""
    return pd.DataFrame(
        {
            "remedy": shares.normalization.map(normalization_label),
            "p": shares.p,
            "Burns accuracy": shares.baseline_accuracy.round(3),
            "remedy accuracy": shares.remedy_accuracy.round(3),
            "drop under Burns": shares["drop"].round(3),
            "gain [95% CI]": [
                f"{g:+.3f} [{lo:+.3f}, {hi:+.3f}]" for g, lo, hi in zip(shares.gain, shares.gain_low, shares.gain_high)
            ],
            "share recovered": [f"{r:.0%}" if r == r else "no drop to recover" for r in shares.recovered],
        }
    )


def _interval(mean: float, bounds) -> str:
    low, high = bounds
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]" if high == high else f"{mean:.3f}"


def _share_text(share: float, low: float) -> str:
    """A recovered share, "(n.s.)" after it where its paired gain's interval reaches zero."""
    return f"{share:.0%}" + ("" if low > 0 else " (n.s.)")


def _half(k, share: float) -> str:
    """The smallest budget that wins back half, as the audit table shows it."""
    if share != share:
        return "no drop"
    return "none" if pd.isna(k) else f"k = {k}"


def _won_back(share: float, low: float, high: float) -> str:
    """A share won back with its interval, "(n.s.)" after it where the interval holds zero."""
    if share != share:
        return "no drop"
    return f"{share:.0%} [{low:.0%}, {high:.0%}]" + (" (n.s.)" if low <= 0 <= high else "")


def _share(summary_row, norm: str) -> str:
    """A remedy's recovered share as the table shows it: the share where its paired gain's
    interval is above zero, "(n.s.)" after it where it is not, "no drop" where nothing
    dropped; the same at the other reported level (0.9) where there was a drop; and what it
    changes at balance, where that is 0.02 or more."""
    share, cost = summary_row.get(f"recovered_{norm}"), summary_row.get(f"cost_{norm}")
    at_balance = f"; {cost:+.3f} at balance" if cost is not None and cost == cost and abs(cost) >= 0.02 else ""
    earlier = summary_row.get(f"earlier_{norm}")
    if isinstance(earlier, tuple) and earlier[1] == earlier[1]:
        at_balance = f"; at {earlier[0]:g}: {_share_text(earlier[1], earlier[2])}" + at_balance
    if share is None or share != share:
        return "no drop" + at_balance
    low, _high = summary_row[f"gain_{norm}_ci"]
    return _share_text(share, low) + at_balance


def grid_summary_markdown(summary: pd.DataFrame) -> str:
    """core.analysis.grids.grid_summary as a Markdown table, a row per cell and method."""
    remedies = [c.removeprefix("recovered_") for c in summary.columns if c.startswith("recovered_")]
    low, high = summary.p_low.iloc[0], summary.p_high.iloc[0]
    by_templates = "templates" in summary and summary.templates.nunique() > 1
    header = [
        "model",
        "data set",
        *(["templates"] if by_templates else []),
        "layer",
        "method",
        f"accuracy at p = {low:g} [95% CI]",
        f"accuracy at p = {high:g} [95% CI]",
        f"AUROC {low:g} → {high:g}",
        *[f"{normalization_label(norm)}: drop won back at {high:g}" for norm in remedies],
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in summary.iterrows():
        depth = f" ({row['depth']})" if row.get("depth") else ""
        chance = " (at chance at balance)" if row.at_chance else ""
        cells = [
            str(row.model),
            str(row.dataset),
            *([str(row.templates)] if by_templates else []),
            f"{row.layer}{depth}",
            method_label(row.method) + chance,
            _interval(row.accuracy_low, row.accuracy_low_ci),
            _interval(row.accuracy_high, row.accuracy_high_ci),
            f"{row.auroc_low:.3f} → {row.auroc_high:.3f}",
            *[_share(row, norm) for norm in remedies],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def template_comparison_markdown(comparison: pd.DataFrame) -> str:
    """core.analysis.grids.template_comparison as a Markdown table, a row per cell and method."""
    low, high = comparison.p_low_one.iloc[0], comparison.p_high_one.iloc[0]
    header = ["model", "data set", "layer", "method"]
    header += [f"{what} at p = {p:g} [95% CI]" for p in (low, high) for what in ("one template", "ensemble")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in comparison.iterrows():
        depth = f" ({row['depth']})" if row.get("depth") else ""
        cells = [str(row.model), str(row.dataset), f"{row.layer}{depth}", method_label(row.method)]
        for at in ("low", "high"):
            for mode in ("one", "ensemble"):
                chance = " (at chance)" if at == "low" and row[f"at_chance_{mode}"] else ""
                cells.append(_interval(row[f"accuracy_{at}_{mode}"], row[f"accuracy_{at}_ci_{mode}"]) + chance)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def above_chance_lines(counts: pd.DataFrame) -> list[str]:
    """core.analysis.grids.above_chance_counts as sentences, one per method."""
    readings = [c for c in counts.columns if c not in ("method", "any", "cells")]
    lines = []
    for row in counts.to_dict("records"):
        each = ", ".join(f"{row[reading]} with {_reading(reading)}" for reading in readings)
        lines.append(
            f"{method_label(row['method'])}: above chance at balance in {each}; in {row['any']} with at least one "
            f"of them; of {row['cells']} cells."
        )
    return lines


def _reading(reading: str) -> str:
    """A grid's way of reading a data set (its `templates`) in a sentence."""
    if reading == "one":
        return "its own template"
    return f"the {reading}" if reading.startswith("ensemble") else f"template {reading}"


def remedy_verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """core.analysis.grids.remedy_verdicts as sentences, one per remedy and method."""
    lines = []
    for row in verdicts.itertuples():
        median = f", median share {row.median_share:.0%}" if row.cells_dropped else ""
        lines.append(
            f"{normalization_label(row.normalization)} for {method_label(row.method)}: won back half or more "
            f"(interval above 0) on {row.cells_won} of {row.cells_dropped} cells that dropped{median}; worst change "
            f"at balance {row.worst_cost:+.3f}: {'meets' if row.works else 'does not meet'} the bar"
        )
    return lines


def verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """core.analysis.separation.run_verdicts as sentences, one per method."""
    return [Verdict(**row).sentence(method_label(method)) for method, row in _verdict_rows(verdicts)]


def _verdict_rows(verdicts: pd.DataFrame):
    fields = list(Verdict.__dataclass_fields__)
    for record in verdicts.to_dict("records"):
        yield record["method"], {name: record[name] for name in fields}


def below_zero_note(shares: pd.DataFrame) -> str:
    """Why a label budget's share is below 0% (its whole interval), when one is: a sentence;
    empty otherwise."""
    below = shares[(shares.k > 0) & (shares.share_high < 0)]  # the whole interval below 0
    if below.empty:
        return ""
    methods = ", ".join(dict.fromkeys(method_label(m) for m in below.method))
    return (
        f"Below 0% ({methods}): the labels moved a threshold that was nearly where it belonged; what the probe "
        "lost is mostly its direction (the decomposition that python -m core remedies prints and the Remedies "
        "page draws), which no threshold wins back, and a threshold placed by a few labels is noisier than the "
        "one it had."
    )


def _percent(share: float) -> str:
    """A signed percentage, with no sign on a zero (no "-0%")."""
    text = f"{share:+.0%}"
    return "0%" if text in ("+0%", "-0%") else text


def budget_table(shares: pd.DataFrame, smallest: pd.DataFrame) -> str:
    """core.analysis.label_budget.budget_shares as a terminal table: a row per method and use,
    the share won back at each budget k, and the smallest k that wins back half."""
    budgets = sorted(shares.k.unique())
    width = max(len(method_label(m)) for m in shares.method) + 2
    lines = ["method".ljust(width) + "use".ljust(11) + "".join(f"k={k:<20}" for k in budgets) + "half at"]
    least = {(row.method, row.use): row.k for row in smallest.itertuples()}
    for (method, use), part in shares.groupby(["method", "use"], sort=False):
        cells = []
        for k in budgets:
            row = part[part.k == k]
            share = row.iloc[0] if len(row) else None
            if share is None or share.share != share.share:
                cells.append(("no drop" if share is not None else "").ljust(22))
            else:
                low, high = _percent(share.share_low), _percent(share.share_high)
                cells.append(f"{_percent(share.share)} [{low},{high}]".ljust(22))
        half = least.get((method, use))
        lines.append(
            method_label(method).ljust(width)
            + use.ljust(11)
            + "".join(cells)
            + ("none" if pd.isna(half) else f"k={half}")
        )
    return "\n".join(lines)


def audit_markdown(audit: pd.DataFrame) -> str:
    """core.analysis.grid_audit.grid_audit as a Markdown table, a row per cell and method: the
    separation and label-free verdict and, where the grid ran the label budget, the smallest
    k that wins back half and the share won back at the largest k, per use of the labels."""
    uses = [c.removeprefix("half_") for c in audit.columns if c.startswith("half_")]
    by_templates = "templates" in audit and audit.templates.nunique() > 1
    p, n = audit.p.iloc[0], int(audit.n.iloc[0])
    header = [
        "model",
        "data set",
        *(["templates"] if by_templates else []),
        "layer",
        "method",
        f"separation at p = {p:g} (sd)",
        f"label-free fix with {n:,} pairs",
        *[f"{use}: labels for half" for use in uses],
        *[f"{use}: won back with {max(BUDGETS)} [95% CI]" for use in uses],
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in audit.iterrows():
        depth = f" ({row['depth']})" if row.get("depth") else ""
        fix = Verdict(**{name: row[name] for name in Verdict.__dataclass_fields__}).short()
        halves = [_half(row[f"half_{use}"], row[f"share_{use}"]) for use in uses]
        shares = [_won_back(*(row[f"share_{use}{end}"] for end in ("", "_low", "_high"))) for use in uses]
        cells = [
            str(row.model),
            str(row.dataset),
            *([str(row.templates)] if by_templates else []),
            f"{row.layer}{depth}",
            method_label(row.method),
            f"{row.separation:.1f}",
            fix,
            *halves,
            *shares,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
