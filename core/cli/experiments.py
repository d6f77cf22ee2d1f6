"""`extract` and `sweep`: extraction, then the imbalance sweep, with the table, the provenance
line and optional CSV and chart.
"""

from __future__ import annotations

import argparse

from core.analysis.distractors import FINDS, distractor_cells, distractor_report
from core.cli.arguments import add_extract_arguments, add_sweep_arguments, extract_config_from, sweep_config_from
from core.cli.output import status_printer, tqdm_progress
from core.errors import UserError, short_path
from core.experiments.pipeline import run_pipeline
from core.extraction.extract import extract
from core.extraction.models import check_device, known_hidden_states
from core.metrics import summarize
from core.settings.validate import check_extract, check_layers_exist, check_number, check_run
from core.store.activations import ActivationStore
from core.views.charts import imbalance_chart
from core.views.export import save_chart
from core.views.report import describe_sweep, format_summary, subtitle_lines
from core.views.style import method_label


def data_line(key: str) -> str:
    """What an activation set was made from (its description counts the duplicate rows
    dropped on load) and how many examples it holds."""
    meta = ActivationStore().meta(key)
    return (f"data: {short_path(str(meta.get('dataset_description', '?')))}; {meta.get('n', '?')} examples extracted, "
            "no text in both the test split and training")


def command_extract(args: argparse.Namespace) -> int:
    config = extract_config_from(args)
    check_extract(config)
    check_layers_exist(config, None, known_hidden_states(config.model))
    check_device(args.device)
    if args.batch_size is not None:
        check_number("batch_size", args.batch_size)
    outcome = extract(config, device=args.device, batch_size=args.batch_size,
                      progress=tqdm_progress("extract", " tokens"), status=status_printer)
    state = "cache hit (model not loaded)" if outcome.cached else f"extracted in {outcome.seconds:.1f} s"
    print(f"activations {outcome.key} ({state})")
    print(data_line(outcome.key))
    return 0


def command_sweep(args: argparse.Namespace) -> int:
    extract_config, sweep_config = extract_config_from(args), sweep_config_from(args)
    check_run(extract_config, sweep_config)
    check_device(args.device)
    if args.batch_size is not None:
        check_number("batch_size", args.batch_size)
    if args.chart and args.chart.suffix.lower() not in (".png", ".svg", ".html"):
        raise UserError(f"--chart must end in .png, .svg or .html, got {args.chart.name!r}.")
    for flag, path in (("--out", args.out), ("--chart", args.chart)):
        if path is not None and not path.resolve().parent.is_dir():
            raise UserError(f"{flag}: the folder for {path.name} does not exist.")
    run = run_pipeline(extract_config, sweep_config, device=args.device, batch_size=args.batch_size,
                       extract_progress=tqdm_progress("extract", " tokens"),
                       sweep_progress=tqdm_progress("sweep", " steps"),
                       status=status_printer)
    extraction = "cache hit, model not loaded" if run.extraction.cached else f"{run.extraction.seconds:.1f} s"
    print(f"activations {run.extraction.key[:12]} ({extraction})")
    print(data_line(run.extraction.key))
    summary = summarize(run.sweep.table, args.metric)
    print(f"\nmean {args.metric} over seeds [95% CI]")
    print(format_summary(summary))
    provenance = describe_sweep(sweep_config, run.sweep.seconds, run.sweep.cached, run.sweep.reused)
    print(provenance)
    if extract_config.template.distractor is not None:
        print(distractor_lines(run, sweep_config))
    if args.out:
        run.sweep.table.to_csv(args.out, index=False)
        print(f"results: {args.out}")
    if args.chart:
        chart = imbalance_chart(summary, subtitle=subtitle_lines(provenance), show_theory=args.theory)
        print(f"chart: {save_chart(chart, args.chart)}")
    return 0


def distractor_lines(run, sweep_config) -> str:
    """The truth-or-distractor table of a run extracted with a distractor (core.analysis.distractors)."""
    acts = ActivationStore().load(run.extraction.key, layers=[sweep_config.layer])
    report = distractor_report(distractor_cells(acts, run.sweep))
    lines = [f"\ntruth or distractor? mean accuracy on each over seeds; seeds finding each (>= {FINDS:g} and above "
             "the other)", f"{'method':24}{'p':>6}{'truth':>8}{'distractor':>12}   seeds: truth / distractor / neither"]
    for row in report.itertuples():
        lines.append(f"{method_label(row.method):24}{row.p:>6g}{row.truth_accuracy:>8.3f}{row.distractor_accuracy:>12.3f}"
                     f"   {row.seeds_finding_truth} / {row.seeds_finding_distractor} / {row.seeds_finding_neither}")
    return "\n".join(lines)


def register(commands) -> None:
    """Add the `extract` and `sweep` commands to the CLI's subparsers."""
    extract_parser = commands.add_parser("extract", help="extract (or find cached) activations")
    add_extract_arguments(extract_parser)
    extract_parser.set_defaults(run=command_extract)
    sweep = commands.add_parser("sweep", help="extract if needed, then run the imbalance sweep")
    add_extract_arguments(sweep)
    add_sweep_arguments(sweep)
    sweep.set_defaults(run=command_sweep)
