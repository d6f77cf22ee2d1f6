"""How work runs on this machine, as one object: made once by the command line or the
dashboard and handed down whole, so no layer threads a device, a store or a progress bar
through its signatures, and shared mode is a property of it (its `limits`)."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.config import ProgressFn
from core.errors import UserError
from core.extraction.models import LoadedModel, load_model, pick_device
from core.settings.limits import OWNER, Limits
from core.store.activation_imports import ImportedActivations
from core.store.activations import ActivationStore
from core.store.sweeps import SweepStore


@dataclass(frozen=True)
class Runtime:
    """Where and how a run works: the `device` ("auto", "cpu", "cuda", "mps" or a
    torch.device) and `batch_size` (None: the device's default), the stores it reads and
    writes, the `loader` that loads a model on a cache miss (the dashboard's keeps it in
    memory), the folder uploaded CSVs are read from, what this server allows (`limits`),
    and where progress goes: `extract_progress` and `sweep_progress` (done, total,
    message) and `status` (one line)."""

    device: str | torch.device = "auto"
    batch_size: int | None = None
    activations: ActivationStore = field(default_factory=ActivationStore)
    sweeps: SweepStore = field(default_factory=SweepStore)
    loader: Callable[..., LoadedModel] = load_model
    uploads: Path | None = None
    limits: Limits = OWNER
    extract_progress: ProgressFn | None = None
    sweep_progress: ProgressFn | None = None
    status: Callable[[str], None] | None = None

    @functools.cached_property
    def torch_device(self) -> torch.device:
        return self.device if isinstance(self.device, torch.device) else pick_device(self.device)

    def say(self, message: str) -> None:
        """Report one line of status, if anyone listens."""
        if self.status is not None:
            self.status(message)

    def report(self, done: int, total: int, message: str) -> None:
        """Report extraction progress, if anyone listens."""
        if self.extract_progress is not None:
            self.extract_progress(done, total, message)

    def for_import(self, imported: ImportedActivations) -> Runtime:
        """This runtime reading and writing an imported activation set's own stores, so that
        what is trained on it stays with it, apart from this machine's results."""
        return dataclasses.replace(self, activations=imported.activations, sweeps=imported.sweeps)

    def timed(self) -> Runtime:
        """This runtime with its progress reporters stopping the work (a UserError at the next
        report, caching nothing partial) once `limits.work_seconds` have passed from now."""
        if self.limits.work_seconds is None:
            return self
        started = time.monotonic()
        return dataclasses.replace(
            self,
            extract_progress=with_deadline(self.extract_progress, started, self.limits.work_seconds),
            sweep_progress=with_deadline(self.sweep_progress, started, self.limits.work_seconds),
        )


def with_deadline(progress: ProgressFn | None, started: float, seconds: float) -> ProgressFn:
    """`progress` (or nothing) that raises a UserError once `seconds` have passed since
    `started` (time.monotonic); every long loop reports progress, so the run stops there
    and nothing partial is cached."""

    def report(done: int, total: int, message: str) -> None:
        if time.monotonic() - started > seconds:
            raise UserError(
                f"This shared server stops a run after {seconds / 60:.0f} minutes; ask for fewer "
                "examples, seeds or epochs, or a smaller model."
            )
        if progress is not None:
            progress(done, total, message)

    return report
