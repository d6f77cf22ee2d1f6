"""`python -m core grid FILE`: an experiment grid (core.experiments.grid), in process
or on Ray, written as one CSV and one chart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.analysis.grid_audit import grid_audit
from core.analysis.grids import (
    WORKS_CELLS,
    WORKS_COST,
    WORKS_SHARE,
    above_chance_counts,
    drops,
    grid_summary,
    remedy_methods_as_normalizations,
    remedy_verdicts,
    template_comparison,
)
from core.analysis.label_budget import BUDGETS, USES
from core.analysis.separation import COST_TOLERANCE, MIN_SEPARATION
from core.cli.arguments import OUT, add_device, add_metric, add_out, runtime_from
from core.cli.output import checked_folder, say, status_printer, tqdm_progress
from core.errors import UserError
from core.experiments.grid import load_grid
from core.experiments.grid_plan import plan_grid
from core.experiments.grid_ray import ADDRESS_OPTION, check_ray_address, run_on_ray
from core.experiments.grid_run import run_inprocess
from core.probes import FLOOR_METHOD
from core.views.charts import drop_chart
from core.views.export import save_chart
from core.views.report import (
    above_chance_lines,
    audit_markdown,
    grid_summary_markdown,
    remedy_verdict_lines,
    template_comparison_markdown,
)
from core.views.style import method_label


def command_grid(args: argparse.Namespace) -> int:
    """Run an experiment grid (core.experiments.grid): its plan first, then one CSV and one
    chart into the output folder."""
    grid = load_grid(args.file)
    runtime = runtime_from(args, status=status_printer)
    out = checked_folder(args.out, OUT, ("grid.csv", "grid.png"))
    if args.executor == "ray":
        check_ray_address(args.ray_address)
    plan = plan_grid(grid)
    say(*plan.lines())
    if plan.needs_confirmation() and not args.yes:
        if not sys.stdin.isatty():
            raise UserError("This grid is large (see its plan); run it again with --yes to start it.")
        if input("Run it? [y/N] ").strip().lower() not in ("y", "yes"):
            say("nothing was run")
            return 0
    if args.executor == "ray":
        outcome = run_on_ray(grid, args.ray_address, device=runtime.device, progress=tqdm_progress("grid", " jobs"))
    else:
        outcome = run_inprocess(grid, runtime, tqdm_progress("grid", " jobs"))
    table = outcome.table
    table.to_csv(out / "grid.csv", index=False)
    save_chart(
        drop_chart(drops(table, args.metric), f"{grid.title}: {args.metric} lost under imbalance"), out / "grid.png"
    )
    say(
        f"grid '{grid.title}' ({outcome.executor}): {outcome.extracted} extraction(s) run, "
        f"{outcome.extractions_cached} from the cache; {outcome.swept} sweep(s) run, {outcome.sweeps_cached} from "
        f"the cache; {outcome.seconds:.0f} s"
    )
    low, high = min(table.p), max(table.p)
    group = ["model", "dataset", "templates", "layer", "normalization", "method"]
    means = table.groupby([*group, "p"], sort=False)[args.metric].mean()
    say("", f"mean {args.metric} over seeds at p = {low:g} -> {high:g}")
    for (model, dataset, templates, layer, norm, method), rows in means.groupby(level=list(range(6)), sort=False):
        rows = rows.droplevel(list(range(6)))
        say(
            f"{model:24} {dataset:26} {templates:14} layer {layer:<3} {norm:16} {method_label(method):24} "
            f"{rows.loc[low]:.3f} -> {rows.loc[high]:.3f}"
        )
    summary = grid_summary(table)
    text = summary_text(summary)
    comparison = template_comparison(summary)
    if len(comparison):
        text += "\n## One template against the template ensemble (Burns centering)\n\n"
        text += template_comparison_markdown(comparison)
    counts = above_chance_counts(summary)
    if len(counts):
        lines = above_chance_lines(counts)
        text += "\n## Cells above chance at balance, per reading of the data sets\n\n"
        text += "\n".join(f"- {line}" for line in lines) + "\n"
        say("", *lines)
    compared = remedy_methods_as_normalizations(table)
    if len(compared):
        text += "\n## Label-free remedy methods against their plain forms\n\n" + summary_text(
            grid_summary(compared, thresholds=False)
        )
    text += audit_section(grid, outcome, runtime, out)
    (out / "summary.md").write_text(text, encoding="utf-8")
    say(
        f"results: {out / 'grid.csv'}",
        f"chart: {out / 'grid.png'}",
        f"summary per cell and method: {out / 'summary.md'}",
    )
    return 0


def audit_section(grid, outcome, runtime, out: Path) -> str:
    """The summary's section on undoing the imbalance (core.analysis.grid_audit), its table
    also written as audit.csv; empty where no sweep has two levels of p under Burns centering."""
    what = "separation, label-free verdict" + (" and label budget" if grid.label_budget else "")
    audit = grid_audit(outcome.cells, runtime, grid.label_budget, tqdm_progress(what, " sweeps"))
    if not len(audit):
        return ""
    audit.to_csv(out / "audit.csv", index=False)
    say(f"{what} per cell: {out / 'audit.csv'}")
    how = (
        "Separation: of the classes along each probe's direction on the test split, in pooled standard deviations, "
        "mean over seeds. Label-free fix: whether the information bound lets any label-free estimate of the "
        f"classes' midpoint cost under {COST_TOLERANCE:.0%} of accuracy at this separation, p and training size, "
        "and if not, how many training pairs would; nothing to recover where the classes stand under "
        f"{MIN_SEPARATION} sd apart (docs: science/label-budget)."
    )
    if grid.label_budget:
        how += (
            " Labels for half: the smallest number k of labelled pairs, drawn from each cell's own training draw, "
            "that wins back half the drop since balance, used as: "
            + "; ".join(f"{use}: {about}" for use, about in USES.items())
            + f"; won back: the share of the drop at k = {max(BUDGETS)}, mean over seeds [95% CI], "
            "(n.s.) where the paired interval reaches zero."
        )
    return "\n## Undoing the imbalance at the highest p (Burns centering)\n\n" + how + "\n\n" + audit_markdown(audit)


def summary_text(summary) -> str:
    """A grid summary's Markdown table and, where it compares remedies, each remedy's
    verdict against the bar (core.analysis.grids), printed too."""
    text = grid_summary_markdown(summary)
    if not any(column.startswith("recovered_") for column in summary.columns):
        return text
    verdicts = [
        line
        for method in dict.fromkeys(summary.method)
        if method != FLOOR_METHOD
        for line in remedy_verdict_lines(remedy_verdicts(summary, method))
    ]
    bar = (
        f"A remedy meets the bar when it wins back {WORKS_SHARE:.0%} or more of the drop at the highest p, "
        f"with a paired interval above zero, on {WORKS_CELLS} or more cells where the method works, and "
        f"changes accuracy at balance by less than {WORKS_COST} on every cell."
    )
    say("", bar, *verdicts)
    return text + "\n" + bar + "\n\n" + "\n".join(f"- {line}" for line in verdicts) + "\n"


def register(commands) -> None:
    """Add the `grid` command to the CLI's subparsers."""
    grid = commands.add_parser(
        "grid",
        help="an experiment grid (models x data sets x layers x normalizations): "
        "one CSV and one chart; a rerun resumes from the cache",
    )
    grid.add_argument("file", type=Path, help="the grid file (.toml), see core/experiments/grid.py or examples/")
    add_out(grid, "the folder for grid.csv and grid.png", required=True)
    grid.add_argument(
        "--executor",
        choices=["inprocess", "ray"],
        default="inprocess",
        help="ray: extractions and sweeps as Ray tasks (pip install -r requirements-ray.txt)",
    )
    grid.add_argument(
        ADDRESS_OPTION, help="a running Ray cluster, host:port or ray://host:port (default: start a local one)"
    )
    grid.add_argument("--yes", action="store_true", help="start without asking, however large the plan (for scripts)")
    add_metric(grid)
    add_device(grid, "auto, cpu, cuda or mps (in-process executor)")
    grid.set_defaults(run=command_grid)
