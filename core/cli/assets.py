"""`python -m core assets`: what of the offline default is installed, and where, with the
command that installs what is missing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from core.data.assets import DATASET_FILE, DATASET_INSTALL_COMMAND, assets_dir, install_dataset
from core.errors import UserError
from core.extraction.offline_model import MODEL_INSTALL_COMMAND, bundled_gguf_path, converted_model_dir


@dataclass(frozen=True)
class AssetStatus:
    """One line of `python -m core assets`: what, whether it is there, where, and how to get it."""

    name: str
    installed: bool
    location: str
    install_command: str


def asset_report() -> list[AssetStatus]:
    """What of the offline default is installed, and where."""
    rows = []
    gguf_label = "model: SmolLM2-135M-Instruct (GGUF)"
    try:
        rows.append(AssetStatus(gguf_label, True, str(bundled_gguf_path()), MODEL_INSTALL_COMMAND))
    except UserError:
        rows.append(AssetStatus(gguf_label, False, "-", MODEL_INSTALL_COMMAND))
    converted = converted_model_dir()
    rows.append(
        AssetStatus(
            "model: converted safetensors checkpoint",
            (converted / "config.json").is_file(),
            str(converted),
            "made on first use",
        )
    )
    dataset = assets_dir() / DATASET_FILE
    rows.append(
        AssetStatus(
            "dataset: Rotten Tomatoes snippets (Hutto & Gilbert 2014)",
            dataset.is_file(),
            str(dataset),
            DATASET_INSTALL_COMMAND,
        )
    )
    return rows


def command_assets(args: argparse.Namespace) -> int:
    if args.install_dataset:
        print(f"dataset installed at {install_dataset()}")
    for row in asset_report():
        mark = "ok " if row.installed else "MISSING"
        print(f"{mark:8}{row.name}\n        {row.location}")
        if not row.installed:
            print(f"        install: {row.install_command}")
    return 0


def register(commands) -> None:
    """Add the `assets` command to the CLI's subparsers."""
    assets = commands.add_parser("assets", help="what of the offline default is installed, and where")
    assets.add_argument("--install-dataset", action="store_true", help="download and unpack the bundled dataset")
    assets.set_defaults(run=command_assets)
