"""`inspect` and `remedies`: one trained probe's verdict on every test pair (the inspector),
and one method under Burns centering beside each remedy (the Remedies page).
"""

from __future__ import annotations

import argparse

import pandas as pd

from core.analysis.examples import example_table
from core.analysis.remedies import compare_remedies, remedy_runs
from core.cli.arguments import (
    OUT,
    P_LEVELS,
    add_extract_arguments,
    add_method,
    add_out,
    add_output_arguments,
    add_sweep_arguments,
    checked_outputs,
    checked_run,
    comma_words,
    imported_run,
)
from core.cli.experiments import activation_store, pipeline_run, run_with_bars, with_bars
from core.cli.output import say, say_block, short_text, status_printer
from core.errors import UserError
from core.experiments.pipeline import run_imported
from core.extraction.companions import sweep_activations
from core.normalizations import NORMALIZATION_REGISTRY, REMEDIES
from core.views.export import safe_csv, save_chart
from core.views.remedy_charts import remedy_chart
from core.views.report import chart_caption, recovered_share_table
from core.views.style import method_label, normalization_label

ROWS = "--rows"  # the option, named by the hint under a cut-short table too


def command_inspect(args: argparse.Namespace) -> int:
    """One cell's probe on every test pair of the run, as the inspector shows it."""
    _, run = pipeline_run(args)
    sweep = run.sweep.config
    if args.method not in sweep.methods or args.p not in sweep.p_levels or args.seed not in sweep.seeds:
        raise UserError(
            f"The run has no cell {args.method} at p = {args.p:g}, seed {args.seed}: it trains "
            f"{', '.join(sweep.methods)} at p {', '.join(f'{p:g}' for p in sweep.p_levels)} with seeds "
            f"{', '.join(map(str, sweep.seeds))}."
        )
    acts = sweep_activations(activation_store(args), run.extraction.key, sweep)
    table = example_table(acts, run.sweep, args.method, args.p, args.seed)
    row = run.sweep.table[
        (run.sweep.table.method == args.method) & (run.sweep.table.p == args.p) & (run.sweep.table.seed == args.seed)
    ].iloc[0]
    say(
        "",
        f"{method_label(args.method)}, p = {args.p:g}, seed {args.seed}: accuracy {row.accuracy:.3f}, AUROC "
        f"{row.auroc:.3f} on {len(table)} balanced test pairs ({int((~table.correct).sum())} errors)"
        + ("; the orientation was flipped to match max(acc, 1 - acc)" if row.sign_flipped else ""),
    )
    shown = table[~table.correct] if args.errors else table
    say(f"{'id':<12}{'+ true':>7}{'predicted':>10}{'confidence(+ true)':>20}  ok  text")
    for row in shown.head(args.rows).itertuples():
        say(
            f"{short_text(str(row.id), 12):<12}{row.label:>7}{row.prediction:>10}{row.confidence:>20.3f}  "
            f"{'✓' if row.correct else '✗'}   {short_text(row.text, 90)}"
        )
    if len(shown) > args.rows:
        say(f"... {len(shown) - args.rows} more ({ROWS}, or {OUT} for all)")
    if args.out:
        args.out.write_text(safe_csv(table), encoding="utf-8")
        say(f"pairs: {args.out}")
    return 0


def command_remedies(args: argparse.Namespace) -> int:
    """One method under Burns centering and each remedy, each run computed if missing."""
    imported, remedies = None, tuple(args.remedies)
    if args.activations:
        imported, sweep_config = imported_run(args)
        extract_config = None
    else:
        extract_config, sweep_config = checked_run(args)
    # Companion pairs are extracted with the model, for one template: an imported set or a
    # template ensemble has none.
    needing = [name for name in remedies if name in REMEDIES and NORMALIZATION_REGISTRY[name].companion]
    if needing and (imported is not None or extract_config.templates):
        what = "an imported set" if imported is not None else "a template ensemble"
        say(f"on {what}, without the remedies that need companion pairs: {', '.join(needing)}")
        remedies = tuple(name for name in remedies if name not in needing)
    checked_outputs(args)
    unknown = [name for name in args.remedies if name not in REMEDIES]
    if unknown:
        raise UserError(
            f"--remedies takes names from {', '.join(REMEDIES)} (none: Burns alone); got {', '.join(unknown)}."
        )
    if args.method not in sweep_config.methods:
        raise UserError(f"The run does not train {args.method} (it trains {', '.join(sweep_config.methods)}).")
    tables = {}
    for extract, config in remedy_runs((extract_config, sweep_config), remedies):
        status_printer(f"Sweep with {normalization_label(config.normalization)}")
        if imported is not None:
            tables[config.normalization] = run_imported(imported, config, with_bars(args)).table
        else:
            tables[config.normalization] = run_with_bars((extract, config), args).sweep.table
    comparison = compare_remedies(tables, args.method)
    with pd.option_context("display.width", 200):
        if len(comparison.shares):
            say(
                "",
                f"{method_label(args.method)}: share of the drop since p = {comparison.reference_p:g} each remedy "
                "wins back",
            )
            say_block(recovered_share_table(comparison.shares).to_string(index=False))
            say(
                f"Mean accuracy over {len(sweep_config.seeds)} seeds; gain = remedy minus Burns, paired by seed, "
                f"with its 95% t-interval; share = gain / drop. Every run: {chart_caption(sweep_config)}."
            )
        parts = comparison.decomposition
        say("", "Under Burns centering: accuracy lost since balance = moved threshold + lost direction")
        say_block(parts.assign(method=parts.method.map(method_label)).round(3).to_string(index=False))
    if args.out:
        args.out.write_text(safe_csv(pd.concat(tables.values())), encoding="utf-8")
        say(f"results: {args.out}")
    if args.chart:
        say(f"chart: {save_chart(remedy_chart(comparison.summary, comparison.title), args.chart)}")
    return 0


def register(commands) -> None:
    """Add the `inspect` and `remedies` commands to the CLI's subparsers."""
    inspect = commands.add_parser("inspect", help="one trained probe's verdict on every test pair (the inspector)")
    add_extract_arguments(inspect)
    add_sweep_arguments(inspect)
    cell = inspect.add_argument_group("the cell")
    add_method(cell)
    cell.add_argument("--p", type=float, required=True, help=f"the training p of the cell (one of {P_LEVELS.flag})")
    cell.add_argument("--seed", type=int, default=0)
    cell.add_argument("--errors", action="store_true", help="show only the pairs the probe gets wrong")
    cell.add_argument(ROWS, type=int, default=20, help="pairs to print (default 20)")
    add_out(inspect, "write every test pair of the cell here (CSV)")
    inspect.set_defaults(run=command_inspect)
    remedies = commands.add_parser("remedies", help="one method under Burns centering and each remedy")
    add_extract_arguments(remedies)
    add_sweep_arguments(remedies)
    add_output_arguments(remedies, "every normalization's per-cell results")
    add_method(remedies)
    remedies.add_argument(
        "--remedies",
        type=comma_words,
        default=REMEDIES,
        help=f"comma-separated subset of {','.join(REMEDIES)} (default all; '' for Burns alone)",
    )
    remedies.set_defaults(run=command_remedies)
