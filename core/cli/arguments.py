"""The options that choose a run on the command line, and the configs they make: the preset's
configs with the command line's overrides (the same dataclasses the dashboard and links use).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from core.cli.output import CHART_SUFFIXES, checked_output, say
from core.config import BUNDLED, DatasetSpec, ExtractConfig, ModelSpec
from core.data.bundled import BUNDLED_DATASETS, named_template
from core.data.ensembles import with_templates
from core.errors import UserError
from core.extraction.models import check_device
from core.extraction.runtime import Runtime
from core.metrics import METRICS
from core.models import model_label, offline_model_id
from core.models.depth import depth_label, is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.names import is_digest, local_or_id
from core.probes import HEADLINE_METHOD, METHOD_IDS
from core.settings.presets import CCS_OPTIMIZERS, PRESETS, with_optimizer
from core.settings.schema import EXTRACT_SETTINGS, SETTINGS, SWEEP_SETTINGS, Entry
from core.settings.sweep import SweepConfig
from core.settings.validate import check_batch_size, check_run, check_sweep
from core.store.activation_imports import ImportedActivations, imported_set
from core.store.imports import REMOVE_OPTION

# The settings the command line resolves itself (a named model or data set, depths) or names in help.
MODEL_ID, SOURCE, NAME, LAYER, P_LEVELS = (
    SETTINGS[name] for name in ("model_id", "source", "name", "layer", "p_levels")
)


def comma_floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None


def comma_ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers") from None


def comma_words(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def range_or_list(text: str) -> tuple[int, ...]:
    """A list as a link writes it: a count N (0..N-1) or a comma-separated list."""
    return comma_ints(text) if "," in text else tuple(range(comma_ints(text)[0] if text.strip() else 0))


LIST_OF = {float: comma_floats, int: comma_ints, str: comma_words}


def add_setting(group, entry: Entry, **options) -> None:
    """The option of one setting, made from its declaration: its kind, choices, help."""
    about = entry.about
    if about.const is not None or entry.kind is bool:
        options |= {"action": "store_const", "const": True if entry.kind is bool else about.const}
    elif about.depth:
        options |= {"type": comma_words if entry.many else str}  # indices or depths, resolved once the model is known
    elif entry.many:
        options |= {"type": range_or_list if about.range_count else LIST_OF[entry.kind]}
    else:
        options |= {"type": entry.kind} | ({"choices": entry.choices} if entry.choices else {})
    text = options.pop("help", None) or about.help or entry.label
    choices = f" (comma-separated, from {', '.join(entry.choices)})" if entry.many and entry.choices else ""
    group.add_argument(entry.flag, dest=entry.dest, help=text.replace("%", "%%") + choices, **options)


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose model, data, template and extraction (defaults: the preset)."""
    group = parser.add_argument_group("extraction")
    group.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="starting point (default: demo)")
    group.add_argument(
        "--template",
        metavar="NAME",
        help="a named template of the data set to start from (list them with: python -m core datasets)",
    )
    for entry in EXTRACT_SETTINGS:
        if entry.flag:
            add_setting(group, entry)
    group.add_argument("--batch-size", type=int, help="sequences per forward pass")
    add_device(group)
    group.add_argument(
        ACTIVATIONS,
        metavar="ID",
        help=f"an imported activation set (import-activations {LIST}) instead of extracting: the options "
        "above are then ignored",
    )


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the imbalance sweep (defaults: the preset)."""
    group = parser.add_argument_group("sweep")
    for entry in SWEEP_SETTINGS:
        if entry.flag:
            add_setting(group, entry)
    group.add_argument(
        "--ccs-optimizer",
        choices=list(CCS_OPTIMIZERS),
        help="reference: 1000 AdamW epochs at lr 1e-3 (the default, for published numbers); "
        "fast: 500 epochs at lr 2e-3 (agrees with the reference on the demo, see make bench)",
    )


# The options more than one command takes, each written here once.
OUT, CHART = "--out", "--chart"
ACTIVATIONS = "--activations"
LIST, REMOVE = "--list", REMOVE_OPTION  # import-activations's (and packs'): list the imported sets, remove one


def add_output_arguments(parser: argparse.ArgumentParser, table: str = "the per-cell results CSV") -> None:
    """The metric a command reports, and the files it writes (checked before any work)."""
    group = parser.add_argument_group("output")
    add_metric(group, "metric of table and chart")
    add_out(group, f"write {table} here")
    add_chart(group)


def add_metric(parser, help: str | None = None) -> None:
    parser.add_argument("--metric", choices=list(METRICS), default="accuracy", help=help)


def add_out(parser, help: str, required: bool = False) -> None:
    parser.add_argument(OUT, type=Path, required=required, help=help)


def add_chart(parser) -> None:
    parser.add_argument(CHART, type=Path, help=f"write the chart here ({', '.join(CHART_SUFFIXES)})")


def add_device(parser, help: str = "auto, cpu, cuda or mps") -> None:
    parser.add_argument("--device", default="auto", help=help)


def add_method(parser) -> None:
    """The one method a command looks at (default: the registry's headline method)."""
    parser.add_argument("--method", choices=METHOD_IDS, default=HEADLINE_METHOD)


def checked_outputs(args) -> None:
    """--out and --chart (CHART_SUFFIXES), where given, before any work."""
    if getattr(args, "out", None) is not None:
        checked_output(args.out, None, OUT)
    if getattr(args, "chart", None) is not None:
        checked_output(args.chart, CHART_SUFFIXES, CHART)


def _overrides(config, args: argparse.Namespace, entries, skip=()):
    """`config` with each setting of `entries` (but those in `skip`) the command line gives."""
    for entry in entries:
        value = getattr(args, entry.dest, None) if entry.flag else None
        if value is not None and entry not in skip:
            config = entry.set(config, value)
    return config


def extract_config_from(args: argparse.Namespace) -> ExtractConfig:
    """The preset's ExtractConfig with the command line's overrides: a named model or data set
    resolved (an offline alias, a local folder or file made absolute), the data set's own
    template the starting one, and layers given as depths placed in the model."""
    base, _ = PRESETS[args.preset]
    model_id = getattr(args, MODEL_ID.dest)
    if model_id:
        base = MODEL_ID.set(base, offline_model_id(model_id) or local_or_id(model_id))
    source, name = getattr(args, SOURCE.dest), getattr(args, NAME.dest)
    dataset = base.dataset
    if source == BUNDLED and name:
        dataset = DatasetSpec(source=BUNDLED, name=name)
    elif source and source != BUNDLED:
        if not name:
            raise UserError(f"{SOURCE.flag} {source} needs {NAME.flag}.")
        dataset = DatasetSpec(source=source, name=name)
    if dataset.source == "csv" and not is_digest(dataset.name):  # a file (an upload goes by its digest)
        dataset = dataclasses.replace(dataset, name=str(Path(dataset.name).expanduser().resolve()))
    elif dataset.source == "hf":
        dataset = dataclasses.replace(dataset, name=local_or_id(dataset.name))
    if args.template:
        template = named_template(dataset, args.template)
    elif dataset.source == BUNDLED and dataset.name in BUNDLED_DATASETS:
        template = BUNDLED_DATASETS[dataset.name].template  # each bundled set's own template
    else:
        template = base.template
    config = _overrides(
        dataclasses.replace(base, dataset=dataset, template=template), args, EXTRACT_SETTINGS, (MODEL_ID, SOURCE, NAME)
    )
    if config.layers is not None:
        config = dataclasses.replace(
            config, layers=tuple(resolved_layer(value, config.model) for value in config.layers)
        )
    return with_templates(config, config.templates)


def resolved_layer(value: str, model: ModelSpec) -> int:
    """The hidden-state index `value` names in `model`; a relative depth is resolved
    through the model's depth and the resolution printed (on stderr, as progress is)."""
    if not is_depth(value):
        return resolve_layer(value, None)
    hidden_states = known_hidden_states(model)
    layer = resolve_layer(value, hidden_states, model_label(model.model_id))
    say(f"layer {value} of {model_label(model.model_id)}: {depth_label(layer, hidden_states)}", file=sys.stderr)
    return layer


def sweep_config_from(args: argparse.Namespace, model: ModelSpec | None = None) -> SweepConfig:
    """The preset's SweepConfig with the command line's overrides (a depth placed in
    `model`, by default the command line's; a named CCS optimizer under the CCS options)."""
    _, base = PRESETS[args.preset]
    if args.ccs_optimizer:
        base = dataclasses.replace(base, ccs=with_optimizer(base.ccs, args.ccs_optimizer))
    config = _overrides(base, args, SWEEP_SETTINGS)
    if getattr(args, LAYER.dest) is not None:
        config = LAYER.set(config, resolved_layer(config.layer, model or extract_config_from(args).model))
    return config


def checked_run(args: argparse.Namespace) -> tuple[ExtractConfig, SweepConfig]:
    """The run the command line describes, every setting checked before anything loads."""
    extract_config = extract_config_from(args)
    sweep_config = sweep_config_from(args, extract_config.model)
    check_run(extract_config, sweep_config)
    check_machine(args)
    return extract_config, sweep_config


def imported_run(args: argparse.Namespace) -> tuple[ImportedActivations, SweepConfig]:
    """The imported set the command line names and the sweep it describes on it: at its
    layer option (an index, or a depth when its manifest gives the model's depth), by default
    the preset's layer where the set holds it, else the set's last."""
    imported = imported_set(args.activations)
    layer = getattr(args, LAYER.dest)
    config = sweep_config_from(argparse.Namespace(**{**vars(args), LAYER.dest: None}))
    if layer is None:
        index = config.layer if config.layer in imported.layers else imported.layers[-1]
    elif is_depth(layer):
        depth = imported.activations.meta(imported.key).get("manifest", {}).get("model", {}).get("num_layers")
        if depth is None:
            raise UserError(f"The manifest of {imported.id} does not give its model's depth; name a layer by index.")
        index = resolve_layer(layer, depth + 1, imported.model)
    else:
        index = resolve_layer(layer, None)
    config = dataclasses.replace(config, layer=index)
    check_sweep(config)
    check_machine(args)
    return imported, config


def check_machine(args: argparse.Namespace) -> None:
    """The device and batch size the command line asks for."""
    check_device(args.device)
    check_batch_size(getattr(args, "batch_size", None))


def runtime_from(args: argparse.Namespace, **reporters) -> Runtime:
    """The Runtime the command line asks for: its device and batch size (checked), with
    `reporters` (progress bars, a status printer) as the command shows them."""
    check_machine(args)
    return Runtime(device=args.device, batch_size=getattr(args, "batch_size", None), **reporters)
