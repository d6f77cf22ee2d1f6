"""The one `python -m core ...` command that reproduces a dashboard view, built from the
link parameters the view's URL carries (core.settings.links), so a page, its link and its
command never disagree. Like a link, a command names no path: a model or data set in a
local folder is left out, and the page says so.
"""

from __future__ import annotations

import shlex

from core.config import BUNDLED, DatasetSpec, ExtractConfig, Template
from core.data.bundled import BUNDLED_DATASETS
from core.settings.links import extract_to_params, sweep_to_params
from core.settings.presets import DEMO
from core.settings.sweep import SweepConfig

# Each link parameter and the option of `python -m core` that sets the same field.
OPTION_OF_PARAM = {
    "model": "--model",
    "n": "--n-examples",
    "prompt": "--prompt",
    "pos": "--positive",
    "neg": "--negative",
    "distractor": "--distractor",
    "layer": "--layer",
    "p": "--p-levels",
    "n_train": "--n-train",
    "n_test": "--n-test",
    "split_seed": "--split-seed",
    "seeds": "--seeds",
    "methods": "--methods",
    "norm": "--normalization",
    "test_norm": "--test-normalization",
    "negated": "--negated-prompt",
    "epochs": "--epochs",
    "lr": "--lr",
    "restarts": "--restarts",
}
# The parts of a link's `data` parameter (source:name:config:split:text:label:positive).
DATA_OPTIONS = (
    "--dataset",
    "--dataset-name",
    "--dataset-config",
    "--split",
    "--text-column",
    "--label-column",
    "--positive-label",
)
TEMPLATE_OPTIONS = {"prompt": "--prompt", "positive": "--positive", "negative": "--negative"}


def cli_template(dataset: DatasetSpec) -> Template:
    """The template the command line starts from for `dataset`: a bundled set's own, else
    the demo's (core.cli.arguments.extract_config_from)."""
    if dataset.source == BUNDLED and dataset.name in BUNDLED_DATASETS:
        return BUNDLED_DATASETS[dataset.name].template
    return DEMO[0].template


def run_arguments(extract: ExtractConfig, sweep: SweepConfig, skip: tuple[str, ...] = ()) -> list[str]:
    """The options that make `python -m core` run (extract, sweep): one per link parameter
    (those in `skip` left out), plus every part of the template where the command line's
    starting template differs from the link's (a link starts from the demo's)."""
    params = {**extract_to_params(extract), **sweep_to_params(sweep)}
    arguments: list[str] = []
    for name, value in params.items():
        if name in skip:
            continue
        if name == "data":
            parts = value.split(":")
            count = 2 if parts[0] == BUNDLED else len(parts)
            arguments += [item for option, part in zip(DATA_OPTIONS[:count], parts) if part for item in (option, part)]
        else:
            arguments += [OPTION_OF_PARAM[name], value]
    start = cli_template(extract.dataset)
    for field, option in TEMPLATE_OPTIONS.items():
        if getattr(extract.template, field) != getattr(start, field) and option not in arguments:
            arguments += [option, getattr(extract.template, field)]
    return arguments


def command_line(command: str, arguments: list[str]) -> str:
    """`python -m core COMMAND ARGUMENTS...`, each argument quoted for a POSIX shell."""
    return " ".join(["python -m core", command, *(shlex.quote(argument) for argument in arguments)])


def names_local_files(extract: ExtractConfig) -> bool:
    """Whether the run reads a model or data from a folder or file of this machine, which
    no link or command carries."""
    params = extract_to_params(extract)
    model_local = extract.model.model_id != DEMO[0].model.model_id and "model" not in params
    data_local = extract.dataset != DEMO[0].dataset and "data" not in params
    return model_local or data_local
