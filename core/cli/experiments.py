"""`extract`, `sweep` and `layers`: extraction, the imbalance sweep (with the table, the
provenance line and optional CSV and chart), and the same sweep at every layer.
"""

from __future__ import annotations

import argparse

from core.analysis.distractors import FINDS, distractor_cells, distractor_report
from core.analysis.separation import run_verdicts
from core.cli.arguments import (
    add_extract_arguments,
    add_output_arguments,
    add_sweep_arguments,
    checked_outputs,
    checked_run,
    extract_config_from,
    imported_run,
    runtime_from,
)
from core.cli.output import say, say_block, status_printer, tqdm_progress
from core.config import ExtractConfig
from core.errors import short_path
from core.experiments.layers import run_layer_scan, scan_every_layer
from core.experiments.pipeline import PipelineRun, run_imported, run_pipeline
from core.extraction.companions import sweep_activations
from core.extraction.extract import ExtractionOutcome, extract
from core.extraction.runtime import Runtime
from core.metrics import summarize
from core.models.known import known_hidden_states
from core.settings.sweep import Run
from core.settings.validate import check_extract, check_layers_exist
from core.store.activation_imports import imported_set
from core.store.activations import ActivationStore
from core.views.charts import imbalance_chart, layer_chart
from core.views.export import save_chart
from core.views.report import (
    chart_caption,
    describe_sweep,
    describe_templates,
    format_summary,
    layer_table,
    subtitle_lines,
    verdict_lines,
)
from core.views.style import method_label


def data_line(key: str, store: ActivationStore | None = None) -> str:
    """What an activation set was made from (its description counts the duplicate rows
    dropped on load) and how many examples it holds."""
    meta = (store or ActivationStore()).meta(key)
    made = "pairs imported" if "origin" in meta else "examples extracted"
    templates = meta.get("config", {}).get("templates", []) if isinstance(meta.get("config"), dict) else []
    return (
        f"data: {short_path(str(meta.get('dataset_description', '?')))}; {meta.get('n', '?')} {made}, "
        "no text in both the test split and training"
    ) + (f"; {describe_templates(templates)}" if templates else "")


def activation_store(args: argparse.Namespace) -> ActivationStore:
    """Where the command's activation set lies: the imported set's own store, or this machine's."""
    return imported_set(args.activations).activations if getattr(args, "activations", None) else ActivationStore()


def with_bars(args: argparse.Namespace, sweep_bar: str = "sweep", unit: str = " steps") -> Runtime:
    """The command line's runtime, with progress bars and status lines on stderr."""
    return runtime_from(
        args,
        extract_progress=tqdm_progress("extract", " tokens"),
        sweep_progress=tqdm_progress(sweep_bar, unit),
        status=status_printer,
    )


def run_with_bars(run: Run, args: argparse.Namespace) -> PipelineRun:
    """The pipeline on one run (extract, or find cached, then sweep), as the command line
    asks, with progress bars and status lines on stderr."""
    return run_pipeline(*run, with_bars(args))


def imported_pipeline_run(args: argparse.Namespace) -> PipelineRun:
    """The sweep the command line describes on the imported set it names,
    trained (or found) in the import's own stores, with the lines that say where it came from."""
    imported, sweep_config = imported_run(args)
    checked_outputs(args)
    say(f"activations {imported.id} ({imported.origin()})", data_line(imported.key, imported.activations))
    return PipelineRun(
        ExtractionOutcome(imported.key, True, 0.0), run_imported(imported, sweep_config, with_bars(args))
    )


def pipeline_run(args: argparse.Namespace) -> tuple[ExtractConfig | None, PipelineRun]:
    """The run the command line describes, checked, extracted and swept (or found in the
    cache), with progress bars, and the two lines that say where its activations came from;
    on an imported set, no extraction and no ExtractConfig."""
    if args.activations:
        return None, imported_pipeline_run(args)
    extract_config, sweep_config = checked_run(args)
    checked_outputs(args)
    run = run_with_bars((extract_config, sweep_config), args)
    extraction = "cache hit, model not loaded" if run.extraction.cached else f"{run.extraction.seconds:.1f} s"
    say(f"activations {run.extraction.key[:12]} ({extraction})", data_line(run.extraction.key))
    return extract_config, run


def command_extract(args: argparse.Namespace) -> int:
    config = extract_config_from(args)
    check_extract(config)
    check_layers_exist(config, None, known_hidden_states(config.model))
    outcome = extract(config, with_bars(args))
    state = "cache hit (model not loaded)" if outcome.cached else f"extracted in {outcome.seconds:.1f} s"
    say(f"activations {outcome.key} ({state})", data_line(outcome.key))
    return 0


def command_sweep(args: argparse.Namespace) -> int:
    extract_config, run = pipeline_run(args)
    sweep_config = run.sweep.config
    summary = summarize(run.sweep.table, args.metric)
    say("", f"mean {args.metric} over seeds [95% CI]")
    say_block(format_summary(summary))
    provenance = describe_sweep(sweep_config, run.sweep.seconds, run.sweep.cached, run.sweep.reused)
    say_block(provenance)
    acts = sweep_activations(activation_store(args), run.extraction.key, sweep_config)
    say("", "the limit of a label-free fix (separation along each probe on the test split; docs: label budget):")
    say(*verdict_lines(run_verdicts(acts, run.sweep)))
    if extract_config is not None and extract_config.template.distractor is not None:
        say_block(distractor_lines(run))
    if args.out:
        run.sweep.table.to_csv(args.out, index=False)
        say(f"results: {args.out}")
    if args.chart:
        chart = imbalance_chart(summary, subtitle=subtitle_lines(provenance), show_theory=args.theory)
        say(f"chart: {save_chart(chart, args.chart)}")
    return 0


def distractor_lines(run: PipelineRun) -> str:
    """The truth-or-distractor table of a run extracted with a distractor (core.analysis.distractors)."""
    acts = ActivationStore().load(run.extraction.key, layers=[run.sweep.config.layer])
    report = distractor_report(distractor_cells(acts, run.sweep))
    lines = [
        f"\ntruth or distractor? mean accuracy on each over seeds; seeds finding each (>= {FINDS:g} and above "
        "the other)",
        f"{'method':24}{'p':>6}{'truth':>8}{'distractor':>12}   seeds: truth / distractor / neither",
    ]
    for row in report.itertuples():
        lines.append(
            f"{method_label(row.method):24}{row.p:>6g}{row.truth_accuracy:>8.3f}{row.distractor_accuracy:>12.3f}"
            f"   {row.seeds_finding_truth} / {row.seeds_finding_distractor} / {row.seeds_finding_neither}"
        )
    return "\n".join(lines)


def command_layers(args: argparse.Namespace) -> int:
    """The sweep at every layer the extraction keeps (the Layers page)."""
    if args.layers:  # the scan covers the layers extracted; the sweep's own layer is checked as the first
        args.layer = args.layers[0]
    runtime = with_bars(args, "layers", " layers")
    if args.activations:
        imported, sweep_config = imported_run(args)
        checked_outputs(args)
        runtime = runtime.for_import(imported)
        table = run_layer_scan(imported.key, sweep_config, list(imported.layers), runtime)
        say(f"activations {imported.id} ({imported.origin()})", data_line(imported.key, runtime.activations))
    else:
        extract_config, sweep_config = checked_run(args)
        checked_outputs(args)
        outcome, table = scan_every_layer(extract_config, sweep_config, runtime)
        say(f"activations {outcome.key[:12]}", data_line(outcome.key))
    summary = summarize(table, args.metric, by=("method", "p", "layer"))
    say("", f"mean {args.metric} over {len(sweep_config.seeds)} seeds, by layer")
    say_block(layer_table(summary).to_string())
    caption = chart_caption(sweep_config).replace(f", layer {sweep_config.layer}", "")
    say(f"Every layer: {caption}; the 95% intervals are in the CSV's cells and on the chart.")
    if args.out:
        table.to_csv(args.out, index=False)
        say(f"results: {args.out}")
    if args.chart:
        say(f"chart: {save_chart(layer_chart(summary), args.chart)}")
    return 0


def register(commands) -> None:
    """Add the `extract`, `sweep` and `layers` commands to the CLI's subparsers."""
    extract_parser = commands.add_parser("extract", help="extract (or find cached) activations")
    add_extract_arguments(extract_parser)
    extract_parser.set_defaults(run=command_extract)
    sweep = commands.add_parser("sweep", help="extract if needed, then run the imbalance sweep")
    add_extract_arguments(sweep)
    add_sweep_arguments(sweep)
    add_output_arguments(sweep)
    sweep.add_argument("--theory", action="store_true", help="overlay the 4p(1-p) prediction on the chart")
    sweep.set_defaults(run=command_sweep)
    layers = commands.add_parser(
        "layers",
        help="the sweep at every layer the extraction keeps (--layers picks them; default all), as the Layers page",
    )
    add_extract_arguments(layers)
    add_sweep_arguments(layers)
    add_output_arguments(layers, "every layer's per-cell results")
    layers.set_defaults(run=command_layers)
