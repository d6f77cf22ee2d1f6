"""Progress bars with an ETA, as (done, total, message) callbacks that core accepts, and
the extract-then-sweep run that pages start from a button, drawn with them."""

from __future__ import annotations

import time

import streamlit as st

from core.experiments.cells import SweepResult
from core.experiments.pipeline import run_imported, run_pipeline
from core.extraction.runtime import Runtime
from core.settings.sweep import SweepConfig
from core.store.activation_imports import ImportedActivations
from ui.cache import model_loader
from ui.render import plain
from ui.serving import limits, uploads_folder
from ui.state import Source

# Redraw at most this often: every redraw is a message the server thread serializes and
# sends, and it competes with the computation for the interpreter.
MIN_INTERVAL_S = 0.25


def progress_callback(label: str):
    """A callback that draws a progress bar under `label` with elapsed time and ETA. The
    bar appears at the first update, so a step served from the cache shows none."""
    slot = st.empty()
    bar = None
    started = last_drawn = 0.0

    def update(done: int, total: int, message: str) -> None:
        nonlocal bar, started, last_drawn
        now = time.perf_counter()
        if bar is None:
            bar, started = slot.progress(0.0, text=label), now
        elif now - last_drawn < MIN_INTERVAL_S and done < total:
            return
        last_drawn = now
        fraction = min(1.0, done / max(total, 1))
        elapsed = now - started
        eta = f", about {elapsed / fraction - elapsed:.0f} s left" if 0.02 < fraction < 1 else ""
        bar.progress(fraction, text=f"{label}: {message} ({elapsed:.0f} s{eta})")

    return update


def dashboard_runtime(**reporters) -> Runtime:
    """The dashboard's runtime: models kept in memory (ui.cache), this session's uploads,
    this server's limits, and `reporters` (progress bars, a status box) as the page draws them."""
    return Runtime(loader=model_loader, uploads=uploads_folder(), limits=limits(), **reporters)


def run_with_progress(source: Source, sweep: SweepConfig, running: str, finished: str) -> SweepResult:
    """core.experiments.pipeline.run_pipeline in a status box labelled `running`, with progress bars for
    extraction and training, collapsed under `finished` when done; the settings are
    checked first (with shared mode's caps on a shared server). On an imported set, its
    sweep, kept in its own store. Raises UserError."""
    with st.status(running, expanded=True) as status:
        reporters = {
            "extract_progress": progress_callback("Extracting hidden states"),
            "sweep_progress": progress_callback("Training probes"),
            "status": lambda message: status.write(plain(message)),
        }
        runtime = dashboard_runtime(**reporters)
        if isinstance(source, ImportedActivations):
            result = run_imported(source, sweep, runtime)
        else:
            result = run_pipeline(source, sweep, runtime).sweep
        status.update(label=finished, state="complete", expanded=False)
    return result
