"""`runs` and `compare`: the library of finished runs in the cache, and several of them side
by side.
"""

from __future__ import annotations

import argparse

from core.cli.arguments import CHART, add_chart, add_metric, add_setting
from core.cli.output import CHART_SUFFIXES, checked_output, say, say_block, short_text
from core.errors import UserError
from core.experiments.runs import describe_run, find_runs, list_runs, overlay, record_labels, run_address
from core.settings.schema import SETTINGS
from core.views.charts import COMPARE_FACETS, compare_chart
from core.views.export import save_chart
from core.views.report import format_summary


def command_runs(args: argparse.Namespace) -> int:
    records = [record for record in list_runs() if _has_origin(record, args.origin)]
    if not records:
        say("no finished runs in the cache" + ("" if args.origin == "all" else f" from {args.origin}"))
    for record in records:
        row = describe_run(record)
        if record.damaged:
            say(f"{run_address(record)}  (unreadable record; {record.origin})")
            continue
        say(
            f"{run_address(record)}  {row['created']}  {row['model']}; {short_text(row['dataset'])}; "
            f"layer {row['layer']}; norm {row['normalization']}; {row['seeds']} seeds; p {row['p levels']}; "
            f"{row['methods']}"
            + (f"; CCS {row['CCS optimizer']}" if row["CCS optimizer"] else "")
            + f"; {row['size (MB)']} MB; {record.origin}"
        )
    return 0


def _has_origin(record, origin: str) -> bool:
    """Whether a run comes from `origin`: all, here (computed on this machine), imported
    (any pack), or a pack's id."""
    return origin == "all" or {"here": not record.pack, "imported": bool(record.pack)}.get(
        origin, record.pack == origin
    )


def command_compare(args: argparse.Namespace) -> int:
    if len(args.keys) < 2:
        raise UserError("compare needs at least two run keys (python -m core runs lists them).")
    if args.chart:
        checked_output(args.chart, CHART_SUFFIXES, CHART)
    records = find_runs(args.keys)
    labels = record_labels(records)
    summary = overlay(records, args.metric, list(args.methods) if args.methods else None, labels)
    for record, label in zip(records, labels):
        say("", f"{run_address(record)}: {label} ({record.origin})", f"mean {args.metric} over seeds [95% CI]")
        say_block(format_summary(summary[summary.run == label]))
    if args.chart:
        chart = compare_chart(summary, facet=args.facet, title=f"{args.metric}: mean over seeds, 95% band")
        say(f"chart: {save_chart(chart, args.chart)}")
    return 0


def register(commands) -> None:
    """Add the `runs` and `compare` commands to the CLI's subparsers."""
    runs = commands.add_parser("runs", help="list the finished runs in the cache (keys for compare)")
    runs.add_argument(
        "--origin", default="all", help="all (default), here (computed on this machine), imported, or a pack's id"
    )
    runs.set_defaults(run=command_runs)
    compare = commands.add_parser("compare", help="several cached runs side by side")
    compare.add_argument(
        "keys",
        nargs="+",
        metavar="KEY",
        help="run keys or their first 6+ hex digits, as `runs` lists them; PACK_ID:KEY names a pack's copy",
    )
    add_metric(compare)
    add_setting(compare, SETTINGS["methods"], help="which of the runs' methods to show")
    compare.add_argument(
        "--facet",
        choices=COMPARE_FACETS,
        default="none",
        help="none: color per run, dash per method; method or run: a panel each",
    )
    add_chart(compare)
    compare.set_defaults(run=command_compare)
