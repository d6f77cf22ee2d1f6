"""The options that choose a run on the command line, and the configs they make: the preset's
configs with the command line's overrides (the same dataclasses the dashboard and links use).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from core.cli.output import say
from core.config import BUNDLED, DatasetSpec, ExtractConfig, ModelSpec
from core.data.bundled import BUNDLED_DATASETS
from core.data.prompts import TEMPLATES
from core.errors import UserError
from core.extraction.models import check_device
from core.metrics import METRICS
from core.models import OFFLINE_MODELS, model_label, offline_model_id
from core.models.depth import depth_label, is_depth, resolve_layer
from core.models.known import known_hidden_states
from core.names import is_digest, local_or_id
from core.normalizations import NORMALIZATION_REGISTRY, NORMALIZATIONS
from core.probes import METHOD_IDS
from core.settings.presets import PRESETS, with_optimizer
from core.settings.sweep import TEST_NORMALIZATIONS, SweepConfig
from core.settings.validate import check_number, check_run


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


def seed_list(text: str) -> tuple[int, ...]:
    """Seeds as a link writes them: a count N (seeds 0..N-1) or a comma-separated list."""
    return comma_ints(text) if "," in text else tuple(range(comma_ints(text)[0] if text.strip() else 0))


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose model, data, template and extraction (defaults: the preset)."""
    group = parser.add_argument_group("extraction")
    group.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="starting point (default: demo)")
    group.add_argument(
        "--model",
        help=f"an offline model ({', '.join(OFFLINE_MODELS)}; bundled is SmolLM2-135M-Instruct), "
        "a Hugging Face model id, or a local checkpoint folder",
    )
    group.add_argument("--revision", help="model revision (hub models)")
    group.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"])
    group.add_argument("--trust-remote-code", action="store_true", help="run model code from the hub (off by default)")
    group.add_argument("--dataset", choices=["bundled", "hf", "csv"], help="dataset source")
    group.add_argument(
        "--dataset-name",
        help="a bundled set (" + ", ".join(BUNDLED_DATASETS) + "), a hub dataset id "
        "or local folder (hf), or a file path (csv)",
    )
    group.add_argument("--dataset-config", help="hub dataset config")
    group.add_argument("--split", help="dataset split (hf)")
    group.add_argument("--text-column")
    group.add_argument("--label-column")
    group.add_argument("--positive-label", help="label value whose + completion is true, for non-0/1 labels")
    group.add_argument(
        "--template",
        choices=list(TEMPLATES),
        help="a named template to start from: "
        + "; ".join(f"{name}: {label}" for name, (label, _) in TEMPLATES.items()),
    )
    group.add_argument("--prompt", help="prompt with one {text} slot")
    group.add_argument("--positive", help="completion making x+ (default ' positive')")
    group.add_argument("--negative", help="completion making x- (default ' negative')")
    group.add_argument(
        "--distractor",
        type=comma_words,
        help="two words, e.g. Banana,Shed: one ends x+ and the other x-, which side at random for half of each class",
    )
    group.add_argument("--n-examples", type=int, help="balanced number of examples to extract")
    group.add_argument("--selection-seed", type=int)
    group.add_argument(
        "--layers", type=comma_words, help="hidden-state indices or depths (75%%, middle, last) to keep (default: all)"
    )
    group.add_argument("--max-tokens", type=int, help="drop examples whose x+ or x- is longer")
    group.add_argument("--float16", action="store_true", help="store activations as float16")
    group.add_argument("--batch-size", type=int, help="sequences per forward pass")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the imbalance sweep (defaults: the preset)."""
    group = parser.add_argument_group("sweep")
    group.add_argument(
        "--layer", help="hidden-state index to probe, or a depth: 75%% (of the model's layers), middle or last"
    )
    group.add_argument("--p-levels", type=comma_floats, help="comma-separated fractions of true-+ training pairs")
    group.add_argument("--n-train", type=int)
    group.add_argument("--n-test", type=int)
    group.add_argument("--seeds", type=seed_list, help="number of seeds N (seeds 0..N-1), or a list: 0,3,7")
    group.add_argument("--split-seed", type=int, help="the seed that fixes the balanced test split")
    group.add_argument("--methods", type=comma_words, help=f"comma-separated subset of {','.join(METHOD_IDS)}")
    group.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        help="per-side normalization or remedy: "
        + " ".join(f"{norm.id}: {norm.description}" for norm in NORMALIZATION_REGISTRY.values()),
    )
    group.add_argument(
        "--negated-prompt",
        help="negation_pooled's negated question, with one {text} slot (default: the prompt + ' not')",
    )
    group.add_argument("--test-normalization", choices=TEST_NORMALIZATIONS)
    group.add_argument(
        "--ccs-optimizer",
        choices=["reference", "fast"],
        help="reference: 1000 AdamW epochs at lr 1e-3 (the default, for published numbers); "
        "fast: 500 epochs at lr 2e-3 (agrees with the reference on the demo, see make bench)",
    )
    group.add_argument("--epochs", type=int, help="CCS epochs per restart (reference: 1000)")
    group.add_argument("--lr", type=float, help="CCS AdamW learning rate (reference: 1e-3)")
    group.add_argument("--restarts", type=int, help="CCS restarts (reference: 10)")


def add_output_arguments(parser: argparse.ArgumentParser, table: str = "the per-cell results CSV") -> None:
    """The metric a command reports, and the files it writes (checked before any work)."""
    group = parser.add_argument_group("output")
    group.add_argument("--metric", choices=list(METRICS), default="accuracy", help="metric of table and chart")
    group.add_argument("--out", type=Path, help=f"write {table} here")
    group.add_argument("--chart", type=Path, help="write the chart here (.png, .svg or .html)")


def _replace(obj, **changes):
    return dataclasses.replace(obj, **{k: v for k, v in changes.items() if v is not None})


def extract_config_from(args: argparse.Namespace) -> ExtractConfig:
    """The preset's ExtractConfig with the command line's overrides."""
    base, _ = PRESETS[args.preset]
    model = _replace(
        base.model,
        model_id=(offline_model_id(args.model) or local_or_id(args.model)) if args.model else None,
        revision=args.revision,
        dtype=args.dtype,
        trust_remote_code=True if args.trust_remote_code else None,
    )
    dataset = base.dataset
    if args.dataset == BUNDLED and args.dataset_name:
        dataset = DatasetSpec(source=BUNDLED, name=args.dataset_name)
    elif args.dataset and args.dataset != BUNDLED:
        if not args.dataset_name:
            raise UserError(f"--dataset {args.dataset} needs --dataset-name.")
        dataset = DatasetSpec(source=args.dataset, name=args.dataset_name)
    if dataset.source == "csv" and not is_digest(dataset.name):  # a file (an upload goes by its digest)
        dataset = _replace(dataset, name=str(Path(dataset.name).expanduser().resolve()))
    elif dataset.source == "hf":
        dataset = _replace(dataset, name=local_or_id(dataset.name))
    dataset = _replace(
        dataset,
        config=args.dataset_config,
        split=args.split,
        text_column=args.text_column,
        label_column=args.label_column,
        positive_label=args.positive_label,
    )
    if args.template:
        template = TEMPLATES[args.template][1]
    elif dataset.source == BUNDLED and dataset.name in BUNDLED_DATASETS:
        template = BUNDLED_DATASETS[dataset.name].template  # each bundled set's own template
    else:
        template = base.template
    template = _replace(
        template, prompt=args.prompt, positive=args.positive, negative=args.negative, distractor=args.distractor
    )
    return _replace(
        base,
        model=model,
        dataset=dataset,
        template=template,
        n_examples=args.n_examples,
        selection_seed=args.selection_seed,
        layers=None if args.layers is None else tuple(resolved_layer(value, model) for value in args.layers),
        max_tokens=args.max_tokens,
        storage_dtype="float16" if args.float16 else None,
    )


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
    `model`, by default the command line's)."""
    _, base = PRESETS[args.preset]
    ccs = with_optimizer(base.ccs, args.ccs_optimizer) if args.ccs_optimizer else base.ccs
    ccs = _replace(ccs, epochs=args.epochs, lr=args.lr, restarts=args.restarts)
    return _replace(
        base,
        layer=None if args.layer is None else resolved_layer(args.layer, model or extract_config_from(args).model),
        p_levels=args.p_levels,
        n_train=args.n_train,
        n_test=args.n_test,
        seeds=args.seeds,
        split_seed=args.split_seed,
        methods=args.methods,
        normalization=args.normalization,
        test_normalization=args.test_normalization,
        ccs=ccs,
        negated_prompt=args.negated_prompt,
    )


def checked_run(args: argparse.Namespace) -> tuple[ExtractConfig, SweepConfig]:
    """The run the command line describes, every setting checked before anything loads."""
    extract_config = extract_config_from(args)
    sweep_config = sweep_config_from(args, extract_config.model)
    check_run(extract_config, sweep_config)
    check_device(args.device)
    if args.batch_size is not None:
        check_number("batch_size", args.batch_size)
    return extract_config, sweep_config
