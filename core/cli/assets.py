"""`python -m core assets`: every offline model and data set, whether it is installed and
where, with the command that installs what is missing, and installs a model or the data sets
(a model whose license asks for it needs its license accepted too)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from core.cli.output import say
from core.data.assets import DATASET_FILE, DATASET_INSTALL_COMMAND, INSTALL_DATASET, assets_dir, install_dataset
from core.models import OFFLINE_MODELS
from core.models.convert import converted_model_dir, is_converted
from core.models.install import install_model
from core.models.offline import ACCEPT_LICENSE, INSTALL_MODEL


@dataclass(frozen=True)
class AssetStatus:
    """One line of `python -m core assets`: what, whether it is there, where, and how to get it."""

    name: str
    installed: bool
    location: str
    install_command: str


def asset_report() -> list[AssetStatus]:
    """What of the offline models and data is installed, and where."""
    rows = []
    for model_id, model in OFFLINE_MODELS.items():
        default = ", the default" if model.default else ", opt-in"
        label = (
            f"model {model_id}: {model.label} ({model.parameters} parameters, {model.blocks} layers, "
            f"width {model.hidden_size}; {model.license.split(' (')[0]}{default})"
        )
        converted = converted_model_dir(model)
        where = str(converted) if is_converted(model) else "packages installed, converted on first use"
        rows.append(
            AssetStatus(label, model.installed, where if model.installed else "-", model.install_command(model_id))
        )
    dataset = assets_dir() / DATASET_FILE
    rows.append(
        AssetStatus(
            "dataset: Hutto & Gilbert (2014) snippets (Rotten Tomatoes, Amazon, NYT, tweets)",
            dataset.is_file(),
            str(dataset),
            DATASET_INSTALL_COMMAND,
        )
    )
    return rows


def command_assets(args: argparse.Namespace) -> int:
    if args.install_dataset:
        say(f"dataset installed at {install_dataset()}")
    if args.install_model:
        folder = install_model(args.install_model, args.accept_license, status=say)
        terms = OFFLINE_MODELS[args.install_model].license_file()
        if terms is not None:
            say(f"The terms are at {terms}")
        say(f"model installed and converted at {folder}")
    for row in asset_report():
        mark = "ok " if row.installed else "MISSING"
        say(f"{mark:8}{row.name}", f"        {row.location}")
        if not row.installed:
            say(f"        install: {row.install_command}")
    return 0


def register(commands) -> None:
    """Add the `assets` command to the CLI's subparsers."""
    assets = commands.add_parser("assets", help="which offline models and data are installed, and where")
    assets.add_argument(INSTALL_DATASET, action="store_true", help="download and unpack the bundled data sets")
    assets.add_argument(
        INSTALL_MODEL,
        metavar="NAME",
        choices=list(OFFLINE_MODELS),
        help=f"install an offline model ({', '.join(OFFLINE_MODELS)}) and convert it once",
    )
    assets.add_argument(
        ACCEPT_LICENSE,
        action="store_true",
        help="accept the model's license (Gemma Terms of Use) after reading it; needed for gemma3-270m",
    )
    assets.set_defaults(run=command_assets)
