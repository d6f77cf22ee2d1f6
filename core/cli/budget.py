"""`label-budget`: how many labelled pairs undo the imbalance, per method of a run
(core.analysis.label_budget), with the same run options as `sweep`."""

from __future__ import annotations

import argparse

import pandas as pd

from core.analysis.label_budget import BUDGETS, USES, budget_shares, label_budget, smallest_budget
from core.cli.arguments import add_extract_arguments, add_out, add_sweep_arguments, comma_ints
from core.cli.experiments import activation_store, pipeline_run
from core.cli.output import say, say_block
from core.errors import UserError
from core.extraction.companions import sweep_activations
from core.views.export import safe_csv
from core.views.report import below_zero_note, budget_table, describe_sweep


def command_label_budget(args: argparse.Namespace) -> int:
    """The run (found in the cache or computed), then its label budget at its highest p."""
    budgets = tuple(sorted(set(args.budgets)))
    if not budgets or budgets[0] < 0 or budgets[-1] > 10_000:
        raise UserError("--budgets takes numbers of labelled pairs from 0 to 10,000, e.g. 0,10,20,50,100,200.")
    _, run = pipeline_run(args)
    if len(run.sweep.config.p_levels) < 2:
        raise UserError("A label budget needs a run with at least two levels of p (the balanced one and a high one).")
    acts = sweep_activations(activation_store(args), run.extraction.key, run.sweep.config)
    shares = budget_shares(label_budget(acts, run.sweep, budgets))
    say_block(budget_table(shares, smallest_budget(shares)))
    say_block(
        f"share of the accuracy drop since the most balanced p won back with k labelled pairs drawn from each "
        f"cell's training draw, at p = {shares.p.max():g}, mean over seeds [95% CI] (each seed's gain the mean of "
        "20 draws of k); uses: "
        + "; ".join(f"{use}: {about}" for use, about in USES.items())
        + ". Run: "
        + describe_sweep(run.sweep.config)
    )
    if note := below_zero_note(shares):
        say_block(note)
    if args.out:
        args.out.write_text(safe_csv(pd.DataFrame(shares)), encoding="utf-8")
        say(f"results: {args.out}")
    return 0


def register(commands) -> None:
    """Add the `label-budget` command to the CLI's subparsers."""
    budget = commands.add_parser(
        "label-budget", help="how many labelled pairs win back the drop at the highest p, per method"
    )
    add_extract_arguments(budget)
    add_sweep_arguments(budget)
    budget.add_argument(
        "--budgets",
        type=comma_ints,
        default=BUDGETS,
        help=f"numbers of labelled pairs, comma-separated (default {','.join(map(str, BUDGETS))})",
    )
    add_out(budget, "write the shares per method, use and budget here (CSV)")
    budget.set_defaults(run=command_label_budget)
