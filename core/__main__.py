"""Command line: python -m core {assets,extract,sweep,runs,compare,pack,unpack,present}.

Every command shares the config dataclasses with the dashboard and checks them with
core.validate before anything is loaded; bad input ends with a one-line message and exit
status 2, any other failure with a one-line message and status 1, never a traceback
(`--debug` shows it).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from core.bundled import BUNDLED_DATASETS
from core.config import BUNDLED, METHODS, TEST_NORMALIZATIONS, DatasetSpec
from core.errors import UserError, public_message
from core.metrics import METRICS
from core.normalizations import NORMALIZATION_REGISTRY, NORMALIZATIONS
from core.presets import PRESETS, TEMPLATES, with_optimizer
from core.validate import local_or_id


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers") from None


def _words(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose model, data, template and extraction (defaults: the preset)."""
    group = parser.add_argument_group("extraction")
    group.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="starting point (default: demo)")
    group.add_argument("--model", help="'bundled', a Hugging Face model id, or a local checkpoint folder")
    group.add_argument("--revision", help="model revision (hub models)")
    group.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"])
    group.add_argument("--trust-remote-code", action="store_true", help="run model code from the hub (off by default)")
    group.add_argument("--dataset", choices=["bundled", "hf", "csv"], help="dataset source")
    group.add_argument("--dataset-name", help="a bundled set (" + ", ".join(BUNDLED_DATASETS) + "), a hub dataset id "
                                              "or local folder (hf), or a file path (csv)")
    group.add_argument("--dataset-config", help="hub dataset config")
    group.add_argument("--split", help="dataset split (hf)")
    group.add_argument("--text-column")
    group.add_argument("--label-column")
    group.add_argument("--positive-label", help="label value whose + completion is true, for non-0/1 labels")
    group.add_argument("--template", choices=list(TEMPLATES), help="a named template to start from: " + "; ".join(
        f"{name}: {label}" for name, (label, _) in TEMPLATES.items()))
    group.add_argument("--prompt", help="prompt with one {text} slot")
    group.add_argument("--positive", help="completion making x+ (default ' positive')")
    group.add_argument("--negative", help="completion making x- (default ' negative')")
    group.add_argument("--distractor", type=_words, help="two words, e.g. Banana,Shed: one ends x+ and the other x-, "
                                                          "which side at random for half of each class")
    group.add_argument("--n-examples", type=int, help="balanced number of examples to extract")
    group.add_argument("--selection-seed", type=int)
    group.add_argument("--layers", type=_ints, help="hidden-state indices to keep (default: all)")
    group.add_argument("--max-tokens", type=int, help="drop examples whose x+ or x- is longer")
    group.add_argument("--float16", action="store_true", help="store activations as float16")
    group.add_argument("--batch-size", type=int, help="sequences per forward pass")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the imbalance sweep (defaults: the preset)."""
    group = parser.add_argument_group("sweep")
    group.add_argument("--layer", type=int, help="hidden-state index to probe")
    group.add_argument("--p-levels", type=_floats, help="comma-separated fractions of true-+ training pairs")
    group.add_argument("--n-train", type=int)
    group.add_argument("--n-test", type=int)
    group.add_argument("--seeds", type=int, help="number of seeds (0..N-1)")
    group.add_argument("--methods", type=_words, help=f"comma-separated subset of {','.join(METHODS)}")
    group.add_argument("--normalization", choices=NORMALIZATIONS,
                       help="per-side normalization or remedy: " + " ".join(
                           f"{norm.id}: {norm.description}" for norm in NORMALIZATION_REGISTRY.values()))
    group.add_argument("--negated-prompt", help="negation_pooled's negated question, with one {text} slot "
                                                "(default: the prompt + ' not')")
    group.add_argument("--test-normalization", choices=TEST_NORMALIZATIONS)
    group.add_argument("--ccs-optimizer", choices=["reference", "fast"],
                       help="reference: 1000 AdamW epochs at lr 1e-3 (the default, for published numbers); "
                            "fast: 500 epochs at lr 2e-3 (agrees with the reference on the demo, see make bench)")
    group.add_argument("--epochs", type=int, help="CCS epochs per restart (reference: 1000)")
    group.add_argument("--lr", type=float, help="CCS AdamW learning rate (reference: 1e-3)")
    group.add_argument("--restarts", type=int, help="CCS restarts (reference: 10)")
    group.add_argument("--metric", choices=list(METRICS), default="accuracy", help="metric of table and chart")
    group.add_argument("--out", type=Path, help="write the per-cell results CSV here")
    group.add_argument("--chart", type=Path, help="write the chart here (.png, .svg or .html)")
    group.add_argument("--theory", action="store_true", help="overlay the 4p(1-p) prediction on the chart")


def _replace(obj, **changes):
    return dataclasses.replace(obj, **{k: v for k, v in changes.items() if v is not None})


def extract_config_from(args: argparse.Namespace):
    """The preset's ExtractConfig with the command line's overrides."""
    base, _ = PRESETS[args.preset]
    model = _replace(base.model, model_id=local_or_id(args.model) if args.model else None, revision=args.revision,
                     dtype=args.dtype, trust_remote_code=True if args.trust_remote_code else None)
    dataset = base.dataset
    if args.dataset == BUNDLED and args.dataset_name:
        dataset = DatasetSpec(source=BUNDLED, name=args.dataset_name)
    elif args.dataset and args.dataset != BUNDLED:
        if not args.dataset_name:
            raise UserError(f"--dataset {args.dataset} needs --dataset-name.")
        dataset = DatasetSpec(source=args.dataset, name=args.dataset_name)
    if dataset.source == "csv":
        dataset = _replace(dataset, name=str(Path(dataset.name).expanduser().resolve()))
    elif dataset.source == "hf":
        dataset = _replace(dataset, name=local_or_id(dataset.name))
    dataset = _replace(dataset, config=args.dataset_config, split=args.split, text_column=args.text_column,
                       label_column=args.label_column, positive_label=args.positive_label)
    if args.template:
        template = TEMPLATES[args.template][1]
    elif dataset.source == BUNDLED and dataset.name in BUNDLED_DATASETS:
        template = BUNDLED_DATASETS[dataset.name].template  # each bundled set's own template
    else:
        template = base.template
    template = _replace(template, prompt=args.prompt, positive=args.positive, negative=args.negative,
                        distractor=args.distractor)
    return _replace(base, model=model, dataset=dataset, template=template, n_examples=args.n_examples,
                    selection_seed=args.selection_seed, layers=args.layers, max_tokens=args.max_tokens,
                    storage_dtype="float16" if args.float16 else None)


def sweep_config_from(args: argparse.Namespace):
    """The preset's SweepConfig with the command line's overrides."""
    _, base = PRESETS[args.preset]
    ccs = with_optimizer(base.ccs, args.ccs_optimizer) if args.ccs_optimizer else base.ccs
    ccs = _replace(ccs, epochs=args.epochs, lr=args.lr, restarts=args.restarts)
    return _replace(base, layer=args.layer, p_levels=args.p_levels, n_train=args.n_train, n_test=args.n_test,
                    seeds=tuple(range(args.seeds)) if args.seeds is not None else None, methods=args.methods,
                    normalization=args.normalization, test_normalization=args.test_normalization, ccs=ccs,
                    negated_prompt=args.negated_prompt)


def tqdm_progress(description: str, unit: str = ""):
    """A (done, total, message) callback drawing a tqdm bar on stderr."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, message: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True, file=sys.stderr)
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def status_printer(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


def data_line(key: str) -> str:
    """What an activation set was made from (its description counts the duplicate rows
    dropped on load) and how many examples it holds."""
    from core.errors import short_path
    from core.store import ActivationStore

    meta = ActivationStore().meta(key)
    return (f"data: {short_path(str(meta.get('dataset_description', '?')))}; {meta.get('n', '?')} examples extracted, "
            "no text in both the test split and training")


def command_assets(args: argparse.Namespace) -> int:
    from core.assets import asset_report, install_dataset

    if args.install_dataset:
        print(f"dataset installed at {install_dataset()}")
    for row in asset_report():
        mark = "ok " if row.installed else "MISSING"
        print(f"{mark:8}{row.name}\n        {row.location}")
        if not row.installed:
            print(f"        install: {row.install_command}")
    return 0


def command_extract(args: argparse.Namespace) -> int:
    from core.extract import extract
    from core.models import known_hidden_states
    from core.validate import check_device, check_extract, check_layers_exist, check_number

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
    from core.charts import imbalance_chart, save_chart
    from core.metrics import summarize
    from core.pipeline import run_pipeline
    from core.report import describe_sweep, format_summary, subtitle_lines
    from core.validate import check_device, check_number, check_run

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
    """The truth-or-distractor table of a run extracted with a distractor (core.distractors)."""
    from core.charts import method_label
    from core.distractors import FINDS, distractor_cells, distractor_report
    from core.store import ActivationStore

    acts = ActivationStore().load(run.extraction.key, layers=[sweep_config.layer])
    report = distractor_report(distractor_cells(acts, run.sweep))
    lines = [f"\ntruth or distractor? mean accuracy on each over seeds; seeds finding each (>= {FINDS:g} and above "
             "the other)", f"{'method':24}{'p':>6}{'truth':>8}{'distractor':>12}   seeds: truth / distractor / neither"]
    for row in report.itertuples():
        lines.append(f"{method_label(row.method):24}{row.p:>6g}{row.truth_accuracy:>8.3f}{row.distractor_accuracy:>12.3f}"
                     f"   {row.seeds_finding_truth} / {row.seeds_finding_distractor} / {row.seeds_finding_neither}")
    return "\n".join(lines)


def command_grid(args: argparse.Namespace) -> int:
    """Run an experiment grid (core.grid): one CSV and one chart into --out."""
    from core.charts import grid_chart, method_label, save_chart
    from core.grid import load_grid, run_inprocess
    from core.metrics import summarize
    from core.validate import check_device

    grid = load_grid(args.file)
    check_device(args.device)
    out = args.out.expanduser()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out.name} exists and is not a folder.")
    out.mkdir(parents=True, exist_ok=True)
    if args.executor == "ray":
        from core.grid_ray import run_on_ray

        outcome = run_on_ray(grid, args.ray_address, device=args.device, progress=tqdm_progress("grid", " jobs"))
    else:
        outcome = run_inprocess(grid, device=args.device, progress=tqdm_progress("grid", " jobs"),
                                status=status_printer)
    table = outcome.table
    table.to_csv(out / "grid.csv", index=False)
    summary = summarize(table, args.metric, by=("model", "dataset", "layer", "normalization", "method", "p"))
    save_chart(grid_chart(summary, f"{grid.title}: {args.metric}, mean over seeds, 95% band"), out / "grid.png")
    print(f"grid '{grid.title}' ({outcome.executor}): {outcome.extracted} extraction(s) run, "
          f"{outcome.extractions_cached} from the cache; {outcome.swept} sweep(s) run, {outcome.sweeps_cached} from "
          f"the cache; {outcome.seconds:.0f} s")
    low, high = min(table.p), max(table.p)
    means = table.groupby(["model", "dataset", "layer", "normalization", "method", "p"], sort=False)[args.metric].mean()
    print(f"\nmean {args.metric} over seeds at p = {low:g} -> {high:g}")
    for (model, dataset, layer, norm, method), rows in means.groupby(level=[0, 1, 2, 3, 4], sort=False):
        rows = rows.droplevel([0, 1, 2, 3, 4])
        print(f"{model:24} {dataset:26} layer {layer:<3} {norm:16} {method_label(method):24} "
              f"{rows.loc[low]:.3f} -> {rows.loc[high]:.3f}")
    print(f"results: {out / 'grid.csv'}\nchart: {out / 'grid.png'}")
    return 0


def pipeline_runner(device: str = "auto"):
    """A run_one for core.steps.compute: the pipeline with progress bars on stderr."""
    from core.pipeline import run_pipeline

    def run_one(run):
        extract_config, sweep_config = run
        return run_pipeline(extract_config, sweep_config, device=device, status=status_printer,
                            extract_progress=tqdm_progress("extract", " tokens"),
                            sweep_progress=tqdm_progress("sweep", " steps")).sweep

    return run_one


def _checked_output(path: Path, suffixes: tuple[str, ...], flag: str) -> Path:
    if path.suffix.lower() not in suffixes:
        raise UserError(f"{flag} must end in {' or '.join(suffixes)}, got {path.name!r}.")
    if not path.resolve().parent.is_dir():
        raise UserError(f"{flag}: the folder for {path.name} does not exist.")
    return path


def command_runs(args: argparse.Namespace) -> int:
    from core.runs import describe_run, list_runs

    records = list_runs()
    if not records:
        print("no finished runs in the cache")
    for record in records:
        row = describe_run(record)
        if record.damaged:
            print(f"{row['key']}  (unreadable record)")
            continue
        print(f"{row['key']}  {row['created']}  {row['model']}; {short_text(row['dataset'])}; layer {row['layer']}; "
              f"norm {row['normalization']}; {row['seeds']} seeds; p {row['p levels']}; {row['methods']}"
              + (f"; CCS {row['CCS optimizer']}" if row["CCS optimizer"] else "") + f"; {row['size (MB)']} MB")
    return 0


def short_text(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def command_compare(args: argparse.Namespace) -> int:
    from core.charts import compare_chart, save_chart
    from core.report import format_summary
    from core.runs import find_runs, overlay, record_labels

    if len(args.keys) < 2:
        raise UserError("compare needs at least two run keys (python -m core runs lists them).")
    if args.chart:
        _checked_output(args.chart, (".png", ".svg", ".html"), "--chart")
    records = find_runs(args.keys)
    labels = record_labels(records)
    summary = overlay(records, args.metric, list(args.methods) if args.methods else None, labels)
    for record, label in zip(records, labels):
        print(f"\n{record.key[:12]}: {label}\nmean {args.metric} over seeds [95% CI]")
        print(format_summary(summary[summary.run == label]))
    if args.chart:
        chart = compare_chart(summary, facet=args.facet, title=f"{args.metric}: mean over seeds, 95% band")
        print(f"chart: {save_chart(chart, args.chart)}")
    return 0


def command_pack(args: argparse.Namespace) -> int:
    from core.pack import pack

    out = _checked_output(args.out, (".zip",), "--out")
    report = pack(args.deck, out, run_one=pipeline_runner(args.device), status=status_printer)
    print(f"pack {out}: deck {report.name!r}, {report.runs} run(s), {report.views} measured view(s), "
          f"{report.size_bytes / 1e6:.2f} MB")
    return 0


def command_unpack(args: argparse.Namespace) -> int:
    from core.pack import unpack

    name, deck, report = unpack(args.pack)
    print(f"imported deck {name!r} ({len(deck.steps)} steps): {report.runs} run(s), {report.views} measured view(s)")
    print(f"present it: make run, then open /present?deck={name}  (or python -m core present {name} --html talk.html)")
    return 0


def command_present(args: argparse.Namespace) -> int:
    from core.deck import resolve_deck
    from core.steps import Results, compute, missing
    from core.talk_html import deck_html

    out = _checked_output(args.html, (".html",), "--html")
    name, deck, _ = resolve_deck(args.deck)
    results = Results(pins=deck.pins)
    if any(missing(deck, results)):
        compute(deck, results, pipeline_runner(args.device), status_printer)
    out.write_text(deck_html(deck, results), encoding="utf-8")
    print(f"talk {out}: deck {name!r}, {len(deck.steps)} steps, {out.stat().st_size / 1e6:.2f} MB, works offline")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="what of the offline default is installed, and where")
    assets.add_argument("--install-dataset", action="store_true", help="download and unpack the bundled dataset")
    assets.set_defaults(run=command_assets)
    extract = commands.add_parser("extract", help="extract (or find cached) activations")
    add_extract_arguments(extract)
    extract.set_defaults(run=command_extract)
    sweep = commands.add_parser("sweep", help="extract if needed, then run the imbalance sweep")
    add_extract_arguments(sweep)
    add_sweep_arguments(sweep)
    sweep.set_defaults(run=command_sweep)
    runs = commands.add_parser("runs", help="list the finished runs in the cache (keys for compare)")
    runs.set_defaults(run=command_runs)
    compare = commands.add_parser("compare", help="several cached runs side by side")
    compare.add_argument("keys", nargs="+", metavar="KEY", help="run keys or their first 6+ hex digits")
    compare.add_argument("--metric", choices=list(METRICS), default="accuracy")
    compare.add_argument("--methods", type=_words, help=f"comma-separated subset of {','.join(METHODS)}")
    compare.add_argument("--facet", choices=["none", "method", "run"], default="none",
                         help="none: color per run, dash per method; method or run: a panel each")
    compare.add_argument("--chart", type=Path, help="write the chart here (.png, .svg or .html)")
    compare.set_defaults(run=command_compare)
    deck_help = "a deck file (.toml) or a deck's name (default: the demo deck)"
    pack = commands.add_parser("pack", help="a deck and every result it draws, in one zip file")
    pack.add_argument("deck", nargs="?", help=deck_help)
    pack.add_argument("--out", type=Path, required=True, help="the zip file to write")
    pack.add_argument("--device", default="auto", help="for results that must be computed first")
    pack.set_defaults(run=command_pack)
    unpack = commands.add_parser("unpack", help="import a pack into this machine's cache")
    unpack.add_argument("pack", type=Path)
    unpack.set_defaults(run=command_unpack)
    present = commands.add_parser("present", help="a deck as one self-contained HTML file")
    present.add_argument("deck", nargs="?", help=deck_help)
    present.add_argument("--html", type=Path, required=True, help="the .html file to write")
    present.add_argument("--device", default="auto", help="for results that must be computed first")
    present.set_defaults(run=command_present)
    grid = commands.add_parser("grid", help="an experiment grid (models x data sets x layers x normalizations): "
                                            "one CSV and one chart; a rerun resumes from the cache")
    grid.add_argument("file", type=Path, help="the grid file (.toml), see core/grid.py or examples/")
    grid.add_argument("--out", type=Path, required=True, help="the folder for grid.csv and grid.png")
    grid.add_argument("--executor", choices=["inprocess", "ray"], default="inprocess",
                      help="ray: extractions and sweeps as Ray tasks (pip install -r requirements-ray.txt)")
    grid.add_argument("--ray-address", help="a running Ray cluster (default: start a local one)")
    grid.add_argument("--metric", choices=list(METRICS), default="accuracy")
    grid.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (in-process executor)")
    grid.set_defaults(run=command_grid)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted; cached results are untouched", file=sys.stderr)
        return 130
    except Exception as error:  # every failure ends in one line; --debug shows the traceback
        if args.debug:
            raise
        hint = "" if isinstance(error, UserError) else " (run with --debug for the traceback)"
        print(f"error: {public_message(error)}{hint}", file=sys.stderr)
        return 2 if isinstance(error, UserError) else 1


if __name__ == "__main__":
    sys.exit(main())
