"""The one `python -m core ...` command that reproduces a dashboard view, built from the
link parameters the view's URL carries (core.settings.links), so a page, its link and its
command never disagree. Like a link, a command names no path: a model or data set in a
local folder is left out, and the page says so.
"""

from __future__ import annotations

import shlex

from core.cli.arguments import ACTIVATIONS
from core.config import BUNDLED, DatasetSpec, ExtractConfig, Template
from core.data.bundled import BUNDLED_DATASETS
from core.settings.links import DATA, extract_to_params, sweep_to_params
from core.settings.presets import DEMO
from core.settings.schema import EXTRACT_SETTINGS, link_settings
from core.settings.sweep import SweepConfig
from core.store.activation_imports import ImportedActivations

# Each link parameter's setting, and the options of a link's data set (its DATA parameter's
# parts, in order) and template (for where the command line's template differs).
SETTING_OF_PARAM = {entry.param: entry for entry in link_settings()}
DATA_OPTIONS = tuple(entry.flag for entry in EXTRACT_SETTINGS if entry.path[0] == "dataset")
TEMPLATE_TEXTS = tuple(entry for entry in EXTRACT_SETTINGS if entry.path[0] == "template" and not entry.many)


def cli_template(dataset: DatasetSpec) -> Template:
    """The template the command line starts from for `dataset`: a bundled set's own, else
    the demo's (core.cli.arguments.extract_config_from)."""
    if dataset.source == BUNDLED and dataset.name in BUNDLED_DATASETS:
        return BUNDLED_DATASETS[dataset.name].template
    return DEMO[0].template


def run_arguments(
    extract: ExtractConfig | ImportedActivations, sweep: SweepConfig, skip: tuple[str, ...] = ()
) -> list[str]:
    """The options that make `python -m core` run (extract, sweep): one per link parameter
    (those in `skip` left out), plus every part of the template where the command line's
    starting template differs from the link's (a link starts from the demo's). On an
    imported set, its id and the sweep's options."""
    if isinstance(extract, ImportedActivations):
        return [ACTIVATIONS, extract.id, *run_arguments(DEMO[0], sweep, skip)]
    params = {**extract_to_params(extract), **sweep_to_params(sweep)}
    arguments: list[str] = []
    for name, value in params.items():
        if name in skip:
            continue
        if name == DATA:
            parts = value.split(":")
            count = 2 if parts[0] == BUNDLED else len(parts)
            arguments += [item for option, part in zip(DATA_OPTIONS[:count], parts) if part for item in (option, part)]
        else:
            entry = SETTING_OF_PARAM[name]
            arguments += [entry.flag] if entry.about.const is not None else [entry.flag, value]
    start = cli_template(extract.dataset)
    for entry in TEMPLATE_TEXTS:
        text = entry.get(extract)
        if text != entry.get(ExtractConfig(template=start)) and entry.flag not in arguments:
            arguments += [entry.flag, text]
    return arguments


def command_line(command: str, arguments: list[str]) -> str:
    """`python -m core COMMAND ARGUMENTS...`, each argument quoted for a POSIX shell."""
    return " ".join(["python -m core", command, *(shlex.quote(argument) for argument in arguments)])


def names_local_files(extract: ExtractConfig | ImportedActivations) -> bool:
    """Whether the run reads a model or data from a folder or file of this machine, which
    no link or command carries (an imported set goes by its id)."""
    if isinstance(extract, ImportedActivations):
        return False
    params = extract_to_params(extract)
    model_local = extract.model.model_id != DEMO[0].model.model_id and "model" not in params
    data_local = extract.dataset != DEMO[0].dataset and "data" not in params
    return model_local or data_local
